"""Announcements (公告): staff publish to a node of the grid tree; residents read what is above their building,
pinned first, newest first; a deliberation result is published by the system."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.announcements import policies
from app.announcements.models import Announcement
from app.announcements.schemas import AnnouncementCreate
from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.notifications.service import notify
from app.org.models import Grid
from app.users.models import Role, User

_A = Announcement.__table__.c


def _read(a: Announcement) -> dict:
    return {"id": a.id, "grid_id": a.grid_id, "title": a.title, "body": a.body, "pinned": a.pinned,
            "expires_at": a.expires_at, "proposal_id": a.proposal_id, "withdrawn": a.withdrawn_at is not None,
            "created_at": a.created_at}


async def _home_path(db: AsyncSession, p: Principal) -> str | None:
    if p.building_id is None:
        return None
    return (await db.execute(select(Grid.path).where(Grid.id == p.building_id))).scalar_one_or_none()


async def _residents_under(db: AsyncSession, path: str) -> list[int]:
    return list((await db.execute(
        select(User.id).join(Grid, Grid.id == User.building_id)
        .where(User.role == Role.resident, User.is_active.is_(True),
               Grid.path.startswith(path, autoescape=True)))).scalars())


async def publish(db: AsyncSession, p: Principal, data: AnnouncementCreate) -> dict:
    if not p.is_admin:
        raise NotPermitted()
    node = await db.get(Grid, data.grid_id)
    if node is None or node.retired_at is not None or not policies.can_publish(p, node.path):
        raise InvalidInput("invalid_reference", {"grid_id": data.grid_id})
    now = datetime.now(UTC)
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidInput("validation_error", {"field": "expires_at", "reason": "must be in the future"})
    a = Announcement(grid_id=node.id, grid_path=node.path, title=data.title, body=data.body, pinned=data.pinned,
                     expires_at=data.expires_at, author_id=p.user_id, created_at=now)
    db.add(a)
    await db.flush()
    await notify(db, await _residents_under(db, node.path), "announcement.published", object_type="announcement",
                 object_id=a.id, link=f"/api/v1/announcements/{a.id}", params={"title": a.title}, exclude=p.user_id)
    return _read(a)


async def publish_result(db: AsyncSession, *, grid_id: int, grid_path: str, title: str, body: str,
                         proposal_id: int, now: datetime) -> int:
    """The system publishes a decided proposal's result to its community (its residents are told by the vote's
    own notice, so no second notification here)."""
    a = Announcement(grid_id=grid_id, grid_path=grid_path, title=title, body=body, pinned=False, author_id=None,
                     proposal_id=proposal_id, created_at=now)
    db.add(a)
    await db.flush()
    return a.id


def _visible(p: Principal, home_path: str | None, now: datetime) -> ColumnElement[bool]:
    if p.role is Role.resident:
        if home_path is None:
            return false()
        return (Announcement.grid_id.in_(policies.ancestors(home_path)) & Announcement.withdrawn_at.is_(None)
                & or_(Announcement.expires_at.is_(None), Announcement.expires_at > now))
    if p.is_admin and p.scope_path:
        return Announcement.grid_path.startswith(p.scope_path, autoescape=True)
    return false()


async def list_announcements(db: AsyncSession, p: Principal, *, limit: int, cursor: str | None) -> dict:
    """Pinned first, then newest first; residents see what is live for their building, admins their scope."""
    now = datetime.now(UTC)
    stmt = select(Announcement).where(_visible(p, await _home_path(db, p), now))
    stmt = keyset(stmt, [_A.pinned, _A.created_at, _A.id], [bool, datetime, int],
                  cursor, limit, descending=True)
    rows = (await db.execute(stmt)).scalars().all()
    items, nxt = page_of(rows, limit, lambda a: (a.pinned, a.created_at, a.id))
    return {"items": [_read(a) for a in items], "next_cursor": nxt}


async def _load(db: AsyncSession, p: Principal, announcement_id: int) -> Announcement:
    now = datetime.now(UTC)
    a = (await db.execute(select(Announcement).where(Announcement.id == announcement_id,
                                                     _visible(p, await _home_path(db, p), now)))).scalar_one_or_none()
    if a is None:
        raise NotFound()
    return a


async def get_announcement(db: AsyncSession, p: Principal, announcement_id: int) -> dict:
    return _read(await _load(db, p, announcement_id))


async def withdraw(db: AsyncSession, p: Principal, announcement_id: int) -> dict:
    a = await _load(db, p, announcement_id)
    if not policies.can_publish(p, a.grid_path):
        raise NotPermitted()
    await db.execute(update(Announcement).where(Announcement.id == a.id, Announcement.withdrawn_at.is_(None))
                     .values(withdrawn_at=datetime.now(UTC)).execution_options(synchronize_session=False))
    await db.refresh(a)
    return _read(a)


