"""Keeping the roll-ups (app/stats/models.py) in the step's own transaction: one upsert statement for the
counters and one for the histograms' rows (CHUNK buckets each: rollup_math.chunked), each executed for its rows
(executemany), `n = n + excluded.n`, never a read of the counter in Python. The deltas are computed from the
report's row as the step found it and as the step leaves it (rollup_math.delta); the step's conditional UPDATE on
the report's version proves that row was the current one, so concurrent steps on one report cannot both apply a
delta, and concurrent steps on different reports only add to the counters.

Rows are written in cell order (rollup_math.delta sorts them), counters before histograms, so two writers lock
shared rows in the same order. The statements are built once per dialect and bound per row.

On PostgreSQL a step's deltas go in ONE statement (`step_sql`; `shared_sql` for a step that keeps the report's
cells, which gives the deltas once for all of them): each upsert takes its rows as one JSON text
parameter (an array of rows, each an array of the columns' values, read in the order given), the histograms'
upsert a data-modifying CTE of the counters' one. One round trip and one parameter instead of two executemany
calls of ~14 row dicts: the per-row parameter handling had been most of the roll-ups' cost in a step.
PostgreSQL runs the main statement (the counters) first and the unreferenced CTE (the histograms) after it, so the
lock order stays counters, then histograms, every row in cell order. A step carries the same two upserts on its
last read before COMMIT, the report's detail (`pending`, `Pending.carried`, app/db/reader.Carried): there both are
CTEs, defined histograms first, because PostgreSQL runs unreferenced data-modifying CTEs after the main query, the
last defined first (tests/db/test_reader checks it); a round trip fewer per step. SQLite keeps the per-row upserts (its
statements are no round trips), and so does the rebuild, whose batches also run on the migration's synchronous
connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    SmallInteger,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.reader import Carried, Prepared, pg_text
from app.stats import rollup_math
from app.stats.models import report_rollup_histograms, report_rollups
from app.stats.rollup_math import BUCKETS, CHUNK_KEY, COUNTERS, KEY, Cell, HistCell

_COUNTER_COLUMNS = (*KEY, *COUNTERS)
_HISTOGRAM_COLUMNS = (*CHUNK_KEY, *BUCKETS)

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
    return _upsert(report_rollup_histograms, dialect, _HISTOGRAM_COLUMNS, CHUNK_KEY, BUCKETS)


def counter_rows(changed: Sequence[tuple[Cell, Mapping[str, int]]]) -> list[dict[str, Any]]:
    return [{**dict(zip(KEY, cell, strict=True)), **{c: values[c] for c in COUNTERS}} for cell, values in changed]


def histogram_rows(hist: Sequence[tuple[HistCell, int]]) -> list[dict[str, Any]]:
    """The bucket deltas as the stored rows' deltas (rollup_math.chunked), in cell order."""
    return [dict(zip(_HISTOGRAM_COLUMNS, (*key, *counts), strict=True)) for key, counts in rollup_math.chunked(hist)]


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


def _column_type(table: Table, column: str) -> SmallInteger | Integer | BigInteger | Date:
    """The PostgreSQL type of a column in the rows' record definition (the key's id columns are BIGINT there)."""
    t = table.c[column].type
    for kind in (SmallInteger, BigInteger, Integer, Date):
        if isinstance(t, kind):
            return kind()
    return BigInteger()  # IdType: BIGINT on PostgreSQL


def _json_rows(table: Table, columns: tuple[str, ...], param: str) -> tuple[Any, list[Any]]:
    """The rows of a JSON text parameter (an array of rows, each a JSON array of `columns`' values of `table`, in
    that order) as a derived table (its ordinality `i`: the rows' order) and the values cast to the columns' types.
    As arrays per column, asyncpg checked every element against the container ABCs (~0.2 ms of a step for ~400
    numbers); JSON objects cost twice the encoding of plain arrays."""
    rows = func.jsonb_array_elements(cast(bindparam(param, type_=Text), JSONB)).table_valued(
        "value", with_ordinality="i").render_derived()
    return rows, [cast(rows.c.value.op("->>")(literal_column(str(n))), _column_type(table, c)).label(c)
                  for n, c in enumerate(columns)]


