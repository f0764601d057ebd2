"""Writing notifications: `notify` is the one way any domain tells a user something.

It writes the rows in the caller's transaction (the request's session), so a notification exists exactly when
the change that caused it commits. The ids written are remembered on the session (`PENDING_KEY` in `db.info`),
so that once the transaction commits the users' live streams are woken (`publish_on_commit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import Database, before_commit
from app.notifications import wechat_messages
from app.notifications.broker import LocalBroker
from app.notifications.catalog import TEMPLATES
from app.notifications.models import Notification

PENDING_KEY = "weilinli_notified_users"  # the users notified by a committed transaction (for publish_on_commit)
_QUEUE_KEY = "weilinli_notifications"     # rows waiting for the transaction's end
_LOCK_NAMESPACE = 0x5745494C << 32        # "WEIL": advisory lock keys of users' inboxes (PostgreSQL)


async def notify(db: AsyncSession, user_ids: Iterable[int | None], type_: str, *, object_type: str, object_id: int,
                 link: str, params: dict[str, Any] | None = None, exclude: int | None = None) -> int:
    """Add one notification of `type_` to each user's inbox (None entries, duplicates and `exclude`, usually the
    actor, are skipped), in the caller's transaction. Returns how many will be written.

    The rows are inserted at the very end of the transaction (`_write_queued`), each user's inbox locked first, so
    that a user's notifications get ids in the order they commit: a live stream that sent id N never sees an id
    below N commit later (app/notifications/stream.py relies on it)."""
    if type_ not in TEMPLATES:
        raise ValueError(f"unknown notification type {type_!r}: add it to app/notifications/catalog.py")
    users = sorted({u for u in user_ids if u is not None and u != exclude})
    if not users:
        return 0
    now = datetime.now(UTC)
    db.info.setdefault(_QUEUE_KEY, []).extend(
        {"user_id": u, "type": type_, "object_type": object_type, "object_id": object_id, "link": link,
         "params": params or {}, "created_at": now} for u in users)
    before_commit(db, _QUEUE_KEY, _write_queued)
    return len(users)


async def _write_queued(db: AsyncSession) -> None:
    rows = db.info.pop(_QUEUE_KEY, None)
    if not rows:
        return
    rows.sort(key=lambda r: r["user_id"])  # locks in one order in every transaction: they cannot deadlock
    if db.get_bind().dialect.name == "postgresql":
        # each row takes its user's inbox lock (held to commit) in the statement that inserts it: no extra round trip
        params = [{**r, "lock_key": _LOCK_NAMESPACE | r["user_id"]} for r in rows]
        conn = await db.connection()  # Core execution in the session's transaction (no ORM layer)
        await conn.execute(_INSERT_LOCKED, params[0] if len(params) == 1 else params)  # one row: no executemany
    else:  # SQLite: one writer at a time already
        await db.execute(insert(Notification), rows)
    # issue 18: the users who accepted WeChat subscription messages of these types get one, queued with the rows
    await wechat_messages.enqueue_for(db, rows)
    db.info.setdefault(PENDING_KEY, set()).update(r["user_id"] for r in rows)


_COLUMNS = ("user_id", "type", "object_type", "object_id", "link", "params", "created_at")
_LOCKED = select(func.pg_advisory_xact_lock(bindparam("lock_key", type_=BigInteger)).label("locked")).subquery()
_TABLE = Notification.metadata.tables[Notification.__tablename__]
_N = _TABLE.c
_INSERT_LOCKED = insert(_TABLE).from_select(
    [_N[c] for c in _COLUMNS], select(*(bindparam(c, type_=_N[c].type) for c in _COLUMNS)).select_from(_LOCKED))


def publish_on_commit(database: Database, broker: LocalBroker) -> None:
    """After each commit of `database`, wake the live streams of the users it notified (app/notifications/stream)."""
    def hook(info: dict) -> None:
        users = info.pop(PENDING_KEY, None)
        if users:
            broker.committed(users)

    database.on_commit.append(hook)
