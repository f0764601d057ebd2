"""The figures read from the roll-ups: whole China days from the cells (app/stats/models.py), the partial first or
last day from the reports themselves (their contributions, rollup_math, the same code that keeps the cells; a
street's from its HOUR cells and at most an hour of its reports: rollup_math.read_plan), and what depends on the
clock (overdue now, still waiting past respond_by) from the counters of the deadlines the worker announced plus,
live, the set's open reports past a deadline not announced yet (a partial index of those).
On PostgreSQL a set ungrouped or per day is one statement, the chunks holding the percentiles found by the database
(_one_read_sql), planned once per connection of the generic pool (reader.Prepared.generic;
tests/stats/test_rollup_plans.py).

A report set maps to the cells of one cut: its scope and filters become equalities on the cut's key columns
(street, community, grid, category, department). A set the cells cannot express (a building's or a path
scope, a building filter) has no cells: `None`, and the caller uses the exact queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Date,
    DateTime,
    Integer,
    SmallInteger,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse
from sqlalchemy.types import NullType

from app.db.reader import Prepared, Rows, pg_text
from app.org.models import Department, Grid
from app.reports.models import Report
from app.stats import rollup_math, rollup_slices
from app.stats.models import report_rollup_histograms, report_rollups
from app.stats.queries import NOW, ReportSet, bucket_expression, conditions
from app.stats.rollup_math import (
    BUCKETS,
    CHUNK,
    COMMUNITY,
    COUNTERS,
    DAY,
    FINE,
    HOUR,
    MONTH,
    SLOTS,
    STREET,
    STREET_DEPT,
    month_of,
    next_month,
)
from app.stats.rollup_slices import lit

CUT_COLUMNS = {STREET: {"street_id"}, COMMUNITY: {"street_id", "community_id"},
               STREET_DEPT: {"street_id", "department_id"},
               FINE: {"street_id", "community_id", "grid_id", "category_id", "department_id"}}
ALL_COLUMNS = ("community_id", "grid_id", "category_id", "department_id", "street_id")
PREFERENCE = (STREET, COMMUNITY, STREET_DEPT, FINE)  # the fewest cells first
_SET_COLUMNS = {"street_id", "community_id", "grid_id"}  # the report columns a scope or place may match on
GROUPS = {"department_id": Report.handler_department_id, "grid_id": Report.grid_id,
          "community_id": Report.community_id}


@dataclass(frozen=True, slots=True)
class CellShape:
    cut: int
    equal: tuple[str, ...]      # key columns matched on a value (bound as eq_0, eq_1, ...)
    group: str | None = None    # a key column the sums are per ("day", "department_id", "grid_id", "community_id")


def cell_shape(rs: ReportSet, group: str | None = None, histogram: bool = False) \
        -> tuple[CellShape, dict[str, Any]] | None:
    """The cells holding exactly the reports of `rs` (per `group`), and their equalities' values; with
    `histogram`, a cut that keeps histograms."""
    equal: list[tuple[str, Any]] = []
    shape = rs.shape
    if shape.viewer is None:
        equal.append(("street_id", rs.params["street_id"]) if shape.street
                     else ("community_id", rs.params["community_id"]))
    elif shape.viewer.scope in _SET_COLUMNS:
        equal.append((shape.viewer.scope, rs.params["viewer_scope_id"]))
    else:
        return None
    if shape.place is not None:
        if shape.place not in _SET_COLUMNS:
            return None
        equal.append((shape.place, rs.params["place_id"]))
    if shape.department:
        equal.append(("department_id", rs.params["department_id"]))
    if shape.category:
        equal.append(("category_id", rs.params["category_id"]))
    needed = {col for col, _ in equal} | ({group} if group not in (None, "day") else set())
    cut = next(c for c in PREFERENCE if needed <= CUT_COLUMNS[c]
               and (not histogram or c in rollup_math.HISTOGRAM_CUTS))
    # the columns the cut keeps at 0 ("every") are matched too, and the street when known (a community's cells
    # hold its street's id), so the read is one range of the primary key
    equal += [(col, 0) for col in ALL_COLUMNS if col not in CUT_COLUMNS[cut]]
    if rs.street_hint is not None and "street_id" in CUT_COLUMNS[cut] and "street_id" not in {c for c, _ in equal}:
        equal.append(("street_id", rs.street_hint))
    return (CellShape(cut, tuple(col for col, _ in equal), group),
            {"cut": cut, **{f"eq_{i}": v for i, (_, v) in enumerate(equal)}})


RANGES = (DAY, MONTH, DAY, DAY, DAY)  # the grains of read_segments' ranges, in order
# their parameters' names (lo, hi) per range, for the cells' ranges and the histograms' (bound with the prefix "h")
_RANGE_NAMES = {prefix: [(f"{prefix}lo_{i}", f"{prefix}hi_{i}") for i in range(len(RANGES))] for prefix in ("", "h")}
_ADDED = 3  # the ranges before this one are added, the others taken away


def read_segments(first: date, last: date, months: bool, today: date) -> list[tuple[date, date]]:
    """The cells covering the China days [first, last), as RANGES' five [from, to) ranges of `day` (empty ones
    from == to): days added, whole months added, days added, then days taken away. With `months`, a month the
    period covers only partly is read either as its days inside the period, or as the month's cell minus its
    days outside the period, whichever reads fewer day cells (days after `today` hold no cells). A community's
    30 days up to now read ~6 day cells and a month cell instead of 30 day cells."""
    if first >= last:
        return [(first, first)] * len(RANGES)
    if not months:
        return [(first, last)] + [(last, last)] * (len(RANGES) - 1)
    m_first, m_last = month_of(first), month_of(last - timedelta(days=1))
    tail_end = next_month(m_last)
    after = max(0, (min(tail_end, today + timedelta(days=1)) - last).days)  # past days after the period
    before = (first - m_first).days
    nothing = [(last, last)] * 2
    if m_first == m_last:  # one month: its days, or the month minus the days before and after
        if before + after >= (last - first).days:
            return [(first, last), (last, last), (last, last), *nothing]
        return [(first, first), (m_first, tail_end), (last, last), (m_first, first), (last, tail_end)]
    head_in, minus_head, months_from = (first, first), (first, first), m_first
    if before and before >= (next_month(m_first) - first).days:
        head_in, months_from = (first, next_month(m_first)), next_month(m_first)
    elif before:
        minus_head = (m_first, first)
    tail_in, minus_tail, months_to = (last, last), (last, last), tail_end
    if last < tail_end and after >= (last - m_last).days:
        tail_in, months_to = (m_last, last), m_last
    elif last < tail_end:
        minus_tail = (last, tail_end)
    if months_from >= months_to:
        months_from = months_to = last
    return [head_in, (months_from, months_to), tail_in, minus_head, minus_tail]


def _in_range(table: Any, i: int, prefix: str = "") -> ColumnElement[bool]:
    """The cells of read_segments' range i: its grain, days in [<prefix>lo_<i>, <prefix>hi_<i>)."""
    lo, hi = _RANGE_NAMES[prefix][i]
    return and_(table.c.grain == lit(RANGES[i]), table.c.day >= bindparam(lo, type_=table.c.day.type),
                table.c.day < bindparam(hi, type_=table.c.day.type))