def _adding(table: Table, columns: tuple[str, ...], key: tuple[str, ...], adds: tuple[str, ...], rows: Any) -> Any:
    """INSERT the select `rows` (of `columns`, in the order it gives) ... ON CONFLICT add `adds`."""
    stmt = pg_insert(table).from_select(list(columns), rows)
    return stmt.on_conflict_do_update(index_elements=list(key), set_={c: table.c[c] + stmt.excluded[c] for c in adds})


def _json_rows_upsert(table: Table, columns: tuple[str, ...], key: tuple[str, ...], adds: tuple[str, ...],
                      param: str) -> Any:
    """The upsert adding the rows of the JSON parameter `param` (_json_rows), in the rows' order."""
    rows, values = _json_rows(table, columns, param)
    return _adding(table, columns, key, adds, select(*values).order_by(rows.c.i))


def _step_upserts() -> tuple[Any, Any]:
    """step_sql's two upserts: the counters' and the histograms' (as a CTE)."""
    hist = _json_rows_upsert(report_rollup_histograms, _HISTOGRAM_COLUMNS, CHUNK_KEY, BUCKETS, "hist").cte("hist")
    return _json_rows_upsert(report_rollups, _COUNTER_COLUMNS, KEY, COUNTERS, "counters"), hist


@lru_cache(maxsize=1)
def step_sql() -> Prepared:
    """PostgreSQL: the counters' and the histograms' upserts of one change, in one statement (module docstring)."""
    counters, hist = _step_upserts()
    return Prepared(pg_text(counters.add_cte(hist)))


def _typed(table: Table, columns: tuple[str, ...], param: str, *, once: bool = False) -> Any:
    """The rows of a JSON parameter (_json_rows) as a CTE of typed columns and their order `i`: each value read and
    cast once per row of the parameter. `once`: MATERIALIZED, for a CTE read once whose rows the join repeats (an
    inlined one casts its values again for every row it joins with: 7 cells x 25 counters)."""
    rows, values = _json_rows(table, columns, param)
    cte = select(rows.c.i, *values).select_from(rows).cte(f"{param}_rows")
    return cte.prefix_with("MATERIALIZED") if once else cte


def _shared_upserts() -> tuple[Any, Any]:
    """shared_sql's two upserts: the counters' and the histograms' (as a CTE)."""
    cells = _typed(report_rollups, KEY, "cells")  # read twice: materialized anyway
    diff = _typed(report_rollups, COUNTERS, "diff", once=True)  # no row when nothing counted changed
    spans = _typed(report_rollup_histograms, ("metric", "chunk", *BUCKETS), "spans", once=True)
    keys = [cells.c[k] for k in KEY]
    kept = cells.c.cut.in_([literal_column(str(c)) for c in rollup_math.HISTOGRAM_CUTS])  # cells with histograms
    hist = _adding(report_rollup_histograms, _HISTOGRAM_COLUMNS, CHUNK_KEY, BUCKETS,
                   select(*keys, *(spans.c[c] for c in ("metric", "chunk", *BUCKETS))).select_from(cells)
                   .join(spans, literal_column("true")).where(kept).order_by(cells.c.i, spans.c.i)).cte("hist")
    counters = _adding(report_rollups, _COUNTER_COLUMNS, KEY, COUNTERS,
                       select(*keys, *(diff.c[c] for c in COUNTERS)).select_from(cells)
                       .join(diff, literal_column("true")).order_by(cells.c.i))
    return counters, hist


@lru_cache(maxsize=1)
def shared_sql() -> Prepared:
    """PostgreSQL: step_sql for a step that keeps the report's cells (rollup_math.SharedDelta), from its cells, its
    counter deltas and its histogram rows' deltas, each given once (as JSON, like step_sql's rows) and repeated
    per cell by the database: ~130 numbers to encode and parse instead of ~500. The same rows, in the same order.
    Each given value is cast once (_typed): casting the deltas again for every cell was ~15 % of the statement's
    backend CPU (decisions.md, issue 20, twelfth pass)."""
    counters, hist = _shared_upserts()
    return Prepared(pg_text(counters.add_cte(hist)))


_UPSERTS = {"step": _step_upserts, "shared": _shared_upserts}
_SQL = {"step": step_sql, "shared": shared_sql}


@lru_cache(maxsize=2)
def _carried(kind: str) -> tuple[Any, ...]:
    """A Pending's upserts as the CTEs of a statement that carries them: the histograms' first and the counters'
    last. PostgreSQL runs a statement's unreferenced data-modifying CTEs after its main query, the last one
    defined first, so the counters' rows are locked before the histograms' as in step_sql (every writer's order)."""
    counters, hist = _UPSERTS[kind]()
    return hist, counters.cte("counters")


