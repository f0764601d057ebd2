"""Rebuilding the roll-ups from the reports (`weilinli rollups rebuild [--from DATE]`, and the migration that
creates them): idempotent, a calendar month (China time) at a time, safe while the service runs.

For each month: read, in ONE snapshot, the month's reports and the month's roll-up rows; the roll-ups the
reports make (rollup_math.add, the same code every step uses) minus the ones stored is the drift; add the drift
with the same `n = n + excluded.n` upserts the steps use. A step committed after the snapshot changed both the
reports and the roll-ups, so the drift seen in the snapshot is still the drift to correct, and adding it cannot
lose the step's own increments. A month without drift writes nothing (so running it twice changes nothing).

The snapshot: PostgreSQL, a REPEATABLE READ read-only transaction, then the corrections in a transaction of
their own; one rebuild at a time (a session advisory lock: two at once would both correct the same drift).
SQLite: the month is read and corrected in one write transaction (BEGIN IMMEDIATE), which excludes every
other writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.session import WRITE_OPTION
from app.reports.models import Report
from app.stats import compaction, rollup_math, rollups
from app.stats.models import report_rollup_histograms, report_rollups
from app.stats.rollup_math import BUCKETS, CHUNK_KEY, COUNTERS, KEY, Cell, HistCell

ADVISORY_KEY = 20_2012_06  # pg_advisory_lock key of the rebuild (issue 20)

_t = Report.__table__
MONTH_REPORTS = select(*(_t.c[f] for f in rollup_math.FIELDS)).where(
    _t.c.created_at >= bindparam("start", type_=_t.c.created_at.type),
    _t.c.created_at < bindparam("end", type_=_t.c.created_at.type))
_first = bindparam("first", type_=report_rollups.c.day.type)
_after = bindparam("after", type_=report_rollups.c.day.type)
MONTH_COUNTERS = select(*(report_rollups.c[c] for c in (*KEY, *COUNTERS))).where(
    and_(report_rollups.c.day >= _first, report_rollups.c.day < _after))
MONTH_HISTOGRAM = select(*(report_rollup_histograms.c[c] for c in (*CHUNK_KEY, *BUCKETS))).where(
    and_(report_rollup_histograms.c.day >= _first, report_rollup_histograms.c.day < _after))
SPAN = select(func.min(_t.c.created_at).label("first"), func.max(_t.c.created_at).label("last"))
ROLLUP_SPAN = select(func.min(report_rollups.c.day).label("first"), func.max(report_rollups.c.day).label("last"))


@dataclass
class Outcome:
    months: int = 0
    reports: int = 0
    cells_corrected: int = 0
    buckets_corrected: int = 0
    rows_compacted: int = 0


def month_params(month: date) -> dict[str, Any]:
    return {"start": rollup_math.day_start(month), "end": rollup_math.day_start(rollup_math.next_month(month)),
            "first": month, "after": rollup_math.next_month(month)}


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


_SLOT = KEY.index("slot")


def _base_slot(cell: Any) -> Any:
    """The same cell in its base slot (rollup_math.base_slot; a counter cell or a histogram bucket)."""
    return (*cell[:_SLOT], rollup_math.base_slot(cell[_SLOT]), *cell[_SLOT + 1:])


def corrections(reports: Sequence[Mapping[str, Any]] | Sequence[Any], counters: Sequence[Any],
                histogram: Sequence[Any]) \
        -> tuple[list[tuple[Cell, dict[str, int]]], list[tuple[HistCell, int]]]:
    """What to add to the stored rows (`counters`, `histogram`: its rows of CHUNK buckets) so that each cell's sums
    over its slots equal what `reports` make: the corrections, per bucket, go to the base slot (a row-by-row
    comparison would undo the compaction of slots, app/stats/compaction.py)."""
    made: dict[Cell, dict[str, int]] = {}
    made_hist: dict[HistCell, int] = {}
    for r in reports:
        rollup_math.add(made, made_hist, r)
    want: dict[Cell, dict[str, int]] = {}
    want_hist: dict[HistCell, int] = {}

    def fold(cell: Cell, values: Mapping[str, Any], sign: int) -> None:  # into the cell's base slot
        into = want.setdefault(_base_slot(cell), dict.fromkeys(COUNTERS, 0))
        for c in COUNTERS:
            into[c] += sign * int(values[c])

    def fold_bucket(hc: HistCell, n: int) -> None:
        h0 = _base_slot(hc)
        want_hist[h0] = want_hist.get(h0, 0) + n

    for made_cell, values in made.items():
        fold(made_cell, values, 1)
    for made_hc, n in made_hist.items():
        fold_bucket(made_hc, n)
    for row in counters:
        fold((*(row[k] for k in KEY[:-1]), _as_day(row["day"])), row, -1)
    for row in histogram:
        cell = (*(row[k] for k in KEY[:-1]), _as_day(row["day"]), row["metric"])
        for bucket, n in rollup_math.unchunked(row["chunk"], (row[b] for b in BUCKETS)):
            fold_bucket((*cell, bucket), -n)
    return (sorted((c, v) for c, v in want.items() if any(v.values())),
            sorted((h, n) for h, n in want_hist.items() if n))


def months_between(first: date, last: date) -> list[date]:
    out = [rollup_math.month_of(first)]
    while out[-1] < rollup_math.month_of(last):
        out.append(rollup_math.next_month(out[-1]))
    return out


def _span(report_span: Any, rollup_span: Any, since: date | None) -> list[date]:
    firsts = [rollup_math.china_day(report_span["first"])] if report_span["first"] else []
    lasts = [rollup_math.china_day(report_span["last"])] if report_span["last"] else []
    if rollup_span["first"] is not None:
        firsts.append(_as_day(rollup_span["first"]))
        lasts.append(_as_day(rollup_span["last"]))
    if not firsts:
        return []
    first = max(min(firsts), since) if since else min(firsts)
    return months_between(first, max(lasts)) if first <= max(lasts) else []


# ---- the service's rebuild (async) -----------------------------------------------------------------------------


async def _read_month(conn: AsyncConnection, month: date) -> tuple[list, list, list]:
    params = month_params(month)
    reports = (await conn.execute(MONTH_REPORTS, params)).mappings().all()
    counters = (await conn.execute(MONTH_COUNTERS, params)).mappings().all()
    histogram = (await conn.execute(MONTH_HISTOGRAM, params)).mappings().all()
    return list(reports), list(counters), list(histogram)


async def _write(conn: AsyncConnection, changed: list, hist: list) -> None:
    for prepared, params in rollups.statements(conn.dialect.name, changed, hist):
        await conn.execute(prepared.stmt, params)


async def rebuild(engine: AsyncEngine, since: date | None = None) -> Outcome:
    """Correct the roll-ups of every month from `since`'s (China time; None: from the first report) on."""
    out = Outcome()
    pg = engine.dialect.name == "postgresql"
    async with engine.connect() as lock_conn:
        if pg:
            got: bool = (await lock_conn.execute(select(func.pg_try_advisory_lock(ADVISORY_KEY)))).scalar_one()
            await lock_conn.commit()
            if not got:
                raise RuntimeError("another roll-up rebuild is running")
        try:
            async with engine.connect() as conn:
                span = (await conn.execute(SPAN)).mappings().one()
                rspan = (await conn.execute(ROLLUP_SPAN)).mappings().one()
                await conn.rollback()
            for month in _span(span, rspan, since):
                if pg:
                    async with engine.connect() as conn:
                        snap = await conn.execution_options(isolation_level="REPEATABLE READ")
                        async with snap.begin():
                            reports, counters, histogram = await _read_month(snap, month)
                    changed, hist = corrections(reports, counters, histogram)
                    if changed or hist:
                        async with engine.begin() as conn:
                            await _write(conn, changed, hist)
                else:
                    async with engine.connect() as raw:
                        conn = await raw.execution_options(**{WRITE_OPTION: True})
                        async with conn.begin():
                            reports, counters, histogram = await _read_month(conn, month)
                            changed, hist = corrections(reports, counters, histogram)
                            await _write(conn, changed, hist)
                out.months += 1
                out.reports += len(reports)
                out.cells_corrected += len(changed)
                out.buckets_corrected += len(hist)
            # the cells no step of a new report writes any more: one row per cell (the worker's pass, at once)
            out.rows_compacted = await compaction.compact(engine, rollup_math.china_day(datetime.now(UTC)))
        finally:
            if pg:
                await lock_conn.execute(select(func.pg_advisory_unlock(ADVISORY_KEY)))
                await lock_conn.commit()
    return out


# ---- the migration's build (sync, nothing else running) --------------------------------------------------------


def build_sync(conn: Connection) -> Outcome:
    """Every month's roll-ups on the migration's connection (its transaction)."""
    out = Outcome()
    span = conn.execute(SPAN).mappings().one()
    rspan = conn.execute(ROLLUP_SPAN).mappings().one()
    for month in _span(span, rspan, None):
        params = month_params(month)
        reports = conn.execute(MONTH_REPORTS, params).mappings().all()
        counters = conn.execute(MONTH_COUNTERS, params).mappings().all()
        histogram = conn.execute(MONTH_HISTOGRAM, params).mappings().all()
        changed, hist = corrections(reports, counters, histogram)
        rollups.apply_sync(conn, changed, hist)
        out.months += 1
        out.reports += len(reports)
        out.cells_corrected += len(changed)
        out.buckets_corrected += len(hist)
    return out
