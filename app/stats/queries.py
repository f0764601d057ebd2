"""Statistics in SQL: one aggregate row per report set (or per bucket, per department, per grid), durations and
their nearest-rank percentiles with window functions, and the streamed CSV rows. Nothing here fetches the
reports themselves into Python (the CSV streams them in partitions).

The report set is always `scope AND created_at in [start, end) AND filters`; `now` decides what is due and
overdue. The dialect-specific parts are the duration in seconds and the China-time bucket of created_at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.db.reader import Row, Rows
from app.org.models import Category, Department, Grid, GridLevel
from app.reports.lifecycle import State
from app.reports.models import Report
from app.reports.queries import overdue_condition

DONE = (State.resolved, State.closed)
SATISFIED_FROM = 4  # ratings of 4 or 5 stars are "satisfied"


@dataclass(frozen=True)
class ReportSet:
    """Which reports a figure is about."""

    scope: ColumnElement[bool]
    start: datetime
    end: datetime
    department_id: int | None = None
    place: ColumnElement[bool] | None = None  # the grid filter, as a condition on the report's indexed column
    category_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out = [self.scope, Report.created_at >= self.start, Report.created_at < self.end]
        if self.department_id is not None:
            out.append(Report.handler_department_id == self.department_id)
        if self.place is not None:
            out.append(self.place)
        if self.category_id is not None:
            out.append(Report.category_id == self.category_id)
        return out


def community_condition(community_id: int) -> ColumnElement[bool]:
    """Every report of a community (public or not, any state): the resident dashboard's set, aggregates only."""
    return Report.community_id == community_id


def place_condition(level: str, grid_id: int) -> ColumnElement[bool]:
    """Reports under a node of the grid tree, through the report's column for that level (all indexed)."""
    column = {GridLevel.street: Report.street_id, GridLevel.community: Report.community_id,
              GridLevel.grid: Report.grid_id, GridLevel.building: Report.building_id}[GridLevel(level)]
    return column == grid_id


