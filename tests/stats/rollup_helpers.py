"""Reading the roll-ups back for tests: every stored row, and the drift from what the reports make."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from sqlalchemy import delete, select

from app.db.migrate import MIGRATIONS_DIR
from app.reports.models import Report
from app.stats import rebuild, rollup_math
from app.stats.models import report_rollup_histograms, report_rollups
from app.stats.rollup_math import BUCKETS, COUNTERS, KEY

_SLOT = KEY.index("slot")


def _base_slot(key: tuple) -> tuple:
    return (*key[:_SLOT], rollup_math.base_slot(key[_SLOT]), *key[_SLOT + 1:])


async def stored(app) -> tuple[dict, dict]:
    """The non-zero roll-ups, each cell summed over its slots (what every read sees; compaction moves counts
    between the slots) and keyed with their base slot (rollup_math.base_slot): {cell: counters}, {histogram cell: n}."""
    counters, hist = await stored_rows(app)
    out: dict = {}
    for key, values in counters.items():
        into = out.setdefault(_base_slot(key), dict.fromkeys(COUNTERS, 0))
        for c in COUNTERS:
            into[c] += values[c]
    out_hist: dict = {}
    for key, n in hist.items():
        out_hist[_base_slot(key)] = out_hist.get(_base_slot(key), 0) + n
    return ({k: v for k, v in out.items() if any(v.values())}, {k: n for k, n in out_hist.items() if n})


async def stored_rows(app) -> tuple[dict, dict]:
    """Every stored roll-up row as it is, slot by slot: {cell: counters}, {histogram cell and bucket: n} (the
    stored rows' non-zero buckets)."""
    async with app.state.db.engine.connect() as conn:
        counters = (await conn.execute(select(report_rollups))).mappings().all()
        hist = (await conn.execute(select(report_rollup_histograms))).mappings().all()
    buckets = {(*(row[k] for k in KEY), row["metric"], bucket): n for row in hist
               for bucket, n in rollup_math.unchunked(row["chunk"], (row[b] for b in BUCKETS))}
    return {tuple(row[k] for k in KEY): {c: int(row[c]) for c in COUNTERS} for row in counters}, buckets


async def drift(app) -> tuple[list, list]:
    """What a rebuild would correct: empty lists when the roll-ups equal what the reports make."""
    t = Report.__table__
    async with app.state.db.engine.connect() as conn:
        reports = (await conn.execute(select(*(t.c[f] for f in rollup_math.FIELDS)))).mappings().all()
        counters = (await conn.execute(select(report_rollups))).mappings().all()
        hist = (await conn.execute(select(report_rollup_histograms))).mappings().all()
    return rebuild.corrections(reports, counters, hist)


async def wipe(app) -> None:
    async with app.state.db.engine.begin() as conn:
        await conn.execute(delete(report_rollups))
        await conn.execute(delete(report_rollup_histograms))


def migration(name: str) -> ModuleType:
    """The migration module versions/*_<name>.py, loaded to call its functions on a test's connection."""
    path = next(MIGRATIONS_DIR.glob(f"versions/*_{name}.py"))
    spec = importlib.util.spec_from_file_location(f"{name}_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
