"""Human report numbers: BS + date (China time) + '-' + a per-street-per-day sequence, e.g. BS20261122-0001."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.reader import Prepared, SessionRows
from app.reports.models import Report, ReportCounter

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving: a fixed offset is exact


def china_day(now: datetime) -> str:
    return now.astimezone(CHINA).strftime("%Y%m%d")


def provisional() -> str:
    """A report's number until assign_number gives the real one, in the same transaction (never committed)."""
    return "~" + uuid.uuid4().hex[:23]


@lru_cache(maxsize=4)
def _number_sql(dialect: str) -> tuple[Prepared, Prepared | None]:
    """(PostgreSQL) the counter's upsert inside the report's UPDATE; (SQLite) the upsert, then the UPDATE."""
    counters, reports = ReportCounter.__table__, Report.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    bump = (insert(counters).values(street_id=bindparam("counter_street_id", type_=counters.c.street_id.type),
                                    day=bindparam("counter_day", type_=counters.c.day.type), last=1)
            .on_conflict_do_update(index_elements=[counters.c.street_id, counters.c.day],
                                   set_={"last": counters.c.last + 1})
            .returning(counters.c.last))
    now = bindparam("now", type_=reports.c.updated_at.type)
    if dialect == "postgresql":
        seq = bump.cte("seq")
        digits = cast(select(seq.c.last).scalar_subquery(), Text)  # (a data-modifying WITH runs exactly once)
        number = bindparam("prefix", type_=Text) + func.lpad(digits, func.greatest(4, func.length(digits)), "0")
        # updated_at given: its Python onupdate came out NULL in an UPDATE carrying an INSERT in its WITH
        return Prepared(reports.update().values(number=number, updated_at=now)
                        .where(reports.c.id == bindparam("report_id")).returning(reports.c.number)
                        .add_cte(seq)), None
    return Prepared(bump), Prepared(reports.update().values(number=bindparam("number"), updated_at=now)
                                    .where(reports.c.id == bindparam("report_id")).returning(reports.c.id))


async def assign_number(db: AsyncSession, report_id: int, street_id: int, now: datetime) -> str:
    """Give the report the next number of its street's counter for today: an upsert, so concurrent submitters
    get distinct numbers on both databases (the unique constraint on (street_id, number) backs it), and no gap,
    since the counter moves in the report's own transaction.

    The counter row stays locked until COMMIT, and every submission of the street queues on it: call this last,
    just before the transaction ends. On PostgreSQL the increment and the report's UPDATE are one statement."""
    day = china_day(now)
    rows = SessionRows(db)
    numbered, then = _number_sql(rows.dialect_name)
    params = {"counter_street_id": street_id, "counter_day": day, "report_id": report_id, "now": now}
    if then is None:
        return (await rows.all(numbered, {**params, "prefix": f"BS{day}-"}))[0]["number"]
    number = f"BS{day}-{(await rows.all(numbered, params))[0]['last']:04d}"
    await rows.all(then, {**params, "number": number})
    return number
