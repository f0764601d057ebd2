"""Compaction of the roll-ups' slots (issue 20): a cell's rows in its spread slots are added into its base slot
(0; hour * SLOTS for an HOUR cell: rollup_math.base_slot) and deleted.

Steps spread a community's and a street's cells over rollup_math.SLOTS rows (the report id modulo SLOTS) so that
concurrent steps do not queue on one row; every read sums the slots, so a read of a year of histograms read ~8x
the rows. Once a cell is no longer written by the steps of new reports, its slots have done their job: moving
their counts into the base slot keeps every sum over slots (the only thing anything reads) and leaves one row per
cell (per bucket). A later step of an old report adds to or subtracts from its own slot again (a row that may go
below 0: no constraint forbids it, nothing reads one slot alone); the next pass folds it in.

Which cells: the DAY and HOUR cells of the days before today (China) and the MONTH cells of the months before the
current one. Today's and this month's cells are the ones concurrent steps of new reports write; folding them would
lock those hot rows and they would spread again within seconds (docs/decisions.md, "compaction of slots").

One batch is one atomic statement per table. PostgreSQL: a data-modifying CTE picks up to BATCH rows outside their
base slot (FOR UPDATE SKIP LOCKED: it never waits on a step), deletes them RETURNING their counts, and an
INSERT ... ON CONFLICT adds their sums per cell into the base slot, in cell order. The batch waits only for
base-slot rows, in the order every step locks its rows; a step of a report of spread 0 locks only base-slot rows,
a step of another spread never waits for a base-slot row: a batch and a step cannot deadlock. A step of an old
report waits at most for a batch's statement (its row outside the base slot picked and deleted), then inserts that
slot's row anew.
SQLite: the same INSERT ... SELECT and DELETE in the caller's write transaction (BEGIN IMMEDIATE excludes every
other writer). Run by the worker (job `rollups_compacted`), at the end of `weilinli rollups rebuild` and so
of the bench's seed.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Table, and_, bindparam, delete, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.core.config import Settings
from app.db.session import WRITE_OPTION
from app.stats import rollup_math
from app.stats.models import report_rollup_histograms, report_rollups
from app.stats.rollup_math import BUCKETS, COUNTERS, KEY
from app.stats.rollup_slices import lit

BATCH = 5000  # rows outside their base slot moved per statement
EVERY_SECONDS = 600.0  # the worker's pass compacts at most this often once nothing is left (a scan of the tables)

_CELL = tuple(k for k in KEY if k != "slot")  # a cell without its slot
TABLES = {"report_rollups": (report_rollups, _CELL, COUNTERS),
          "report_rollup_histograms": (report_rollup_histograms, (*_CELL, "metric", "chunk"), BUCKETS)}


def _spread(slot: Any) -> ColumnElement[int]:
    return slot % lit(rollup_math.SLOTS)


def _base(slot: Any) -> ColumnElement[int]:
    """rollup_math.base_slot in SQL."""
    return slot - _spread(slot)


def _past(t: Table) -> ColumnElement[bool]:
    """The rows outside their base slot of the days before :today and the months before :month."""
    today = bindparam("today", type_=Date())
    return and_(_spread(t.c.slot) != 0, or_(and_(t.c.grain.in_([rollup_math.DAY, rollup_math.HOUR]), t.c.day < today),
                                     and_(t.c.grain == rollup_math.MONTH, t.c.day < bindparam("month", type_=Date()))))


@lru_cache(maxsize=8)
def _statements(table: str, dialect: str) -> tuple[Any, ...]:
    t, cell, values = TABLES[table]
    pk = [c.name for c in t.primary_key.columns]
    if dialect == "postgresql":
        # SKIP LOCKED: the pick never waits, so its order does not matter (no ORDER BY: a sort of every candidate
        # per batch made a first compaction quadratic); the sums go into the base slots in cell order, as steps lock
        picked = (select(*(t.c[k] for k in (*cell, "slot"))).where(_past(t)).limit(bindparam("batch"))
                  .with_for_update(skip_locked=True).cte("picked"))
        moved = (delete(t).where(*(t.c[k] == picked.c[k] for k in (*cell, "slot")))
                 .returning(*(t.c[k] for k in (*cell, "slot", *values))).cte("moved"))
        base = _base(moved.c.slot)
        sums = select(*(moved.c[k] for k in cell), base, *(func.sum(moved.c[v]) for v in values)) \
            .group_by(*(moved.c[k] for k in cell), base).order_by(*(moved.c[k] for k in cell), base)
        insert = pg_insert(t).from_select([*cell, "slot", *values], sums)
        added = insert.on_conflict_do_update(index_elements=pk, set_={v: t.c[v] + insert.excluded[v] for v in values}) \
            .returning(literal_column("1")).cte("added")
        return (select(select(func.count()).select_from(moved).scalar_subquery().label("moved"),
                       select(func.count()).select_from(added).scalar_subquery().label("cells")),)
    # SQLite: the sums into the base slots, then the rows deleted, in the caller's write transaction
    base = _base(t.c.slot)
    sums = select(*(t.c[k] for k in cell), base, *(func.sum(t.c[v]) for v in values)) \
        .where(_past(t)).group_by(*(t.c[k] for k in cell), base)
    lite = sqlite_insert(t).from_select([*cell, "slot", *values], sums)
    return (lite.on_conflict_do_update(index_elements=pk, set_={v: t.c[v] + lite.excluded[v] for v in values}),
            delete(t).where(_past(t)))


def _params(today: date) -> dict[str, Any]:
    return {"today": today, "month": rollup_math.month_of(today), "batch": BATCH}


async def compact_batch(conn: AsyncConnection, today: date) -> int:
    """One batch per table in the caller's transaction (on SQLite a write transaction): the rows outside their base
    slot it moved (0: nothing left before `today`)."""
    moved = 0
    params = _params(today)
    for table in TABLES:  # counters before histograms, like the steps
        stmts = _statements(table, conn.dialect.name)
        if conn.dialect.name == "postgresql":
            moved += int((await conn.execute(stmts[0], params)).mappings().one()["moved"])
        else:
            await conn.execute(stmts[0], params)
            moved += (await conn.execute(stmts[1], params)).rowcount
    return moved


async def compact(engine: AsyncEngine, today: date) -> int:
    """Every cell before `today` (the rebuild's and the seed's pass): batches, each in its own transaction."""
    total = 0
    while True:
        async with engine.connect() as raw:
            conn = await raw.execution_options(**{WRITE_OPTION: True})
            async with conn.begin():
                moved = await compact_batch(conn, today)
        total += moved
        if not moved:
            return total


_last_empty: dict[str, float] = {}  # per process: when a pass last found nothing to move


async def compact_job(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """The worker's job: one batch (the runner calls it again while it moves rows), then a rest of EVERY_SECONDS
    once a pass found nothing: finding the rows scans the tables, and past cells gain slot rows slowly."""
    key = settings.database_url
    if time.monotonic() - _last_empty.get(key, -EVERY_SECONDS) < EVERY_SECONDS:
        return 0
    moved = await compact_batch(await db.connection(), rollup_math.china_day(now))
    if not moved:
        _last_empty[key] = time.monotonic()
    return moved
