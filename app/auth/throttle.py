"""Login throttling: failures counted per phone and per address in the database (shared by all workers).

A phone number is never a key in clear: `phone_key` keys it by an HMAC under the app's signing secret, so the
counters (kept for a window, purged by retention) hold no personal number (PIPL: data minimisation)."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import KnownLoginAddress, LoginThrottle
from app.core.config import Settings
from app.core.errors import TooManyRequests


def phone_key(secret: str, phone: str, prefix: str = "phone") -> str:
    """`prefix:` and the first 32 hex digits of HMAC-SHA256(secret, phone): one key per number, not the number."""
    digest = hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{prefix}:{digest}"


def keys_for(secret: str, phone: str, address: str | None) -> list[tuple[str, str]]:
    out = [("phone", phone_key(secret, phone))]
    if address:
        out.append(("addr", f"addr:{address[:60]}"))
    return out


async def ensure_not_locked(db: AsyncSession, keys: list[tuple[str, str]], now: datetime) -> None:
    rows = (await db.execute(
        select(LoginThrottle.locked_until).where(LoginThrottle.key.in_([k for _, k in keys]),
                                                 LoginThrottle.locked_until > now))).scalars().all()
    if rows:
        wait = max(rows) - now
        raise TooManyRequests(retry_after=max(1, math.ceil(wait.total_seconds())))


def lock_seconds(settings: Settings, kind: str, failures: int, limit: int) -> int:
    """How long a key is locked after `failures` within the window: a phone number waits LOGIN_DELAY_SECONDS at
    its limit, doubling with each failure after it, up to LOGIN_LOCKOUT_SECONDS (growing delays: five wrong
    guesses cost their victim half a minute, not a quarter of an hour); other keys lock for LOGIN_LOCKOUT_SECONDS."""
    if failures < limit:
        return 0
    if kind != "phone":
        return settings.login_lockout_seconds
    return min(settings.login_lockout_seconds, settings.login_delay_seconds * 2 ** min(failures - limit, 20))


async def record_failure(db: AsyncSession, settings: Settings, keys: list[tuple[str, str]], now: datetime) -> None:
    """Atomically count one failure per key (an upsert), then lock the key for as long as its count says."""
    window_cutoff = now - timedelta(seconds=settings.login_window_seconds)
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    for kind, key in keys:
        limit = {"phone": settings.login_max_failures, "reg": settings.register_max_per_address}.get(
            kind, settings.login_max_failures_per_address)
        t = LoginThrottle.__table__
        fresh = t.c.window_start < window_cutoff
        new_failures = case((fresh, 1), else_=t.c.failures + 1)
        stmt = insert(t).values(key=key, failures=1, window_start=now, locked_until=None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={"failures": new_failures, "window_start": case((fresh, now), else_=t.c.window_start)},
        ).returning(t.c.failures)
        failures = (await db.execute(stmt)).scalar_one()
        wait = lock_seconds(settings, kind, failures, limit)
        if wait:
            await db.execute(update(t).where(t.c.key == key).values(locked_until=now + timedelta(seconds=wait)))


async def clear(db: AsyncSession, secret: str, phone: str) -> None:
    await clear_key(db, phone_key(secret, phone))


async def clear_key(db: AsyncSession, key: str) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def is_known(db: AsyncSession, user_id: int, address: str | None) -> bool:
    if not address:
        return False
    found = await db.execute(select(KnownLoginAddress.user_id).where(KnownLoginAddress.user_id == user_id,
                                                                      KnownLoginAddress.address == address[:64]))
    return found.first() is not None


async def remember(db: AsyncSession, user_id: int, address: str | None, now: datetime) -> None:
    if not address:
        return
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    t = KnownLoginAddress.__table__
    await db.execute(insert(t).values(user_id=user_id, address=address[:64], last_seen=now)
                     .on_conflict_do_update(index_elements=[t.c.user_id, t.c.address], set_={"last_seen": now}))
