"""How often codes may be asked for: counters per number and per client address in `login_throttles` (shared by
every worker), each bumped by one atomic upsert that returns the new count, so concurrent requests cannot both
slip under a limit."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import LoginThrottle
from app.auth.throttle import phone_key
from app.core.config import Settings
from app.core.errors import AppError


class SmsRateLimited(AppError):
    status_code = 429
    code = "sms_rate_limited"
    keep_writes = True  # the counted request stands

    def __init__(self, retry_after: int, per: str):
        super().__init__(details={"retry_after": retry_after, "per": per},
                         headers={"Retry-After": str(retry_after)})


async def _bump(db: AsyncSession, key: str, window: int, now: datetime) -> tuple[int, datetime]:
    """Count one request under `key` in a fixed window of `window` s; the count and the window's start."""
    t = LoginThrottle
    fresh = t.window_start < now - timedelta(seconds=window)
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(t).values(key=key, failures=1, window_start=now, locked_until=None).on_conflict_do_update(
        index_elements=[t.key],
        set_={"failures": case((fresh, 1), else_=t.failures + 1),
              "window_start": case((fresh, now), else_=t.window_start)},
    ).returning(t.failures, t.window_start)
    row = (await db.execute(stmt)).one()
    return row.failures, row.window_start


async def count_request(db: AsyncSession, settings: Settings, secret: str, phone: str, address: str | None,
                        now: datetime) -> None:
    """Raise SmsRateLimited (429, `per`: phone or address) when this request is over a limit: one code per number
    per SMS_RESEND_SECONDS, SMS_MAX_PER_PHONE per number and SMS_MAX_PER_ADDRESS per address per
    SMS_WINDOW_SECONDS. The address is checked first: one address asking for many numbers is the abuse (SMS
    bombing) these limits exist for."""
    checks = []
    if address:
        checks.append(("address", f"smsa:{address[:60]}", settings.sms_window_seconds, settings.sms_max_per_address))
    checks += [("phone", phone_key(secret, phone, "smsr"), settings.sms_resend_seconds, 1),
               ("phone", phone_key(secret, phone, "smsp"), settings.sms_window_seconds, settings.sms_max_per_phone)]
    for per, key, window, limit in checks:
        count, start = await _bump(db, key, window, now)
        if count > limit:
            wait = (start + timedelta(seconds=window) - now).total_seconds()
            raise SmsRateLimited(max(1, math.ceil(wait)), per)