def _ranged(table: Any, shape: CellShape, columns: tuple[str, ...], name: str, prefix: str = "",
            keys: tuple[str, ...] = ()) -> Any:
    """The set's cells of `table` in read_segments' ranges (bound as <prefix>lo_<i>, <prefix>hi_<i>) and the hour
    ranges, with their `keys` columns as they are and their `columns` signed: as they are in the ranges added,
    negated in the ranges taken away, times the bound sign in the hour ranges (a sign column multiplied into every
    value of every row took ~10 % of a figure's statement). A UNION ALL of one range of the primary key per range,
    rather than an OR of the ranges: each is an index range scan whatever the bound values, so the statement's
    generic plan (planned once per connection: Prepared.generic) is the right one."""
    def cells(sign: int | ColumnElement[int], where: ColumnElement[bool]) -> Any:
        def signed(c: str) -> ColumnElement[Any]:
            col = table.c[c]
            if isinstance(sign, int):
                return (col if sign == 1 else -col).label(c)
            return (col * sign).label(c)
        return select(*(table.c[k] for k in keys), *(signed(c) for c in columns)) \
            .where(table.c.cut == bindparam("cut"),
                   *(table.c[col] == bindparam(f"eq_{j}") for j, col in enumerate(shape.equal)), where)

    parts = [cells(1 if i < _ADDED else -1, _in_range(table, i, prefix)) for i in range(len(RANGES))]
    if shape.cut in rollup_math.HOUR_CUTS:  # the same hours for every table: bound once, without the prefix
        parts += [cells(bindparam(f"hour_sign_{i}", type_=Integer), _in_hours(table, i)) for i in range(HOUR_RANGES)]
    return union_all(*parts).subquery(name)


HOUR_RANGES = 2  # a partial first and a partial last day's hour cells (rollup_math.read_plan)


