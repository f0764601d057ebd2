"""Discussion of a proposal: comments with one level of replies, oldest first (cursor pages); admins hide a
comment with a reason that its author sees, while others see a placeholder."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.deliberation import council, lifecycle, notices, policies, queries
from app.deliberation.models import ProposalComment
from app.deliberation.schemas import CommentCreate
from app.deliberation.writes import rowcount
from app.users.models import User

_C = ProposalComment.__table__.c


def _shaped(p: Principal, c: ProposalComment, author_name: str, on_council: bool) -> dict:
    hidden = c.hidden_at is not None
    shown = not hidden or policies.sees_hidden_comment(p, c.author_id, on_council)
    return {"id": c.id, "proposal_id": c.proposal_id, "parent_id": c.parent_id,
            "author": {"id": c.author_id, "display_name": author_name} if shown else None,
            "body": c.body if shown else None, "hidden": hidden,
            "hidden_reason": c.hidden_reason if hidden and shown else None,
            "reply_count": c.reply_count, "created_at": c.created_at}


async def add_comment(db: AsyncSession, p: Principal, proposal_id: int, data: CommentCreate) -> dict:
    prop, facts, on_council = await queries.load_visible(db, p, proposal_id)
    if not policies.can_comment(p, facts, on_council):
        raise NotPermitted()
    if not policies.comments_open(facts):
        raise lifecycle.InvalidTransition(details={"state": facts.state, "action": "comment"})
    if data.parent_id is not None:
        # replies go one level deep: the parent is a top-level comment of this proposal
        bumped = await rowcount(db, update(ProposalComment).where(
            ProposalComment.id == data.parent_id, ProposalComment.proposal_id == prop.id,
            ProposalComment.parent_id.is_(None)).values(reply_count=ProposalComment.reply_count + 1)
            .execution_options(synchronize_session=False))
        if bumped != 1:
            raise InvalidInput("invalid_reference", {"field": "parent_id", "value": data.parent_id,
                                                     "reason": "a top-level comment of this proposal"})
    c = ProposalComment(proposal_id=prop.id, parent_id=data.parent_id, author_id=p.user_id, body=data.body,
                        reply_count=0, created_at=datetime.now(UTC))
    db.add(c)
    await db.flush()
    name = (await db.execute(select(User.display_name).where(User.id == p.user_id))).scalar_one()
    return _shaped(p, c, name, on_council)


async def list_comments(db: AsyncSession, p: Principal, proposal_id: int, *, parent_id: int | None, limit: int,
                        cursor: str | None) -> dict:
    _, _, on_council = await queries.load_visible(db, p, proposal_id)
    stmt = (select(ProposalComment, User.display_name).join(User, User.id == ProposalComment.author_id)
            .where(ProposalComment.proposal_id == proposal_id,
                   ProposalComment.parent_id.is_(None) if parent_id is None
                   else ProposalComment.parent_id == parent_id))
    stmt = keyset(stmt, [_C.created_at, _C.id], [datetime, int], cursor, limit)
    rows = (await db.execute(stmt)).all()
    items, nxt = page_of(rows, limit, lambda r: (r[0].created_at, r[0].id))
    return {"items": [_shaped(p, c, name, on_council) for c, name in items], "next_cursor": nxt}


async def hide_comment(db: AsyncSession, p: Principal, comment_id: int, reason: str) -> dict:
    c = await db.get(ProposalComment, comment_id)
    if c is None:
        raise NotFound()
    prop, _, on_council = await queries.load_visible(db, p, c.proposal_id)
    if not policies.can_hide_comment(p, on_council):
        raise NotPermitted()
    done = await rowcount(db, update(ProposalComment).where(ProposalComment.id == c.id,
                                                          ProposalComment.hidden_at.is_(None))
                            .values(hidden_at=datetime.now(UTC), hidden_reason=reason, hidden_by_id=p.user_id)
                            .execution_options(synchronize_session=False))
    if done != 1:
        raise lifecycle.InvalidTransition(details={"state": "hidden", "action": "hide"})
    await db.refresh(c)
    await notices.tell_about_proposal(db, prop, "proposal.comment_hidden", [c.author_id], p.user_id, note=reason)
    name = (await db.execute(select(User.display_name).where(User.id == c.author_id))).scalar_one()
    return _shaped(p, c, name, await council.is_council(db, p, prop.community_path, prop.community_id))
