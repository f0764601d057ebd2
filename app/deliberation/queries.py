"""Read side of proposals: the visibility-checked load, detail, the community's list, the timeline, the
per-community support threshold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.errors import NotFound
from app.core.pagination import keyset, page_of
from app.deliberation import council, lifecycle, policies
from app.deliberation.lifecycle import ProposalFacts, State
from app.deliberation.models import (
    DeliberationSetting,
    MicroProject,
    Proposal,
    ProposalEvent,
    ProposalSupport,
    Vote,
)
from app.deliberation.photos import Sign, photos_of
from app.org.models import Grid, GridLevel
from app.users.models import Role, User

DEFAULT_SUPPORT_THRESHOLD = 10


def facts_of(prop: Proposal) -> ProposalFacts:
    return ProposalFacts(state=State(prop.state), proposer_id=prop.proposer_id, community_id=prop.community_id,
                         community_path=prop.community_path)


async def load_visible(db: AsyncSession, p: Principal, proposal_id: int) -> tuple[Proposal, ProposalFacts, bool]:
    """The proposal, its facts and whether the caller sits on its council; 404 when the caller may not see it
    (a resident of another community learns nothing, not even that it exists)."""
    prop = await db.get(Proposal, proposal_id, populate_existing=True)
    if prop is None:
        raise NotFound()
    facts = facts_of(prop)
    on_council = await council.is_council(db, p, prop.community_path, prop.community_id)
    if not policies.can_see(p, facts, on_council):
        raise NotFound()
    return prop, facts, on_council


async def support_threshold(db: AsyncSession, community_id: int) -> tuple[int, bool]:
    """(threshold, is_default) of a community."""
    found = (await db.execute(select(DeliberationSetting.support_threshold)
                              .where(DeliberationSetting.community_id == community_id))).scalar_one_or_none()
    return (DEFAULT_SUPPORT_THRESHOLD, True) if found is None else (found, False)


def visible_sql(p: Principal) -> ColumnElement[bool]:
    """The SQL mirror of policies.can_see, for lists."""
    if p.role is Role.resident and p.community_id is not None:
        return Proposal.community_id == p.community_id
    if p.is_admin and p.scope_path:
        return Proposal.community_path.startswith(p.scope_path, autoescape=True)
    return false()


def _person(user_id: int, name: str) -> dict:
    return {"id": user_id, "display_name": name}


_SUMMARY = (Proposal.id, Proposal.community_id, Proposal.title, Proposal.category, Proposal.state, Proposal.outcome,
            Proposal.version, Proposal.support_count, Proposal.proposer_id, Proposal.created_at,
            User.display_name.label("proposer_name"))


def _summary(r) -> dict:
    return {"id": r.id, "community_id": r.community_id, "title": r.title, "category": r.category, "state": r.state,
            "outcome": r.outcome, "version": r.version, "support_count": r.support_count,
            "proposer": _person(r.proposer_id, r.proposer_name), "created_at": r.created_at}


async def list_proposals(db: AsyncSession, p: Principal, *, states: list[State] | None, community_id: int | None,
                         limit: int, cursor: str | None) -> dict:
    stmt = select(*_SUMMARY).join(User, User.id == Proposal.proposer_id).where(visible_sql(p))
    if states:
        stmt = stmt.where(Proposal.state.in_([s.value for s in states]))
    if community_id is not None:
        stmt = stmt.where(Proposal.community_id == community_id)
    t = Proposal.__table__.c
    stmt = keyset(stmt, [t.created_at, t.id], [datetime, int], cursor, limit, descending=True)
    rows = (await db.execute(stmt)).all()
    items, nxt = page_of(rows, limit, lambda r: (r.created_at, r.id))
    return {"items": [_summary(r) for r in items], "next_cursor": nxt}


async def proposal_detail(db: AsyncSession, p: Principal, proposal_id: int, sign: Sign) -> dict:
    prop, facts, on_council = await load_visible(db, p, proposal_id)
    row = (await db.execute(
        select(User.display_name,
               exists().where(ProposalSupport.proposal_id == prop.id,
                              ProposalSupport.user_id == p.user_id).label("supported"),
               exists().where(Vote.proposal_id == prop.id).label("has_vote"),
               select(MicroProject.id).where(MicroProject.proposal_id == prop.id).scalar_subquery().label("project"))
        .where(User.id == prop.proposer_id))).one()
    threshold, _ = await support_threshold(db, prop.community_id)
    photos = await photos_of(db, sign, proposal_ids=[prop.id])
    return {
        "id": prop.id, "community_id": prop.community_id, "title": prop.title, "category": prop.category,
        "state": prop.state, "outcome": prop.outcome, "version": prop.version, "support_count": prop.support_count,
        "proposer": _person(prop.proposer_id, row.display_name), "created_at": prop.created_at, "body": prop.body,
        "estimated_cost": prop.estimated_cost, "cost": prop.cost, "support_threshold": threshold,
        "supported_by_me": bool(row.supported), "declined_reason": prop.declined_reason,
        "plan_text": prop.plan_text, "notice_starts_at": prop.notice_starts_at, "notice_ends_at": prop.notice_ends_at,
        "reserved_amount": prop.reserved_amount, "has_vote": bool(row.has_vote), "project_id": row.project,
        "decided_at": prop.decided_at, "updated_at": prop.updated_at,
        "photos": photos.get(("proposal", prop.id), []),
        "allowed_actions": [a.value for a in lifecycle.allowed_actions(p, facts, on_council)],
        "can_support": policies.can_support(p, facts) and policies.support_open(facts) and not row.supported,
    }


async def timeline(db: AsyncSession, p: Principal, proposal_id: int) -> list[dict]:
    await load_visible(db, p, proposal_id)
    rows = (await db.execute(
        select(ProposalEvent, User.display_name).outerjoin(User, User.id == ProposalEvent.actor_id)
        .where(ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.id))).all()
    return [{"id": e.id, "action": e.action, "actor_role": e.actor_role,
             "actor": _person(e.actor_id, name) if e.actor_id is not None else None, "from_state": e.from_state,
             "to_state": e.to_state, "note": e.note, "data": e.data, "created_at": e.created_at} for e, name in rows]


async def community_path(db: AsyncSession, community_id: int) -> str | None:
    """The path of a community-level node (None if there is no such community)."""
    return (await db.execute(select(Grid.path).where(Grid.id == community_id, Grid.level == GridLevel.community))
            ).scalar_one_or_none()