class Pending(NamedTuple):
    """PostgreSQL: one change's roll-up deltas, as the parameters of step_sql ("step") or shared_sql ("shared").
    Written by `write`, or by a statement of the step that carries them (`carried`): a round trip fewer."""

    kind: str
    params: dict[str, str]

    def carried(self) -> Carried:
        return Carried(_carried(self.kind), self.params)


def pending(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Pending | None:
    """PostgreSQL: the deltas of replacing a report's contribution `old` (None for a new report) by `new`; None when
    nothing counted changes (or the roll-ups are off: the bench's comparison)."""
    if not ENABLED:
        return None
    shared = rollup_math.shared_delta(old, new) if old is not None and new is not None else None
    if shared is not None:
        params = shared_params(shared)
        return None if params is None else Pending("shared", params)
    changed, hist = rollup_math.delta_many([(old, new)])
    return Pending("step", step_params(changed, hist)) if changed or hist else None


async def write(db: AsyncSession | AsyncConnection, change: Pending | None) -> None:
    """Write a Pending change on its own, in the caller's transaction."""
    if change is not None:
        conn = await _connection(db)
        await conn.execute(_SQL[change.kind]().stmt, change.params)


_counter_values = itemgetter(*COUNTERS)


assert KEY.index("day") == 8 == len(KEY) - 1  # a cell's day, and a chunk row's (its key's metric and chunk follow)


def step_params(changed: Sequence[tuple[Cell, Mapping[str, int]]],
                hist: Sequence[tuple[HistCell, int]]) -> dict[str, str]:
    """step_sql's parameters: each upsert's rows as one JSON array of arrays (the columns' values), in cell order.
    The days are written as text first: json.dumps with a `default` builds a new encoder on every call (~2 % of
    a step's samples)."""
    counters = [[*cell[:8], cell[8].isoformat(), *_counter_values(values)] for cell, values in changed]
    buckets = [[*key[:8], key[8].isoformat(), *key[9:], *counts] for key, counts in rollup_math.chunked(hist)]
    return {"counters": json.dumps(counters), "hist": json.dumps(buckets)}


def shared_params(shared: rollup_math.SharedDelta) -> dict[str, str] | None:
    """shared_sql's parameters (step_params' JSON), or None when the step changes nothing counted."""
    diff = [_counter_values(shared.diff)] if any(shared.diff.values()) else []
    spans = [[metric, chunk, *counts] for (metric, chunk), counts in rollup_math.chunked_spans(shared.spans)]
    if not diff and not spans:
        return None
    cells = [[*cell[:8], cell[8].isoformat()] for cell in shared.cells]
    return {"cells": json.dumps(cells), "diff": json.dumps(diff), "spans": json.dumps(spans)}


async def apply(db: AsyncSession | AsyncConnection, old: Mapping[str, Any] | None,
                new: Mapping[str, Any] | None) -> None:
    """Replace a report's contribution `old` (its FIELDS before; None for a new report) by `new`, in the
    caller's transaction. On PostgreSQL a step that keeps the report's cells sends its deltas once (shared_sql)."""
    if not ENABLED:
        return
    conn = await _connection(db)
    if conn.dialect.name == "postgresql":
        await write(conn, pending(old, new))
        return
    shared = rollup_math.shared_delta(old, new) if old is not None and new is not None else None
    await _write(conn, *(rollup_math.delta_many([(old, new)]) if shared is None else rollup_math.expanded(shared)))


async def apply_many(db: AsyncSession | AsyncConnection,
                     changes: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> None:
    """apply() for several reports' (old, new) at once: their deltas summed per cell and written in cell order, so
    a transaction changing many reports takes each cell's lock once and in the order every step takes them."""
    if not ENABLED or not changes:
        return
    await _write(db, *rollup_math.delta_many(changes))


async def _connection(db: AsyncSession | AsyncConnection) -> AsyncConnection:
    return await db.connection() if isinstance(db, AsyncSession) else db


async def _write(db: AsyncSession | AsyncConnection, changed: Sequence[tuple[Cell, Mapping[str, int]]],
                 hist: Sequence[tuple[HistCell, int]]) -> None:
    if not changed and not hist:
        return
    conn = await _connection(db)
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
