"""The webhook outbox: deliveries written in the caller's transaction, claimed and settled by the worker.

`emit` is the one way a domain announces an event to subscribers: one `webhook_deliveries` row per active
subscription of the community (or of its street) that asked for the event type, in the same transaction as the
change, so a rolled-back change sends nothing and a committed one always has its deliveries.

The worker (app/notifications/delivery.py) `claim`s due rows with a lease, commits, sends, and `record`s each
result in a new transaction. Nothing here talks to the network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Insert,
    Integer,
    String,
    any_,
    bindparam,
    cast,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.notifications import backoff, signing
from app.notifications.webhooks_events import WebhookEventType, body
from app.notifications.webhooks_models import WebhookAttempt, WebhookDelivery, WebhookSubscription

D, S = WebhookDelivery, WebhookSubscription
ERROR_MAX = 300
RESPONSE_MAX_BYTES = 1024


async def subscribers(db: AsyncSession, owner_ids: Sequence[int], event_type: WebhookEventType) -> list[int]:
    """Active subscriptions of these grid nodes that asked for this event type (one indexed query; the few
    subscriptions of a community are filtered here, the same way on both databases)."""
    rows = (await db.execute(select(S.id, S.event_types).where(S.grid_id.in_(owner_ids), S.is_active.is_(True))
                             .order_by(S.id))).all()
    return [r.id for r in rows if event_type.value in (r.event_types or [])]


async def enqueue(db: AsyncSession, subscription_ids: Sequence[int], event_type: WebhookEventType,
                  data: dict[str, Any], occurred_at: datetime) -> int:
    """One pending delivery per subscription, due at once (no statement when there is none)."""
    if not subscription_ids:
        return 0
    text = body(event_type, data, occurred_at)
    await db.execute(insert(D), [
        {"subscription_id": sid, "message_id": signing.new_message_id(), "event_type": event_type.value, "body": text,
         "status": "pending", "attempts": 0, "round_attempts": 0, "next_attempt_at": occurred_at,
         "created_at": occurred_at} for sid in subscription_ids])
    return len(subscription_ids)


def emit_params(community_id: int, event_type: WebhookEventType, data: dict[str, Any], occurred_at: datetime, *,
                street_id: int | None = None) -> dict[str, Any]:
    """The parameters of an event's deliveries (`emit`, or `emit_sql_pg` as part of another statement)."""
    return {"owners": [community_id] if street_id is None else [community_id, street_id],
            "id_prefix": signing.new_event_id() + "_", "event_type": event_type.value,
            "body": body(event_type, data, occurred_at), "at": occurred_at,
            "pattern": '%"' + event_type.value.replace("_", "\\_").replace("%", "\\%") + '"%'}


async def emit(db: AsyncSession, community_id: int, event_type: WebhookEventType, data: dict[str, Any],
               occurred_at: datetime, *, street_id: int | None = None) -> int:
    """Announce an event of a community (and of its street's subscribers, given `street_id`), in the caller's
    transaction. Returns how many deliveries were written.

    One statement, built once, whether or not anyone subscribed (every report step runs it): INSERT ... SELECT from
    the matching subscriptions. Each delivery's webhook-id is the event's random id and the subscription's id.
    On PostgreSQL a caller that writes a row anyway may send `emit_sql_pg` with it instead, as a CTE (one round
    trip)."""
    return await write_deliveries(db, emit_params(community_id, event_type, data, occurred_at, street_id=street_id))


async def write_deliveries(db: AsyncSession, params: dict[str, Any]) -> int:
    """The deliveries of `emit_params(...)`: how many were written."""
    conn = await db.connection()  # Core execution in the session's transaction: no ORM layer for a plain INSERT
    done = await conn.execute(_EMIT, params)
    return max(done.rowcount, 0)


_DELIVERIES = WebhookDelivery.metadata.tables[WebhookDelivery.__tablename__]


def _emit_sql(*conditions: Any) -> Insert:
    return insert(_DELIVERIES).from_select(
        [D.subscription_id, D.message_id, D.event_type, D.body, D.status, D.attempts, D.round_attempts,
         D.next_attempt_at, D.created_at],
        select(S.id, bindparam("id_prefix", type_=String) + cast(S.id, String), bindparam("event_type", type_=String),
               bindparam("body", type_=D.body.type), literal_column("'pending'", String),
               literal_column("0", Integer), literal_column("0", Integer),
               bindparam("at", type_=D.next_attempt_at.type), bindparam("at", type_=D.created_at.type))
        .where(*conditions, S.is_active.is_(True),
               cast(S.event_types, String).like(bindparam("pattern", type_=String), escape="\\")))


_EMIT = _emit_sql(S.grid_id.in_(bindparam("owners", expanding=True)))


def emit_sql_pg(*conditions: Any) -> Insert:
    """PostgreSQL: the same INSERT with the owners as one array parameter (no expanding IN, which is rendered anew
    on every execution), to ride as a CTE on a statement of the caller (app/reports/writes); `conditions`: more
    of the caller's (e.g. only when its own write happened). Build once and keep."""
    return _emit_sql(S.grid_id == any_(bindparam("owners", type_=ARRAY(BigInteger))), *conditions)


# ---- the worker's side --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker holds until `locked_until`, with what it needs to send it."""

    id: int
    subscription_id: int
    message_id: str
    body: str
    attempt: int        # the delivery's attempts count, this one included
    round_attempt: int  # since the last (re)delivery: decides the next delay
    url: str
    secrets: tuple[str, ...]  # the current secret first; the previous one while it still signs


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got."""

    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_body: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver wants no more (Standard Webhooks): the subscription is disabled."""
        return self.status_code == 410


