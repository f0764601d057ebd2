"""Writing notifications: `notify` is the one way any domain tells a user something.

It inserts the rows in the caller's transaction (the request's session), so a notification exists exactly when
the change that caused it commits. The ids written are remembered on the session (`PENDING_KEY` in `db.info`),
so that once the transaction commits the users' live streams are woken (`publish_on_commit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import Database
from app.notifications.broker import LocalBroker
from app.notifications.catalog import TEMPLATES
from app.notifications.models import Notification

PENDING_KEY = "weilinli_notified_users"


async def notify(db: AsyncSession, user_ids: Iterable[int | None], type_: str, *, object_type: str, object_id: int,
                 link: str, params: dict[str, Any] | None = None, exclude: int | None = None) -> int:
    """Add one notification of `type_` to each user's inbox (None entries, duplicates and `exclude`, usually the
    actor, are skipped). Returns how many were written."""
    if type_ not in TEMPLATES:
        raise ValueError(f"unknown notification type {type_!r}: add it to app/notifications/catalog.py")
    users = sorted({u for u in user_ids if u is not None and u != exclude})
    if not users:
        return 0
    now = datetime.now(UTC)
    values = [{"user_id": u, "type": type_, "object_type": object_type, "object_id": object_id, "link": link,
               "params": params or {}, "created_at": now} for u in users]
    await db.execute(insert(Notification), values)
    db.info.setdefault(PENDING_KEY, set()).update(users)
    return len(users)


def publish_on_commit(database: Database, broker: LocalBroker) -> None:
    """After each commit of `database`, wake the live streams of the users it notified (app/notifications/stream)."""
    def hook(info: dict) -> None:
        users = info.pop(PENDING_KEY, None)
        if users:
            broker.committed(users)

    database.on_commit.append(hook)
