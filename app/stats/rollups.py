"""Keeping the roll-ups (app/stats/models.py) in the step's own transaction: one multi-row upsert for the
counters and one for the histogram buckets, `n = n + excluded.n`, never a read of the counter in Python. The
deltas are computed from the report's row as the step found it and as the step leaves it (rollup_math.delta);
the step's conditional UPDATE on the report's version proves that row was the current one, so concurrent steps
on one report cannot both apply a delta, and concurrent steps on different reports only add to the counters.

Rows are written in cell order (rollup_math.delta sorts them), counters before histograms, so two writers lock
shared rows in the same order. The statements are built once per (dialect, number of rows) and bound per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.reader import Prepared
from app.stats import rollup_math
from app.stats.models import report_rollup_durations, report_rollups
from app.stats.rollup_math import COUNTERS, HISTOGRAM_KEY, KEY, Cell, HistCell

# Off only in the bench's same-run comparison of a step with and without roll-ups (bench/app.py); never in
# production, where every change of a report keeps them.
ENABLED = True


def fields_of(report: Any) -> dict[str, Any]:
    """The FIELDS of a report (an ORM entity or a row with those attributes)."""
    return {f: getattr(report, f) for f in rollup_math.FIELDS}


def _upsert(table: Table, dialect: str, columns: tuple[str, ...], key: tuple[str, ...], adds: tuple[str, ...],
            n: int) -> Prepared:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values([{c: bindparam(f"{c}_{i}", type_=table.c[c].type) for c in columns}
                                 for i in range(n)])
    return Prepared(stmt.on_conflict_do_update(index_elements=list(key),
                                               set_={c: table.c[c] + stmt.excluded[c] for c in adds}))


@lru_cache(maxsize=128)
def counters_sql(dialect: str, n: int) -> Prepared:
    return _upsert(report_rollups, dialect, (*KEY, *COUNTERS), KEY, COUNTERS, n)


@lru_cache(maxsize=128)
def histogram_sql(dialect: str, n: int) -> Prepared:
    return _upsert(report_rollup_durations, dialect, (*HISTOGRAM_KEY, "n"), HISTOGRAM_KEY, ("n",), n)


def counter_params(changed: Sequence[tuple[Cell, Mapping[str, int]]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (cell, values) in enumerate(changed):
        params.update({f"{c}_{i}": v for c, v in zip(KEY, cell, strict=True)})
        params.update({f"{c}_{i}": values[c] for c in COUNTERS})
    return params


def histogram_params(hist: Sequence[tuple[HistCell, int]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (cell, n) in enumerate(hist):
        params.update({f"{c}_{i}": v for c, v in zip(HISTOGRAM_KEY, cell, strict=True)})
        params[f"n_{i}"] = n
    return params


BATCH = 200  # rows per statement when a rebuild writes its corrections


def statements(dialect: str, changed: Sequence[tuple[Cell, Mapping[str, int]]],
               hist: Sequence[tuple[HistCell, int]]) -> list[tuple[Prepared, dict[str, Any]]]:
    """The upserts adding these deltas, counters first, at most BATCH rows each."""
    out = []
    for i in range(0, len(changed), BATCH):
        part = changed[i:i + BATCH]
        out.append((counters_sql(dialect, len(part)), counter_params(part)))
    for i in range(0, len(hist), BATCH):
        hpart = hist[i:i + BATCH]
        out.append((histogram_sql(dialect, len(hpart)), histogram_params(hpart)))
    return out


async def apply(db: AsyncSession | AsyncConnection, old: Mapping[str, Any] | None,
                new: Mapping[str, Any] | None) -> None:
    """Replace a report's contribution `old` (its FIELDS before; None for a new report) by `new`, in the
    caller's transaction."""
    if not ENABLED:
        return
    changed, hist = rollup_math.delta(old, new)
    if not changed and not hist:
        return
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    for prepared, params in statements(conn.dialect.name, changed, hist):
        await conn.execute(prepared.stmt, params)


def apply_sync(conn: Connection, changed: Sequence[tuple[Cell, Mapping[str, int]]],
               hist: Sequence[tuple[HistCell, int]]) -> None:
    """The same upserts on a synchronous connection (the migration's)."""
    for prepared, params in statements(conn.dialect.name, changed, hist):
        conn.execute(prepared.stmt, params)