def _due(now: datetime, max_attempts: int):
    """Pending, due, not leased (or the lease ran out), attempts left, and its subscription still active."""
    return (D.status == "pending", D.next_attempt_at <= now, or_(D.locked_until.is_(None), D.locked_until < now),
            D.round_attempts < max_attempts, D.subscription_id.in_(select(S.id).where(S.is_active.is_(True))))


async def fail_exhausted(db: AsyncSession, now: datetime, settings: Settings) -> int:
    """Deliveries whose last allowed attempt was claimed and never recorded (the worker died): failed."""
    done = await db.execute(update(D).where(
        D.status == "pending", D.locked_until < now,
        D.round_attempts >= backoff.max_attempts(settings.webhook_retry_schedule))
        .values(status="failed", finished_at=now, locked_until=None,
                last_error="the last attempt was interrupted (lease expired)")
        .returning(D.id).execution_options(synchronize_session=False))
    return len(done.all())


async def claim(db: AsyncSession, now: datetime, settings: Settings) -> list[Claimed]:
    """Take up to WEBHOOK_BATCH_SIZE due deliveries: a lease of WEBHOOK_LEASE_SECONDS and one more attempt each.

    PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows
    without waiting on each other; the UPDATE repeats the due conditions, which PostgreSQL re-checks on the
    latest row version. SQLite: the worker's transaction began with BEGIN IMMEDIATE, so claims are serialised and
    the same conditional UPDATE sees the previous claim's lease."""
    max_attempts = backoff.max_attempts(settings.webhook_retry_schedule)
    due = (select(D.id).where(*_due(now, max_attempts)).order_by(D.next_attempt_at, D.id)
           .limit(settings.webhook_batch_size).with_for_update(skip_locked=True))
    taken = (await db.execute(
        update(D).where(D.id.in_(due.scalar_subquery()), *_due(now, max_attempts))
        .values(locked_until=now + timedelta(seconds=settings.webhook_lease_seconds), attempts=D.attempts + 1,
                round_attempts=D.round_attempts + 1)
        .returning(D.id, D.subscription_id, D.message_id, D.body, D.attempts, D.round_attempts)
        .execution_options(synchronize_session=False))).all()
    if not taken:
        return []
    subs = {r.id: r for r in (await db.execute(
        select(S.id, S.url, S.secret, S.previous_secret, S.previous_secret_until)
        .where(S.id.in_({t.subscription_id for t in taken})))).all()}
    out = []
    for t in sorted(taken, key=lambda t: t.id):
        sub = subs[t.subscription_id]
        keys = (sub.secret,) + ((sub.previous_secret,) if sub.previous_secret and sub.previous_secret_until
                                and sub.previous_secret_until > now else ())
        out.append(Claimed(t.id, t.subscription_id, t.message_id, t.body, t.attempts, t.round_attempts, sub.url,
                           keys))
    return out


def _clean(text: str | None, limit: int) -> str | None:
    """Text a receiver sent us, safe to store: NUL removed (PostgreSQL text cannot hold it), cut to `limit`."""
    return None if text is None else text.replace("\x00", "")[:limit]


async def record(db: AsyncSession, c: Claimed, o: Outcome, now: datetime, settings: Settings) -> None:
    """Log the attempt and settle the delivery: delivered, due again after the backoff, or failed. The delivery is
    only changed while this attempt is still its latest (a worker that outlived its lease logs, changes nothing)."""
    db.add(WebhookAttempt(delivery_id=c.id, number=c.attempt, started_at=o.started_at, duration_ms=o.duration_ms,
                          status_code=o.status_code, error=_clean(o.error, ERROR_MAX),
                          response_body=_clean(o.response_body, RESPONSE_MAX_BYTES) or "", succeeded=o.succeeded))
    values: dict[str, Any] = {"locked_until": None, "last_status_code": o.status_code,
                              "last_error": _clean(o.error, ERROR_MAX)}
    retry_at = None if o.succeeded or o.gone else backoff.next_attempt_at(
        now, c.round_attempt, settings.webhook_retry_schedule, random.random)  # noqa: S311 - jitter, not a secret
    if o.succeeded:
        values.update(status="delivered", finished_at=now)
    elif retry_at is not None:
        values.update(next_attempt_at=retry_at)
    else:
        values.update(status="failed", finished_at=now)
    await db.execute(update(D).where(D.id == c.id, D.attempts == c.attempt, D.status == "pending").values(**values)
                     .execution_options(synchronize_session=False))
    if o.gone:
        await disable(db, c.subscription_id, "the endpoint answered 410 Gone", now)
    await db.flush()


async def disable(db: AsyncSession, subscription_id: int, reason: str | None, now: datetime) -> None:
    """Stop a subscription: it gets no new deliveries, and its pending ones fail now (not sent late on re-enable)."""
    await db.execute(update(S).where(S.id == subscription_id, S.is_active.is_(True))
                     .values(is_active=False, disabled_reason=reason, version=S.version + 1, updated_at=now)
                     .execution_options(synchronize_session=False))
    await db.execute(update(D).where(D.subscription_id == subscription_id, D.status == "pending",
                                     or_(D.locked_until.is_(None), D.locked_until < now))
                     .values(status="failed", finished_at=now, last_error="the subscription was disabled")
                     .execution_options(synchronize_session=False))
