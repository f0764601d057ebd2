"""Reading the roll-ups back for tests: every stored row, and the drift from what the reports make."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.reports.models import Report
from app.stats import rebuild, rollup_math
from app.stats.models import report_rollup_durations, report_rollups
from app.stats.rollup_math import COUNTERS, HISTOGRAM_KEY, KEY


async def stored(app) -> tuple[dict, dict]:
    """The non-zero roll-up rows: {cell: counters}, {histogram cell: n}."""
    async with app.state.db.engine.connect() as conn:
        counters = (await conn.execute(select(report_rollups))).mappings().all()
        hist = (await conn.execute(select(report_rollup_durations))).mappings().all()
    out = {}
    for row in counters:
        values = {c: int(row[c]) for c in COUNTERS}
        if any(values.values()):
            out[tuple(row[k] for k in KEY)] = values
    return out, {tuple(row[k] for k in HISTOGRAM_KEY): int(row["n"]) for row in hist if row["n"]}


async def drift(app) -> tuple[list, list]:
    """What a rebuild would correct: empty lists when the roll-ups equal what the reports make."""
    t = Report.__table__
    async with app.state.db.engine.connect() as conn:
        reports = (await conn.execute(select(*(t.c[f] for f in rollup_math.FIELDS)))).mappings().all()
        counters = (await conn.execute(select(report_rollups))).mappings().all()
        hist = (await conn.execute(select(report_rollup_durations))).mappings().all()
    return rebuild.corrections(reports, counters, hist)


async def wipe(app) -> None:
    async with app.state.db.engine.begin() as conn:
        await conn.execute(delete(report_rollups))
        await conn.execute(delete(report_rollup_durations))
