"""Sending queued SMS codes: the worker's job, and the one attempt made right after a code's request commits.

Codes live five minutes and someone is waiting for theirs, so the worker's pass (WORKER_INTERVAL_SECONDS, a
minute by default) is too slow for the first attempt: the request's router sends the row as soon as its
transaction has committed (a background task, after the response), through the same claim as the worker, so the
two never both send it. Failures are retried by the worker on SMS_RETRY_SCHEDULE; a row whose code has expired is
never sent. The code leaves the database when the row is settled (its payload is wiped)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.sms_models import SmsCode
from app.auth.sms_sender import SmsSender, sender_for
from app.core.config import Settings
from app.db.session import Database, begin_write
from app.notifications import provider_outbox

log = logging.getLogger("weilinli.sms")
BATCH = 20


def _lease(settings: Settings) -> int:
    return math.ceil(settings.sms_timeout_seconds) + 30


async def _send(sender: SmsSender, c: provider_outbox.Claimed) -> provider_outbox.Result:
    try:
        return await sender.send(c.message_id, c.target, str(c.payload.get("purpose", "")),
                                 str(c.payload.get("code", "")))
    except Exception as exc:  # noqa: BLE001 - a sender's bug must not lose the row; never the message (the code)
        return provider_outbox.Result(ok=False, error=f"sender error: {type(exc).__name__}")


async def deliver_sms(db: AsyncSession, settings: Settings, now: datetime,
                      ids: Sequence[int] | None = None) -> int:
    """One batch (the worker's job `sms_sent`); returns the rows claimed or expired."""
    sender = sender_for(settings)
    schedule = settings.sms_retry_schedule
    expired = await provider_outbox.expire(db, "sms", now, schedule)
    # codes a day past their expiry are of no use to anyone: gone (the rate-limit counters live elsewhere)
    await db.execute(delete(SmsCode).where(SmsCode.expires_at < now - timedelta(days=1))
                     .execution_options(synchronize_session=False))
    claimed = [] if sender is None else await provider_outbox.claim(
        db, "sms", now, schedule, lease_seconds=_lease(settings), limit=BATCH, ids=ids)
    await db.commit()  # the leases are ours: no transaction is held while the gateway answers
    if not claimed or sender is None:
        return expired
    results = await asyncio.gather(*(_send(sender, c) for c in claimed))
    await begin_write(db)
    for c, r in zip(claimed, results, strict=True):
        status = await provider_outbox.record(db, c, r, now, schedule)
        if status != "delivered":
            log.warning("SMS %s attempt %d: %s (%s)", c.message_id, c.attempt, status, r.error)
    return expired + len(claimed)


async def send_now(database: Database, settings: Settings, outbox_id: int) -> None:
    """The first attempt of a just-committed code (a background task: errors are logged, never raised)."""
    try:
        async with database.session(write=True) as db:
            await deliver_sms(db, settings, datetime.now(UTC), ids=[outbox_id])
    except Exception as exc:  # noqa: BLE001 - the worker retries it; the log names no code
        log.warning("SMS %d: first attempt failed (%s); the worker retries", outbox_id, type(exc).__name__)