def _in_hours(table: Any, i: int) -> ColumnElement[bool]:
    """The HOUR cells of a day's hours (bound as hour_day_<i>, and their slots as hour_lo_<i> to hour_hi_<i>:
    hour * SLOTS + spread; the sign is hour_sign_<i>): one range of the primary key."""
    return and_(table.c.grain == lit(HOUR), table.c.day == bindparam(f"hour_day_{i}", type_=table.c.day.type),
                table.c.slot >= bindparam(f"hour_lo_{i}", type_=table.c.slot.type),
                table.c.slot < bindparam(f"hour_hi_{i}", type_=table.c.slot.type))


def hour_params(hours: list[rollup_math.HourRange], day: date) -> dict[str, Any]:
    """_in_hours' parameters for read_plan's hour ranges (unused ones empty, on `day`)."""
    out: dict[str, Any] = {}
    for i in range(HOUR_RANGES):
        d, lo, hi, sign = hours[i] if i < len(hours) else (day, 0, 0, 1)
        out.update({f"hour_day_{i}": d, f"hour_lo_{i}": lo * SLOTS, f"hour_hi_{i}": hi * SLOTS, f"hour_sign_{i}": sign})
    return out


def _signed_sum(cells: Any, column: str) -> ColumnElement[int]:
    """A column's sum over _ranged's cells (signed already: those of the ranges taken away count negative)."""
    return func.coalesce(func.sum(cells.c[column]), lit(0))


def _signed_cells(shape: CellShape, columns: tuple[str, ...], grain: str | None) -> Any:
    """The cells' sums of `columns` (per day, week or month with `grain`): the one read's cells part."""
    cells = _ranged(report_rollups, shape, columns, "cells", keys=("day",))
    sums: dict[str, ColumnElement[Any]] = {c: _signed_sum(cells, c) for c in columns}
    if grain is None:
        return _part("cells", sums)
    key = cells.c.day if grain == "day" else cast(func.date_trunc(lit(grain), cast(cells.c.day, DateTime)), Date)
    return _part("cells", sums, key).group_by(key)


def _histogram_cells(shape: CellShape) -> Any:
    """The set's histogram rows (metric, chunk, BUCKETS signed), in the ranges bound with the prefix "h"."""
    return _ranged(report_rollup_histograms, shape, BUCKETS, "cell_chunks", "h", keys=("metric", "chunk"))


_NAMED = {"department_id": Department, "grid_id": Grid, "community_id": Grid}


@lru_cache(maxsize=128)
def _counters_sql(shape: CellShape) -> Prepared:
    """The cells' counters (per shape.group), from _ranged's ranges: an OR of the five ranges let SQLite read
    every cell of the scope (a year's figures and a month's cost the same, ~5 ms at 1M)."""
    key_col = () if shape.group is None else (shape.group,)
    cells = _ranged(report_rollups, shape, COUNTERS, "cells", keys=key_col)
    sums = [_signed_sum(cells, c).label(c) for c in COUNTERS]
    if shape.group is None:
        return Prepared(select(*sums))
    key = cells.c[shape.group]
    if shape.group == "day":
        return Prepared(select(key.label("g"), *sums).group_by(key))
    entity: Any = _NAMED[shape.group]  # entities with a name only: "no department" (0) is left out
    return Prepared(select(key.label("g"), entity.name.label("name"), *sums).join(entity, entity.id == key)
                    .group_by(key, entity.name))


@lru_cache(maxsize=128)
def _histogram_sql(shape: CellShape) -> Prepared:
    """The cells' histogram rows (rollup_math.CHUNK buckets each), summed per (metric, chunk), from _ranged's ranges
    bound with the prefix "h" (an OR of the ranges made SQLite read every bucket of every cell of the scope: ~19 ms
    at 1M, for 30 days as for a year)."""
    cells = _histogram_cells(shape)
    return Prepared(select(cells.c.metric, cells.c.chunk, *(_signed_sum(cells, b).label(b) for b in BUCKETS))
                    .group_by(cells.c.metric, cells.c.chunk))


@lru_cache(maxsize=128)
def _slice_sql(rs_shape: Any, group: str | None) -> Prepared:
    cols = [Report.__table__.c[f] for f in rollup_math.FIELDS]
    if group in _NAMED:
        cols.append(GROUPS[group].label("g"))
    return Prepared(select(*cols).where(*conditions(rs_shape)))


