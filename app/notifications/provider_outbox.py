"""The provider outbox (SMS, WeChat subscription messages): written in the caller's transaction, claimed and
settled by the worker, with the webhook outbox's rules (app/notifications/outbox.py): a lease per claim, one more
attempt per claim, the backoff of app/notifications/backoff.py, and a result recorded only while the attempt is
still the row's latest. Nothing here talks to the network."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications import backoff
from app.notifications.provider_models import ProviderMessage

M = ProviderMessage
ERROR_MAX = 300


async def enqueue(db: AsyncSession, channel: str, target: str, payload: dict[str, Any], now: datetime, *,
                  appid: str | None = None, expires_at: datetime | None = None) -> int:
    """One pending message, due at once, in the caller's transaction. Returns its id."""
    row = M(channel=channel, message_id="pm_" + secrets.token_urlsafe(18), target=target, appid=appid,
            payload=json.dumps(payload, ensure_ascii=False), status="pending", attempts=0, next_attempt_at=now,
            expires_at=expires_at, created_at=now)
    db.add(row)
    await db.flush()
    return row.id


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    target: str
    appid: str | None
    payload: dict[str, Any]
    attempt: int


@dataclass(frozen=True, slots=True)
class Result:
    """One attempt's outcome: `ok`, or an error; `retry` False when trying again cannot help."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry: bool = True


def _due(channel: str, now: datetime, max_attempts: int) -> tuple[Any, ...]:
    return (M.channel == channel, M.status == "pending", M.next_attempt_at <= now,
            or_(M.locked_until.is_(None), M.locked_until < now), M.attempts < max_attempts,
            or_(M.expires_at.is_(None), M.expires_at > now))


async def expire(db: AsyncSession, channel: str, now: datetime, schedule: Sequence[int]) -> int:
    """Pending rows past their expiry, or whose last attempt was claimed and never recorded: settled, payload
    wiped."""
    stale = or_(M.expires_at <= now, (M.attempts >= backoff.max_attempts(schedule)) & (M.locked_until < now))
    done = await db.execute(update(M).where(M.channel == channel, M.status == "pending", stale,
                                            or_(M.locked_until.is_(None), M.locked_until < now))
                            .values(status="expired", payload=None, finished_at=now, locked_until=None)
                            .returning(M.id).execution_options(synchronize_session=False))
    return len(done.all())


async def claim(db: AsyncSession, channel: str, now: datetime, schedule: Sequence[int], *, lease_seconds: int,
                limit: int, ids: Sequence[int] | None = None) -> list[Claimed]:
    """Take due rows (or just `ids`, if still due): a lease and one more attempt each. PostgreSQL: FOR UPDATE SKIP
    LOCKED; SQLite: the transaction began with BEGIN IMMEDIATE. The UPDATE repeats the due conditions, so two
    claimers never both win a row."""
    cond = _due(channel, now, backoff.max_attempts(schedule))
    due = select(M.id).where(*cond)
    if ids is not None:
        due = due.where(M.id.in_(list(ids)))
    due = due.order_by(M.next_attempt_at, M.id).limit(limit).with_for_update(skip_locked=True)
    taken = (await db.execute(
        update(M).where(M.id.in_(due.scalar_subquery()), *cond)
        .values(locked_until=now + timedelta(seconds=lease_seconds), attempts=M.attempts + 1)
        .returning(M.id, M.message_id, M.target, M.appid, M.payload, M.attempts)
        .execution_options(synchronize_session=False))).all()
    return [Claimed(t.id, t.message_id, t.target, t.appid, json.loads(t.payload or "{}"), t.attempts)
            for t in sorted(taken, key=lambda t: t.id)]


async def record(db: AsyncSession, c: Claimed, r: Result, now: datetime, schedule: Sequence[int]) -> str:
    """Settle one attempt: delivered, due again after the backoff, or failed (payload wiped when settled). Only
    while this attempt is still the row's latest. Returns the status written."""
    retry_at = None if r.ok or not r.retry else backoff.next_attempt_at(
        now, c.attempt, schedule, random.random)  # noqa: S311 - jitter, not a secret
    values: dict[str, Any] = {"locked_until": None, "last_status_code": r.status_code,
                              "last_error": None if r.error is None else r.error.replace("\x00", "")[:ERROR_MAX]}
    if r.ok:
        status = "delivered"
        values.update(status=status, finished_at=now, payload=None)
    elif retry_at is not None:
        status = "pending"
        values.update(next_attempt_at=retry_at)
    else:
        status = "failed"
        values.update(status=status, finished_at=now, payload=None)
    await db.execute(update(M).where(M.id == c.id, M.attempts == c.attempt, M.status == "pending").values(**values)
                     .execution_options(synchronize_session=False))
    return status