# ---- the measures: conditional counts, all in one row ---------------------------------------------------------


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((cond, 1)))


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Counts for response_rate: responded (accepted or rejected), or still waiting for intake past respond_by."""
    return or_(Report.responded_at.is_not(None), and_(Report.state == State.submitted, Report.respond_by < now))


def rate_measures(now: datetime) -> dict[str, ColumnElement[int]]:
    """The counts the three rates are made of, plus submitted/accepted/resolved."""
    return {
        "submitted": func.count(),
        "accepted": _count_if(Report.accepted_at.is_not(None)),
        "resolved": _count_if(Report.state.in_(DONE)),
        "due": _count_if(due_condition(now)),
        "on_time": _count_if(and_(Report.responded_at.is_not(None), Report.responded_at <= Report.respond_by)),
        "resolved_first_time": _count_if(and_(Report.accepted_at.is_not(None), Report.state.in_(DONE),
                                              Report.reopen_count == 0)),
        "rated": _count_if(Report.rating.is_not(None)),
        "satisfied": _count_if(Report.rating >= SATISFIED_FROM),
    }


def all_measures(now: datetime) -> dict[str, ColumnElement[int]]:
    out = rate_measures(now)
    out.update({
        "reopened": _count_if(Report.reopen_count > 0),
        "overdue_now": _count_if(overdue_condition(now)),
        "auto_closed": _count_if(Report.auto_closed.is_(True)),
    })
    out.update({f"state_{s.value}": _count_if(Report.state == s.value) for s in State})
    return out


def _labelled(measures: dict[str, ColumnElement[int]]) -> list[ColumnElement[int]]:
    return [expr.label(name) for name, expr in measures.items()]


async def counts(rows: Rows, rs: ReportSet, now: datetime) -> dict[str, int]:
    found = await rows.all(select(*_labelled(all_measures(now))).select_from(Report).where(*rs.conditions()))
    return dict(found[0])


# ---- durations: count, mean, nearest-rank median and p90 ------------------------------------------------------


def duration_seconds(dialect: str, end: Any, begin: Any) -> ColumnElement[Any]:
    """end - begin in seconds. PostgreSQL: exact (microseconds). SQLite: from julianday, a double with ~0.05 ms
    of noise, so each value is rounded to the millisecond."""
    if dialect == "postgresql":
        # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, and sorting numeric is slow
        return func.date_part("epoch", end - begin)
    return func.round((func.julianday(end) - func.julianday(begin)) * 86400.0, 3)


def _rank(n: ColumnElement[int], percent: int) -> ColumnElement[int]:
    """ceil(percent/100 * n) in integer arithmetic (floor division on both databases; n >= 1)."""
    return (n * percent + 99) // 100


ACCEPT, RESOLVE = 1, 2


async def durations(rows: Rows, rs: ReportSet) -> dict[int, dict[str, Any]]:
    """{ACCEPT|RESOLVE: {count, mean, median, p90}} in seconds; kinds with no rows are missing."""
    conds = rs.conditions()
    dialect = rows.dialect_name
    if dialect == "postgresql":
        return await _durations_postgresql(rows, conds)
    accept = select(literal_column(str(ACCEPT), Integer).label("kind"),
                    duration_seconds(dialect, Report.accepted_at, Report.created_at).label("d"))\
        .where(*conds, Report.accepted_at.is_not(None))
    resolve = select(literal_column(str(RESOLVE), Integer).label("kind"),
                     duration_seconds(dialect, Report.resolved_at, Report.created_at).label("d"))\
        .where(*conds, Report.resolved_at.is_not(None))
    u = union_all(accept, resolve).subquery("u")
    ranked = select(u.c.kind, u.c.d,
                    func.row_number().over(partition_by=u.c.kind, order_by=u.c.d).label("rn"),
                    func.count().over(partition_by=u.c.kind).label("n")).subquery("ranked")
    stmt = select(ranked.c.kind, func.count().label("count"), func.avg(ranked.c.d).label("mean"),
                  func.max(case((ranked.c.rn == _rank(ranked.c.n, 50), ranked.c.d))).label("median"),
                  func.max(case((ranked.c.rn == _rank(ranked.c.n, 90), ranked.c.d))).label("p90"))\
        .group_by(ranked.c.kind)
    return {row["kind"]: dict(row) for row in await rows.all(stmt)}


async def _durations_postgresql(rows: Rows, conds: list[ColumnElement[bool]]) -> dict[int, dict[str, Any]]:
    """The same figures in one pass over the set: percentile_disc(q) is the nearest-rank value (rank ceil(q·n));
    count, avg and percentile_disc skip the NULLs of reports without the step."""
    cols = []
    for kind, end in ((ACCEPT, Report.accepted_at), (RESOLVE, Report.resolved_at)):
        d = duration_seconds("postgresql", end, Report.created_at)
        cols += [func.count(d).label(f"count_{kind}"), func.avg(d).label(f"mean_{kind}"),
                 func.percentile_disc(0.5).within_group(d).label(f"median_{kind}"),
                 func.percentile_disc(0.9).within_group(d).label(f"p90_{kind}")]
    row = (await rows.all(select(*cols).where(*conds)))[0]
    return {kind: {"kind": kind, "count": row[f"count_{kind}"], "mean": row[f"mean_{kind}"],
                   "median": row[f"median_{kind}"], "p90": row[f"p90_{kind}"]}
            for kind in (ACCEPT, RESOLVE) if row[f"count_{kind}"]}


# ---- series: buckets of created_at in China time ------------------------------------------------------------


GRANULARITIES = ("day", "week", "month")


def bucket_expression(dialect: str, granularity: str) -> ColumnElement[Any]:
    """The first day (China time, UTC+8, no DST) of the day/week (Monday)/month holding created_at.
    Literals, not bound parameters, so the expression in GROUP BY is the one in the select list."""
    if granularity not in GRANULARITIES:  # it is written into the SQL text
        raise ValueError(granularity)
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Shanghai'"), Report.created_at)  # created_at AT TIME ZONE ...
        return cast(func.date_trunc(literal_column(f"'{granularity}'"), local), Date)
    if granularity == "month":
        return func.strftime(literal_column("'%Y-%m-01'"), Report.created_at, literal_column("'+8 hours'"))
    modifiers = ("'+8 hours'",) if granularity == "day" else ("'+8 hours'", "'weekday 0'", "'-6 days'")
    return func.date(Report.created_at, *(literal_column(m) for m in modifiers))


async def series(rows: Rows, rs: ReportSet, now: datetime, granularity: str) -> dict[date, dict[str, int]]:
    bucket = bucket_expression(rows.dialect_name, granularity).label("bucket")
    stmt = select(bucket, *_labelled(rate_measures(now))).select_from(Report).where(*rs.conditions())\
        .group_by(bucket).order_by(bucket)
    out: dict[date, dict[str, int]] = {}
    for row in await rows.all(stmt):
        values = dict(row)
        key = values.pop("bucket")
        out[key if isinstance(key, date) else date.fromisoformat(key)] = values
    return out


# ---- ranking: the rate measures per department or per grid ----------------------------------------------------


async def per_entity(rows: Rows, rs: ReportSet, now: datetime, kind: str) -> list[dict[str, Any]]:
    """One row per department handling (or grid holding) reports of the set: id, name and the rate measures."""
    entity: Any = Department if kind == "department" else Grid
    key = Report.handler_department_id if kind == "department" else Report.grid_id
    stmt = select(key.label("id"), entity.name.label("name"), *_labelled(rate_measures(now))).select_from(Report)\
        .join(entity, entity.id == key).where(*rs.conditions()).group_by(key, entity.name)
    return [dict(row) for row in await rows.all(stmt)]


# ---- lookups for the filters --------------------------------------------------------------------------------


async def department_exists(rows: Rows, department_id: int) -> bool:
    return bool(await rows.all(select(Department.id).where(Department.id == department_id)))


async def category_exists(rows: Rows, category_id: int) -> bool:
    return bool(await rows.all(select(Category.id).where(Category.id == category_id)))


async def grid_node(rows: Rows, grid_id: int) -> Row | None:
    """id, name, level and path of a node of the grid tree."""
    found = await rows.all(select(Grid.id, Grid.name, Grid.level, Grid.path).where(Grid.id == grid_id))
    return found[0] if found else None


# ---- CSV rows -----------------------------------------------------------------------------------------------

CSV_COLUMNS = ("number", "created_at", "category", "state", "community", "grid", "department", "respond_by",
               "responded_at", "accepted_at", "resolved_at", "closed_at", "overdue", "rating", "reopen_count",
               "auto_closed")


def csv_statement(rs: ReportSet, now: datetime) -> Select:
    """The CSV's rows, oldest first. Places, category and department by name; no person at all."""
    community, grid = aliased(Grid), aliased(Grid)
    return (select(Report.number, Report.created_at, Category.name.label("category"), Report.state,
                   community.name.label("community"), grid.name.label("grid"), Department.name.label("department"),
                   Report.respond_by, Report.responded_at, Report.accepted_at, Report.resolved_at, Report.closed_at,
                   case((overdue_condition(now), True), else_=False).label("overdue"), Report.rating,
                   Report.reopen_count, Report.auto_closed)
            .select_from(Report)
            .join(Category, Category.id == Report.category_id)
            .join(community, community.id == Report.community_id)
            .join(grid, grid.id == Report.grid_id)
            .outerjoin(Department, Department.id == Report.handler_department_id)
            .where(*rs.conditions())
            .order_by(Report.created_at, Report.id))


async def stream_rows(db: AsyncSession, stmt: Select, chunk_rows: int) -> AsyncIterator[Sequence[Any]]:
    """The statement's rows in partitions of `chunk_rows`, read through a server-side cursor (PostgreSQL) or a
    stepped cursor (SQLite): never the whole result in memory."""
    result = await db.stream(stmt.execution_options(yield_per=chunk_rows))
    async for partition in result.partitions(chunk_rows):
        yield partition
