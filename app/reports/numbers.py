"""Human report numbers: BS + date (China time) + '-' + a per-street-per-day sequence, e.g. BS20261122-0001."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.models import ReportCounter

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving: a fixed offset is exact


def china_day(now: datetime) -> str:
    return now.astimezone(CHINA).strftime("%Y%m%d")


async def next_number(db: AsyncSession, street_id: int, now: datetime) -> str:
    """Atomic increment of the street's counter for today (an upsert; concurrent submitters get distinct
    numbers on both databases, and the unique constraint on (street_id, number) backs it)."""
    day = china_day(now)
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    t = ReportCounter.__table__
    stmt = (insert(t).values(street_id=street_id, day=day, last=1)
            .on_conflict_do_update(index_elements=[t.c.street_id, t.c.day], set_={"last": t.c.last + 1})
            .returning(t.c.last))
    seq = (await db.execute(stmt)).scalar_one()
    return f"BS{day}-{seq:04d}"
