"""Writing notifications: `notify` is the one way any domain tells a user something.

It writes the rows in the caller's transaction (the request's session), so a notification exists exactly when
the change that caused it commits. The ids written are remembered on the session (`PENDING_KEY` in `db.info`),
so that once the transaction commits the users' live streams are woken (`publish_on_commit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Text, bindparam, cast, column, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY
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
        # One statement: the rows (each taking its user's inbox lock, held to commit, before it gets its id) and
        # the WeChat acceptances they spend (issue 18), whose RETURNING says which messages to queue
        conn = await db.connection()  # Core execution in the session's transaction (no ORM layer)
        spent = (await conn.execute(_NOTIFY_PG, {**_row_arrays(rows), **wechat_messages.spend_params(rows),
                                                 "lock_namespace": _LOCK_NAMESPACE})).all()
        await wechat_messages.queue_spent(db, rows, spent)
    else:  # SQLite: one writer at a time already
        await db.execute(insert(Notification), rows)
        # issue 18: the users who accepted WeChat subscription messages of these types get one, queued with the rows
        await wechat_messages.enqueue_for(db, rows)
    db.info.setdefault(PENDING_KEY, set()).update(r["user_id"] for r in rows)


_COLUMNS = ("user_id", "type", "object_type", "object_id", "link", "params", "created_at")
_TABLE = Notification.metadata.tables[Notification.__tablename__]
_N = _TABLE.c
_ARRAY_TYPES = {"user_id": BigInteger(), "type": String(), "object_type": String(), "object_id": BigInteger(),
                "link": String(), "params": Text(), "created_at": DateTime(timezone=True)}


def _row_arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """_NOTIFY_PG's rows, one array per column (params as JSON text, cast to the column's type in SQL)."""
    out: dict[str, list[Any]] = {"n_" + c: [r[c] for r in rows] for c in _COLUMNS}
    out["n_params"] = [json.dumps(p, ensure_ascii=False) for p in out["n_params"]]
    return out


def _notify_pg():
    """PostgreSQL: INSERT the rows from one array per column, each row after its user's advisory lock (a LATERAL
    call per row, rows in user order), as a data-modifying CTE of wechat_messages.SPEND_PG. Built once."""
    rows = func.unnest(*(bindparam("n_" + c, type_=ARRAY(_ARRAY_TYPES[c])) for c in _COLUMNS)) \
        .table_valued(*(column(c, _ARRAY_TYPES[c]) for c in _COLUMNS), with_ordinality="ord").render_derived()
    lock_key = bindparam("lock_namespace", type_=BigInteger).op("|")(rows.c.user_id)
    locked = select(func.pg_advisory_xact_lock(lock_key).label("locked")).correlate(rows).lateral("locked")
    values = [rows.c[c] for c in _COLUMNS if c != "params"]
    values.insert(_COLUMNS.index("params"), cast(rows.c.params, _N.params.type))
    inserted = insert(_TABLE).from_select(
        [_N[c] for c in _COLUMNS], select(*values).select_from(rows.join(locked, true())).order_by(rows.c.ord))
    return wechat_messages.SPEND_PG.add_cte(inserted.cte("inserted"))


_NOTIFY_PG = _notify_pg()


def publish_on_commit(database: Database, broker: LocalBroker) -> None:
    """After each commit of `database`, wake the live streams of the users it notified (app/notifications/stream)."""
    def hook(info: dict) -> None:
        users = info.pop(PENDING_KEY, None)
        if users:
            broker.committed(users)

    database.on_commit.append(hook)
