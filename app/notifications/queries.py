"""Reading the inbox: a user's own notifications only, newest first, keyset-paginated on id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import NotFound
from app.core.pagination import keyset, page_of
from app.notifications.catalog import render
from app.notifications.models import Notification


def as_read(n: Mapping[str, Any], english: bool) -> dict[str, Any]:
    """A notification row as the API shows it, rendered in the reader's language."""
    title, body = render(n["type"], n["params"], english)
    return {"id": n["id"], "type": n["type"], "title": title, "body": body, "object_type": n["object_type"],
            "object_id": n["object_id"], "link": n["link"], "created_at": n["created_at"], "read_at": n["read_at"]}


async def list_inbox(db: AsyncSession, p: Principal, *, unread: bool, limit: int, cursor: str | None,
                     english: bool) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(Notification.__table__).where(Notification.user_id == p.user_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    page = keyset(stmt, [Notification.__table__.c.id], [int], cursor, limit, descending=True)
    rows = (await db.execute(page)).mappings().all()
    items, nxt = page_of(rows, limit, lambda n: [n["id"]])
    return [as_read(n, english) for n in items], nxt


async def unread_count(db: AsyncSession, p: Principal) -> int:
    return (await db.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == p.user_id, Notification.read_at.is_(None)))).scalar_one()


async def mark_read(db: AsyncSession, p: Principal, notification_id: int, now: Any) -> int:
    """Mark one of the caller's notifications read; 404 for a missing one or someone else's."""
    owner = (await db.execute(select(Notification.user_id).where(Notification.id == notification_id))).scalar()
    if owner != p.user_id:
        raise NotFound()
    done = await db.execute(update(Notification).where(Notification.id == notification_id,
                                                       Notification.read_at.is_(None)).values(read_at=now)
                            .returning(Notification.id))
    return len(done.all())


async def mark_all_read(db: AsyncSession, p: Principal, now: Any) -> int:
    done = await db.execute(update(Notification).where(Notification.user_id == p.user_id,
                                                       Notification.read_at.is_(None)).values(read_at=now)
                            .returning(Notification.id))
    return len(done.all())
