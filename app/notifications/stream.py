"""The live stream: one user's new notifications as Server-Sent Events.

Each event's `id` is the notification's id (ids only grow), so a client that reconnects with `Last-Event-ID: N`
gets exactly the notifications after N: every event comes from the database, read after the last id sent, and
the broker (app/notifications/broker.py) only says when to read. Without `Last-Event-ID` a stream starts at the
user's newest notification (the inbox holds the history).

Between events a comment line (`: keepalive`) goes out every heartbeat so proxies keep the connection open; at
each heartbeat the token's session and the user are checked again (a disabled user, a password change or a
sign-out ends the stream), and a stream ends when its access token expires or after STREAM_MAX_SECONDS. Either
way the last event is `event: end` with the reason, and the client reconnects (with a fresh token).

The stream holds no database connection while it waits: each read borrows a pooled connection for one statement.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import bindparam, func, select

from app.db.reader import Prepared, Rows
from app.notifications.broker import LocalBroker
from app.notifications.models import Notification
from app.notifications.queries import as_read
from app.notifications.schemas import NotificationRead

BATCH = 100  # notifications per read; a long replay reads in batches
RETRY_MS = 3000  # the reconnection delay suggested to EventSource clients

_n = Notification.__table__.c
_AFTER = Prepared(select(Notification.__table__).where(_n.user_id == bindparam("user_id"), _n.id > bindparam("after"))
                  .order_by(_n.id).limit(BATCH))
_NEWEST = Prepared(select(func.coalesce(func.max(_n.id), 0).label("newest")).where(_n.user_id == bindparam("user_id")))


class EndReason(StrEnum):
    token_expired = "token_expired"  # reconnect with a fresh access token
    reconnect = "reconnect"          # the stream's time is up (STREAM_MAX_SECONDS): reconnect at once
    signed_out = "signed_out"        # the session ended or the user was disabled: do not reconnect


def event(event_id: int, data: str, name: str = "notification") -> bytes:
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n".encode()


def end_event(reason: EndReason) -> bytes:
    return f"event: end\ndata: {json.dumps({'reason': reason.value})}\n\n".encode()


HEARTBEAT = b": keepalive\n\n"


@dataclass
class StreamSpec:
    user_id: int
    last_id: int | None        # Last-Event-ID, or None to start at the newest
    english: bool
    heartbeat: float           # seconds
    expires_at: datetime       # the access token's exp
    ends_at: datetime          # STREAM_MAX_SECONDS after it opened
    still_allowed: Callable[[], Awaitable[bool]]  # the principal check again


async def events(rows: Rows, broker: LocalBroker, spec: StreamSpec,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> AsyncIterator[bytes]:
    """The bytes of the stream, until the token expires or the principal is no longer valid."""
    with broker.subscribe(spec.user_id) as doorbell:  # before the first read: nothing committed after it is missed
        last = spec.last_id
        if last is None:  # read before the first byte: a client that saw `retry:` gets everything committed after
            last = (await rows.all(_NEWEST, {"user_id": spec.user_id}))[0]["newest"]
        yield f"retry: {RETRY_MS}\n\n".encode()
        look = True
        while True:
            while look:  # everything after `last`, in batches
                found = await rows.all(_AFTER, {"user_id": spec.user_id, "after": last})
                for row in found:
                    item = NotificationRead.model_validate(as_read(row, spec.english))
                    yield event(item.id, item.model_dump_json())
                    last = item.id
                look = len(found) == BATCH
            now = clock()
            left = (min(spec.expires_at, spec.ends_at) - now).total_seconds()
            if left <= 0:
                yield end_event(EndReason.token_expired if now >= spec.expires_at else EndReason.reconnect)
                return
            if await doorbell.wait(min(spec.heartbeat, left)):
                look = True
                continue
            if not await spec.still_allowed():
                yield end_event(EndReason.signed_out)
                return
            yield HEARTBEAT
            # a shared broker hears every process's commits; a local one does not hear a separate worker process,
            # so a local stream also looks at each heartbeat
            look = not broker.shared
