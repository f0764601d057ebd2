"""Login throttling: failures counted per phone and per address in the database (shared by all workers)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import LoginThrottle
from app.core.config import Settings
from app.core.errors import TooManyRequests


def keys_for(phone: str, address: str | None) -> list[tuple[str, str]]:
    out = [("phone", f"phone:{phone}")]
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


async def record_failure(db: AsyncSession, settings: Settings, keys: list[tuple[str, str]], now: datetime) -> None:
    """Atomically count one failure per key (an upsert), locking the key when it reaches its limit."""
    window_cutoff = now - timedelta(seconds=settings.login_window_seconds)
    lock_until = now + timedelta(seconds=settings.login_lockout_seconds)
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    for kind, key in keys:
        limit = {"phone": settings.login_max_failures, "reg": settings.register_max_per_address}.get(
            kind, settings.login_max_failures_per_address)
        t = LoginThrottle.__table__
        fresh = t.c.window_start < window_cutoff
        new_failures = case((fresh, 1), else_=t.c.failures + 1)
        stmt = insert(t).values(key=key, failures=1, window_start=now,
                                locked_until=lock_until if limit <= 1 else None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "failures": new_failures,
                "window_start": case((fresh, now), else_=t.c.window_start),
                "locked_until": case((new_failures >= limit, lock_until), else_=t.c.locked_until),
            },
        )
        await db.execute(stmt)


async def clear(db: AsyncSession, phone: str) -> None:
    await clear_key(db, f"phone:{phone}")


async def clear_key(db: AsyncSession, key: str) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