def _live_measures(c: Any = Report.__table__.c) -> list[ColumnElement[int]]:
    """Over _live_where's reports (open, past a deadline the worker has not announced): the part of waiting_late and
    overdue_now the roll-ups do not hold yet (rollup_math: late_waiting, overdue). `c`: the reports' columns, or
    a derived table's copies of state and responded_at."""
    waiting_late = and_(c.state == lit("submitted"), c.responded_at.is_(None))
    return [func.count().filter(waiting_late).label("waiting_late"), func.count().label("overdue_now")]


def _live_where() -> list[ColumnElement[bool]]:
    """Open reports past a deadline not announced yet: the predicate of ix_reports_{community,street}_unannounced
    repeated as is (so both planners match the partial index), and a range on its second column, due_at."""
    return [Report.due_at.is_not(None), Report.overdue_notified_for.is_distinct_from(Report.due_at),
            Report.due_at < NOW]


@lru_cache(maxsize=128)
def _live_sql(rs_shape: Any, group: str | None, dialect: str, months: bool) -> Prepared:
    """The clock's part the roll-ups do not hold yet, over the set's open reports past a deadline the worker has
    not announced (_live_where). Per "day" with `months` (a monthly series, which only sums the days of each
    month): per month, fewer groups for the same sums."""
    where = [*conditions(rs_shape), *_live_where()]
    if group is None:
        return Prepared(select(*_live_measures()).where(*where))
    key = bucket_expression(dialect, "month" if months else "day") if group == "day" else GROUPS[group]
    return Prepared(select(key.label("g"), *_live_measures()).where(*where).group_by(key))


_PARTS = ("cells", "slice", "live", "percentiles", "sums")  # the one read's parts, by their tag
SLICES = 2  # at most a partial first and a partial last day (rollup_math.read_plan)
_VALUES = (*COUNTERS, "waiting_late", "overdue_now")
_CHUNK_COLUMNS = ("chunk", "before")  # the percentiles part's chunk and the count before it (_percentiles_part)
_COUNTERS_AT = 3 + len(_CHUNK_COLUMNS)  # where the COUNTERS start in _part's columns (part, g, metric, chunk, ...)
assert CHUNK < len(_VALUES)  # a chunk's buckets and the metric's total fit in the values' columns


