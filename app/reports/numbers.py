"""Human report numbers: BS + date (China time) + '-' + a per-street-per-day sequence, e.g. BS20261122-0001."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.models import Report, ReportCounter

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving: a fixed offset is exact


def china_day(now: datetime) -> str:
    return now.astimezone(CHINA).strftime("%Y%m%d")


def provisional() -> str:
    """A report's number until assign_number gives the real one, in the same transaction (never committed)."""
    return "~" + uuid.uuid4().hex[:23]


async def assign_number(db: AsyncSession, report_id: int, street_id: int, now: datetime) -> str:
    """Give the report the next number of its street's counter for today: an upsert, so concurrent submitters
    get distinct numbers on both databases (the unique constraint on (street_id, number) backs it), and no gap,
    since the counter moves in the report's own transaction.

    The counter row stays locked until COMMIT, and every submission of the street queues on it: call this last,
    just before the transaction ends. On PostgreSQL the increment and the report's UPDATE are one statement."""
    day = china_day(now)
    counters, reports = ReportCounter.__table__, Report.__table__
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    bump = (insert(counters).values(street_id=street_id, day=day, last=1)
            .on_conflict_do_update(index_elements=[counters.c.street_id, counters.c.day],
                                   set_={"last": counters.c.last + 1})
            .returning(counters.c.last))
    if db.bind.dialect.name == "postgresql":
        seq = bump.cte("seq")
        digits = cast(select(seq.c.last).scalar_subquery(), Text)  # (a data-modifying WITH runs exactly once)
        number = literal(f"BS{day}-") + func.lpad(digits, func.greatest(4, func.length(digits)), "0")
        # updated_at given: its Python onupdate came out NULL in an UPDATE carrying an INSERT in its WITH
        stmt = reports.update().values(number=number, updated_at=now).where(reports.c.id == report_id)\
            .returning(reports.c.number)
        return (await db.execute(stmt.add_cte(seq))).scalar_one()
    number = f"BS{day}-{(await db.execute(bump)).scalar_one():04d}"
    await db.execute(reports.update().values(number=number, updated_at=now).where(reports.c.id == report_id))
    return number
