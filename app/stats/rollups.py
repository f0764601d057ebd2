"""Keeping the roll-ups (app/stats/models.py) in the step's own transaction: one upsert statement for the
counters and one for the histogram buckets, each executed for its rows (executemany), `n = n + excluded.n`,
never a read of the counter in Python. The deltas are computed from the report's row as the step found it and
as the step leaves it (rollup_math.delta); the step's conditional UPDATE on the report's version proves that
row was the current one, so concurrent steps on one report cannot both apply a delta, and concurrent steps on
different reports only add to the counters.

Rows are written in cell order (rollup_math.delta sorts them), counters before histograms, so two writers lock
shared rows in the same order. The statements are built once per dialect and bound per row.

On PostgreSQL a step's deltas go in ONE statement (`step_sql`): each upsert takes its rows as one array parameter
per column (`unnest(...) WITH ORDINALITY`, in the order given), the histograms' upsert a data-modifying CTE of the
counters' one. One round trip and one parameter set instead of two executemany calls of ~14 row dicts: the
per-row parameter handling had been most of the roll-ups' cost in a step (profile in docs/decisions.md, issue 20).
PostgreSQL runs the main statement (the counters) first and the unreferenced CTE (the histograms) after it, so the
lock order stays counters, then histograms, every row in cell order. SQLite keeps the per-row upserts (its
statements are no round trips), and so does the rebuild, whose batches also run on the migration's synchronous
connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, SmallInteger, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
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


def _upsert(table: Table, dialect: str, columns: tuple[str, ...], key: tuple[str, ...],
            adds: tuple[str, ...]) -> Prepared:
    """One row's upsert, executed once per row (executemany): one compiled statement, cached, whatever the
    number of rows (a multi-row VALUES would compile anew for every call)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    return Prepared(stmt.on_conflict_do_update(index_elements=list(key),
                                               set_={c: table.c[c] + stmt.excluded[c] for c in adds}))


@lru_cache(maxsize=4)
def counters_sql(dialect: str) -> Prepared:
    return _upsert(report_rollups, dialect, (*KEY, *COUNTERS), KEY, COUNTERS)


@lru_cache(maxsize=4)
def histogram_sql(dialect: str) -> Prepared:
    return _upsert(report_rollup_durations, dialect, (*HISTOGRAM_KEY, "n"), HISTOGRAM_KEY, ("n",))


def counter_rows(changed: Sequence[tuple[Cell, Mapping[str, int]]]) -> list[dict[str, Any]]:
    return [{**dict(zip(KEY, cell, strict=True)), **{c: values[c] for c in COUNTERS}} for cell, values in changed]


def histogram_rows(hist: Sequence[tuple[HistCell, int]]) -> list[dict[str, Any]]:
    return [{**dict(zip(HISTOGRAM_KEY, cell, strict=True)), "n": n} for cell, n in hist]


BATCH = 1000  # rows per executemany when a rebuild writes its corrections


def statements(dialect: str, changed: Sequence[tuple[Cell, Mapping[str, int]]],
               hist: Sequence[tuple[HistCell, int]]) -> list[tuple[Prepared, list[dict[str, Any]]]]:
    """The upserts adding these deltas (each with its rows, in order), counters first, at most BATCH rows each."""
    out = []
    rows = counter_rows(changed)
    for i in range(0, len(rows), BATCH):
        out.append((counters_sql(dialect), rows[i:i + BATCH]))
    hrows = histogram_rows(hist)
    for i in range(0, len(hrows), BATCH):
        out.append((histogram_sql(dialect), hrows[i:i + BATCH]))
    return out


def _element_type(table: Table, column: str) -> SmallInteger | Integer | BigInteger | Date:
    """The PostgreSQL type of a column's array parameter (the key's id columns are BIGINT there)."""
    t = table.c[column].type
    for kind in (SmallInteger, BigInteger, Integer, Date):
        if isinstance(t, kind):
            return kind()
    return BigInteger()  # IdType: BIGINT on PostgreSQL


def _unnest_upsert(table: Table, columns: tuple[str, ...], key: tuple[str, ...], adds: tuple[str, ...],
                   prefix: str):
    """INSERT ... SELECT FROM unnest(one array per column) WITH ORDINALITY ORDER BY it ... ON CONFLICT add."""
    arrays = [bindparam(prefix + c, type_=ARRAY(_element_type(table, c))) for c in columns]
    rows = func.unnest(*arrays).table_valued(*columns, with_ordinality="ord").render_derived()
    stmt = pg_insert(table).from_select(list(columns), select(*(rows.c[c] for c in columns)).order_by(rows.c.ord))
    return stmt.on_conflict_do_update(index_elements=list(key), set_={c: table.c[c] + stmt.excluded[c] for c in adds})


_COUNTER_COLUMNS = (*KEY, *COUNTERS)
_HISTOGRAM_COLUMNS = (*HISTOGRAM_KEY, "n")


@lru_cache(maxsize=1)
def step_sql() -> Prepared:
    """PostgreSQL: the counters' and the histograms' upserts of one change, in one statement (module docstring)."""
    hist = _unnest_upsert(report_rollup_durations, _HISTOGRAM_COLUMNS, HISTOGRAM_KEY, ("n",), "h_").cte("hist")
    return Prepared(_unnest_upsert(report_rollups, _COUNTER_COLUMNS, KEY, COUNTERS, "c_").add_cte(hist))


def step_params(changed: Sequence[tuple[Cell, Mapping[str, int]]],
                hist: Sequence[tuple[HistCell, int]]) -> dict[str, list[Any]]:
    """step_sql's parameters: one list per column, the rows in the order given (cell order)."""
    params: dict[str, list[Any]] = {}
    cells = list(zip(*(cell for cell, _ in changed), strict=True)) if changed else [()] * len(KEY)
    for name, values in zip(KEY, cells, strict=True):
        params["c_" + name] = list(values)
    for name in COUNTERS:
        params["c_" + name] = [v[name] for _, v in changed]
    hcells = list(zip(*(cell for cell, _ in hist), strict=True)) if hist else [()] * len(HISTOGRAM_KEY)
    for name, values in zip(HISTOGRAM_KEY, hcells, strict=True):
        params["h_" + name] = list(values)
    params["h_n"] = [n for _, n in hist]
    return params


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
    if conn.dialect.name == "postgresql":
        await conn.execute(step_sql().stmt, step_params(changed, hist))
        return
    for prepared, params in statements(conn.dialect.name, changed, hist):
        await conn.execute(prepared.stmt, params)


def apply_sync(conn: Connection, changed: Sequence[tuple[Cell, Mapping[str, int]]],
               hist: Sequence[tuple[HistCell, int]]) -> None:
    """The same upserts on a synchronous connection (the migration's)."""
    for prepared, params in statements(conn.dialect.name, changed, hist):
        conn.execute(prepared.stmt, params)