def _renamed(clauses: tuple[ColumnElement[bool], ...], suffix: str) -> list[ColumnElement[bool]]:
    """The set's conditions with the period's parameters `start`, `end` renamed `start<suffix>`, `end<suffix>`."""
    def swap(element: Any, **kw: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in ("start", "end"):
            return bindparam(element.key + suffix, type_=element.type)
        return None
    opts: dict[str, Any] = {}
    return [replacement_traverse(clause, opts, swap) for clause in clauses]


def _part(tag: str, values: dict[str, ColumnElement[Any]], group: Any = None, metric: Any = None,
          chunk: tuple[Any, ...] = ()) -> Any:
    """A select of the one read's shape: (part, g, metric, chunk, before, *COUNTERS, waiting_late, overdue_now),
    the group a DATE, the rest BIGINT (the columns a part has no value for are NULL). The percentiles part puts
    its chunk's buckets and the metric's total in the first CHUNK + 1 value columns (_percentiles_part)."""
    def big(v: Any) -> ColumnElement[Any]:
        return cast(null() if v is None else v, BigInteger)
    extra = chunk or (None,) * len(_CHUNK_COLUMNS)
    return select(literal_column(str(_PARTS.index(tag)), SmallInteger).label("part"),
                  cast(null() if group is None else group, Date).label("g"), big(metric).label("metric"),
                  *(big(v).label(name) for name, v in zip(_CHUNK_COLUMNS, extra, strict=True)),
                  *(big(values.get(c)).label(c) for c in _VALUES))


def _live_part(rs_shape: Any, grain: str | None) -> Any:
    """The one read's live part (per `grain` when given). The set's open reports past an unannounced deadline are
    found first, without the period (a MATERIALIZED CTE: the period is applied to what it returns): the
    partial index ix_reports_{community,street}_unannounced, then, is the only index that fits. With the period's
    range in the same WHERE, a generic plan, which cannot see how long the period is, took the scope's
    created_at index instead and read every report of the period (50k for a year; 75 ms)."""
    r = Report.__table__.c
    found = select(r.created_at, r.state, r.responded_at) \
        .where(*conditions(rs_shape, period=False), *_live_where()).cte("live").prefix_with("MATERIALIZED")
    key = None if grain is None else bucket_expression("postgresql", grain, found.c.created_at)
    part = _part("live", {m.name: m.element for m in _live_measures(found.c)}, key) \
        .where(found.c.created_at >= bindparam("start"), found.c.created_at < bindparam("end"))
    return part if key is None else part.group_by(key)


def _percentiles_part(shape: CellShape, slices: list[Any]) -> Any:
    """The percentiles' buckets per metric of the cells' histogram plus the signed slices' durations, found by
    the database as rollup_math.percentile_bucket does (the first bucket where the running sum reaches the nearest
    rank ceil(p/100 · n)), a chunk at a time: the slices' buckets are put in rows of CHUNK buckets too, everything
    is added up per (metric, chunk) (~30 rows for a street's year, where a row per bucket made ~300 to sort), a
    running sum over the chunks finds the chunks holding the ranks, and those come back (at most one per metric
    and percentile: metric, chunk, the count before it, its CHUNK buckets and the metric's total, _part's layout
    for this part), for rollup_math.percentiles_in_chunks to find the buckets in. Finding the bucket in SQL took
    a CASE per percentile over the running sums of the chunk's buckets, O(CHUNK²) expression steps that
    PostgreSQL compiled on every execution (docs/decisions.md, issue 20, eleventh pass). The cells' ranges are
    bound with the prefix "h" (the histograms use month cells wherever they read fewer rows, whatever the
    series' grain). `slices`: the partial days' reports (_one_read_sql)."""
    cells = _histogram_cells(shape)
    rows = [select(cells.c.metric, cells.c.chunk, *(cells.c[b] for b in BUCKETS))]
    for i, found in enumerate(slices):
        s = rollup_slices.histogram_select((), found.c).subquery()
        # INTEGER like the cells' columns: a BIGINT here made the union's columns BIGINT, whose sum PostgreSQL
        # accumulates as numeric (the figures' statements ran ~7 % longer)
        n = cast(s.c.n * bindparam(f"sign_{i}", type_=BigInteger), Integer)
        rows.append(select(s.c.metric, (s.c.bucket // lit(CHUNK)).label("chunk"),
                           *(case((s.c.bucket % lit(CHUNK) == lit(k), n), else_=lit(0)).label(b)
                             for k, b in enumerate(BUCKETS))))
    u = union_all(*rows).subquery("durations")
    c = select(u.c.metric, u.c.chunk, *(cast(func.sum(u.c[b]), BigInteger).label(b) for b in BUCKETS)) \
        .group_by(u.c.metric, u.c.chunk).subquery("chunks")
    size = sum((c.c[b] for b in BUCKETS[1:]), c.c[BUCKETS[0]])
    running = func.sum(size).over(partition_by=c.c.metric, order_by=c.c.chunk)
    ranked = select(c.c.metric, c.c.chunk, *(c.c[b] for b in BUCKETS),
                    cast(func.sum(size).over(partition_by=c.c.metric), BigInteger).label("total"),
                    cast(running, BigInteger).label("running"), cast(running - size, BigInteger).label("before")) \
        .subquery("ranked")
    ranks = [(ranked.c.total * lit(p) + lit(99)) // lit(100) for p in rollup_math.PERCENTILES]
    values: dict[str, ColumnElement[Any]] = {v: ranked.c[b] for v, b in zip(_VALUES, BUCKETS, strict=False)}
    values[_VALUES[CHUNK]] = ranked.c.total
    return (_part("percentiles", values, metric=ranked.c.metric, chunk=(ranked.c.chunk, ranked.c.before))
            .where(ranked.c.total > lit(0), or_(*(and_(ranked.c.before < r, ranked.c.running >= r) for r in ranks))))


@lru_cache(maxsize=128)
def _one_read_sql(shape: CellShape, rs_shape: Any, histogram: bool, grain: str) -> Prepared:
    """PostgreSQL, a set ungrouped or per day: the cells' counters, the partial days' counters (SLICES signed
    slices, bound as start_<i>/end_<i>/sign_<i>; an unused one is empty), the live part and the percentiles, in
    ONE statement: a UNION ALL of rows tagged by part, answered as one array (_packed). Six to eight round
    trips, and a row per histogram bucket, were most of a figure's time. Per day, every part is summed per
    `grain` (the day, or the week or month holding it: a series' buckets) by the database: a 30-day dashboard's
    five weeks are five rows.
    Each slice's reports are read once, into a CTE that both its counters and (with `histogram`) its durations
    are computed from (PostgreSQL materializes a CTE read twice): a street's partial day holds up to ~1,050
    reports (12 hours at noon, China time)."""
    per_day = shape.group == "day"
    parts = [_signed_cells(shape, COUNTERS, grain if per_day else None)]
    r = Report.__table__.c
    slices = [select(*(r[k] for k in rollup_slices.COLUMNS)).where(*_renamed(conditions(rs_shape), f"_{i}"))
              .cte(f"slice_{i}") for i in range(SLICES)]
    for i, found in enumerate(slices):
        sign = bindparam(f"sign_{i}", type_=BigInteger)
        sums = {c.name: c.element * sign for c in rollup_slices.counter_columns(found.c)}  # the counts, unlabelled
        key = bucket_expression("postgresql", grain, found.c.created_at) if per_day else None
        part = _part("slice", sums, key).select_from(found)
        parts.append(part.group_by(key) if per_day else part)
    parts.append(_live_part(rs_shape, grain if per_day else None))
    out = [_summed(union_all(*parts).subquery("parts"), per_day)]
    if histogram:
        out.append(_percentiles_part(shape, slices))
    return Prepared(pg_text(_packed(union_all(*out).subquery("one_read"))), generic=True)


_EPOCH = date(1970, 1, 1)


def _packed(rows: Any) -> Any:
    """The one read's rows as one value: a two-dimensional BIGINT array, a row of _part's columns per row (the group
    `g` in days since _EPOCH), NULL when there is none. The ~20 rows of 32 columns a street's year returns cost the
    app more as rows (a record per row, the driver's description of 32 columns, SQLAlchemy's rows and their
    mappings: ~10 % of its samples in py-spy) than as one array the driver decodes into lists. The column is untyped
    for SQLAlchemy (NullType: no result processing), so the driver's lists come as they are."""
    def big(c: Any) -> ColumnElement[Any]:
        return cast(c - literal_column(f"DATE '{_EPOCH.isoformat()}'", Date) if c.key == "g" else c, BigInteger)
    return select(func.array_agg(array([big(c) for c in rows.c]), type_=NullType()).label("rows"))


def _summed(parts: Any, per_day: bool) -> Any:
    """The parts' values added up (per `g` and in total with `per_day`: GROUP BY ROLLUP, the total's g NULL), in
    _part's shape tagged "sums": the app takes each row as it is (adding ~20 rows of 29 values in Python was a
    third of a street year's samples in its own code)."""
    values: dict[str, ColumnElement[Any]] = {v: func.coalesce(func.sum(parts.c[v]), lit(0)) for v in _VALUES}
    if not per_day:
        return _part("sums", values)
    return _part("sums", values, parts.c.g).group_by(func.rollup(parts.c.g))


async def _rolled_at_once(rows: Rows, rs: ReportSet, shape: CellShape, params: dict[str, Any],
                          slices: list[tuple[datetime, datetime, int]], now: datetime, histogram: bool,
                          grain: str, out: Rolled) -> None:
    """rolled() for a set ungrouped or per day on PostgreSQL: one statement (_one_read_sql). Per day, the database
    sums per `grain`, so each row is one bucket, keyed by its first day (which rolled()'s `key` maps to itself)."""
    if len(slices) > SLICES:  # pragma: no cover - read_plan makes at most two
        raise ValueError("more partial days than the one read binds")
    bound = {**params, **rs.values(now)}
    for i in range(SLICES):
        lo, hi, sign = slices[i] if i < len(slices) else (rs.start, rs.start, 1)
        bound[f"start_{i}"], bound[f"end_{i}"], bound[f"sign_{i}"] = lo, hi, sign
    per_day = shape.group == "day"
    holding: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {}
    totals: dict[int, int] = {}
    for row in (await rows.all(_one_read_sql(shape, rs.shape, histogram, grain), bound))[0]["rows"] or ():
        if _PARTS[row[0]] == "percentiles":  # _part's columns, by position (_packed)
            metric = int(row[2])
            holding.setdefault(metric, []).append((int(row[3]), int(row[4]), row[_COUNTERS_AT:_COUNTERS_AT + CHUNK]))
            totals[metric] = int(row[_COUNTERS_AT + CHUNK])
            continue
        values = dict(zip(_VALUES, row[_COUNTERS_AT:], strict=True))  # BIGINT: ints already
        if not per_day:
            out.sums[None] = values
        elif row[1] is None:  # the ROLLUP's total
            out.total = values
        else:  # a bucket's sums, taken as they are
            out.sums[_day(row[1])] = values
    out.percentiles = {m: rollup_math.percentiles_in_chunks(totals[m], chunks) for m, chunks in holding.items()}


@lru_cache(maxsize=4096)
def _day(days: int) -> date:
    """The day `days` after _EPOCH (the one read's `g`), remembered: calling the caller's key on a new date per
    row was ~2 % of a street's year, in instructions."""
    return _EPOCH + timedelta(days=days)


def _add(into: dict[str, int], values: dict[str, int]) -> None:
    for k, v in values.items():
        into[k] += v


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass
class Rolled:
    """Sums per output key (None when not grouped): the COUNTERS, waiting_late and overdue_now, entity names;
    and, when asked for, the buckets of the set's duration percentiles {metric: (bucket per PERCENTILES)}."""

    sums: dict[Any, dict[str, int]] = field(default_factory=dict)
    total: dict[str, int] | None = None  # group "day": the sums of every key
    names: dict[Any, str] = field(default_factory=dict)
    percentiles: dict[int, tuple[int | None, ...]] = field(default_factory=dict)


_BLANK = {**dict.fromkeys(COUNTERS, 0), "waiting_late": 0, "overdue_now": 0}


def rolled_blank() -> dict[str, int]:
    return _BLANK.copy()


async def rolled(rows: Rows, rs: ReportSet, now: datetime, *, group: str | None = None,
                 key: Callable[[Any], Any] = lambda g: g, months: bool = True, grain: str = "day",
                 histogram: bool = False) -> Rolled | None:
    """The set's sums from the roll-ups (whole days), the slices (partial days) and the open reports, per
    `key(group value)`: group "day" gives China days (with `months`, the first day of a month may stand for
    the whole month: the caller's key must map every day of a month to one bucket), the others entity ids.
    With group "day", PostgreSQL may already sum the days per `grain` (day, week, month: the first day of
    each), so `key` must map a bucket's first day to itself. None: no cells hold this set."""
    found = cell_shape(rs, group, histogram)
    if found is None:
        return None
    shape, params = found
    at_once = shape.group in (None, "day") and rows.dialect_name == "postgresql"  # one statement: one snapshot
    first, last, hours, slices = rollup_math.read_plan(rs.start, rs.end, now, shape.cut in rollup_math.HOUR_CUTS,
                                                       snapshot=at_once)
    if shape.cut in rollup_math.HOUR_CUTS:
        params.update(hour_params(hours, first))
    today = rollup_math.china_day(now)
    by_month = read_segments(first, last, True, today)  # histograms: month cells wherever they read fewer rows
    for names, ranges in ((_RANGE_NAMES[""], by_month if months else read_segments(first, last, False, today)),
                          (_RANGE_NAMES["h"], by_month)):
        for (lo_name, hi_name), (lo, hi) in zip(names, ranges, strict=True):
            params[lo_name], params[hi_name] = lo, hi
    out = Rolled()

    def into(g: Any) -> dict[str, int]:
        k = key(g)
        sums = out.sums.get(k)
        if sums is None:  # not setdefault: a blank dict per row was ~9% of a street year's samples
            sums = out.sums[k] = rolled_blank()
        return sums

    if at_once:  # one round trip
        await _rolled_at_once(rows, rs, shape, params, slices, now, histogram, grain, out)
        return _finished(out, group)
    hist: dict[int, dict[int, int]] = {}

    def add_bucket(metric: int, bucket: int, n: int) -> None:
        h = hist.setdefault(int(metric), {})
        h[int(bucket)] = h.get(int(bucket), 0) + n

    for row in await rows.all(_counters_sql(shape), params):
        g = row["g"] if shape.group else None
        if shape.group == "day":
            g = _as_date(g)
        if shape.group in _NAMED:
            out.names[key(g)] = row["name"]
        target = into(g)
        for c in COUNTERS:
            target[c] += int(row[c])
    if histogram:
        for row in await rows.all(_histogram_sql(shape), params):
            for bucket, n in rollup_math.unchunked(row["chunk"], (row[b] for b in BUCKETS)):
                add_bucket(row["metric"], bucket, n)
    if rows.dialect_name == "postgresql":  # the partial days, summed by the database
        for lo, hi, sign in slices:
            await _sums_of_slice(rows, rs, {**rs.values(now), "start": lo, "end": hi}, group, histogram, sign,
                                 add_bucket, into)
        slices = []
    for lo, hi, sign in slices:  # the partial days (SQLite): each report's own contribution
        for row in await rows.all(_slice_sql(rs.shape, group), {**rs.values(now), "start": lo, "end": hi}):
            if group == "day":
                g = rollup_math.china_day(row["created_at"])
            elif group in _NAMED:
                g = row["g"]
                if g is None:
                    continue
            else:
                g = None
            target = into(g)
            for c, v in rollup_math.counters(row).items():
                target[c] += sign * v
            if histogram:
                for metric, bucket in rollup_math.durations(row):
                    add_bucket(metric, bucket, sign)
    for row in await rows.all(_live_sql(rs.shape, group, rows.dialect_name, months), rs.values(now)):
        g = None if group is None else (_as_date(row["g"]) if group == "day" else row["g"])
        if group in _NAMED and g is None:
            continue
        target = into(g)
        target["waiting_late"] += row["waiting_late"]
        target["overdue_now"] += row["overdue_now"]
    if group in _NAMED:  # entities seen only in a slice or live: their names
        missing = [k for k in out.sums if k not in out.names]
        if missing:
            entity: Any = _NAMED[group]
            for row in await rows.all(select(entity.id, entity.name).where(entity.id.in_(missing))):
                out.names[row["id"]] = row["name"]
    if histogram:
        out.percentiles = {m: tuple(rollup_math.percentile_bucket(h, p) for p in rollup_math.PERCENTILES)
                           for m, h in hist.items()}
    return _finished(out, group)


def _finished(out: Rolled, group: str | None) -> Rolled:
    """Ungrouped: the one key None, even with nothing found. Per day: the total of every key."""
    if group is None:
        out.sums.setdefault(None, rolled_blank())
    elif group == "day" and out.total is None:
        out.total = rolled_blank()
        for sums in out.sums.values():
            _add(out.total, sums)
    return out


_SLICE_GROUP_COLUMNS: dict[str | None, str | None] = {None: None, "day": "day",
                                                      **{g: col.key for g, col in GROUPS.items()}}


async def _sums_of_slice(rows: Rows, rs: ReportSet, params: dict[str, Any], group: str | None, histogram: bool,
                         sign: int, add_bucket: Callable[[int, int, int], None],
                         into: Callable[[Any], dict[str, int]]) -> None:
    """A partial day's counters (per group) and histogram, summed in SQL (PostgreSQL: rollup_slices), added to
    the sums with `sign`."""
    for row in await rows.all(rollup_slices.counters_sql(rs.shape, _SLICE_GROUP_COLUMNS[group]), params):
        if not row["n"]:
            continue  # no report: the ungrouped sums' one row of zeros
        g = None if group is None else (_as_date(row["g"]) if group == "day" else row["g"])
        target = into(g)
        for c in COUNTERS:
            target[c] += sign * int(row[c])
    if histogram:
        for row in await rows.all(rollup_slices.histogram_sql(rs.shape), params):
            add_bucket(row["metric"], row["bucket"], sign * int(row["n"]))


_STATE_KEYS = tuple((f"state_{st}", f"st_{st}") for st in rollup_math.STATES)  # (measure, counter)


def point_measures(s: dict[str, int]) -> dict[str, int]:
    """The measures a series' point shows (its counts and its rates' parts), from rolled sums: a year's 13 points
    built as_measures' other keys for nothing."""
    return {"submitted": s["n"], "accepted": s["accepted"], "resolved": s["resolved"],
            "due": s["responded"] + s["late_waiting"] + s["waiting_late"], "on_time": s["on_time"],
            "resolved_first_time": s["resolved_first_time"], "rated": s["rated"], "satisfied": s["satisfied"]}


def as_measures(s: dict[str, int]) -> dict[str, int]:
    """The keys of queries.combine / rate_measures, from rolled sums, with the tally of states."""
    out = point_measures(s)
    out.update(resolved_in_time=s["resolved_in_time"], reopened=s["reopened"],
               overdue_now=s["overdue"] + s["overdue_now"], auto_closed=s["auto_closed"])
    for measure, counter in _STATE_KEYS:
        out[measure] = s[counter]
    return out


def duration_figures(s: dict[str, int], percentiles: dict[int, tuple[int | None, ...]]) \
        -> dict[int, dict[str, Any]]:
    """{ACCEPT|RESOLVE: {count, mean, median, p90}} like queries.durations: the count and the mean exact (to the
    millisecond), the percentiles from the histogram (their buckets' midpoints); kinds with no durations are
    missing."""
    out = {}
    for metric, count, ms in ((rollup_math.ACCEPT, s["accepted"], s["accept_ms"]),
                              (rollup_math.RESOLVE, s["resolve_n"], s["resolve_ms"])):
        if count:
            median, p90 = (None if b is None else rollup_math.bucket_value(b)
                           for b in percentiles.get(metric, (None, None)))
            out[metric] = {"count": count, "mean": ms / count / 1000, "median": median, "p90": p90}
    return out
