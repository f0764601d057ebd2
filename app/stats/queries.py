"""Statistics in SQL: one aggregate row per report set (or per bucket, per department, per grid), durations and
their nearest-rank percentiles with window functions, and the streamed CSV rows. Nothing here fetches the
reports themselves into Python (the CSV streams them in partitions).

The report set is always `scope AND created_at in [start, end) AND filters`; `now` decides what is due and
overdue. The dialect-specific parts are the duration in seconds and the China-time bucket of created_at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
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

from app.auth.principal import Principal
from app.db.reader import Prepared, Row, Rows
from app.org.models import Category, Department, Grid, GridLevel
from app.reports.lifecycle import State
from app.reports.models import Report
from app.reports.policies import ViewerShape, staff_queue_sql, viewer_params, viewer_shape
from app.reports.queries import ACTIVE, overdue_condition

DONE = (State.resolved, State.closed)
SATISFIED_FROM = 4  # ratings of 4 or 5 stars are "satisfied"


@dataclass(frozen=True, slots=True)
class SetShape:
    """What a report set's statements look like; its values are bind parameters (ReportSet.values). Every
    statement below is built once per shape (and dialect) and bound per request."""

    viewer: ViewerShape | None = None  # an admin's scope (their report queue); None: a community's reports
    department: bool = False
    place: str | None = None           # the grid filter: the report column of the node's level
    category: bool = False
    street: bool = False               # with viewer None: a street's reports instead of a community's (issue 20)


@dataclass(frozen=True)
class ReportSet:
    """Which reports a figure is about: `scope AND created_at in [start, end) AND filters`."""

    shape: SetShape
    start: datetime
    end: datetime
    params: dict[str, Any] = field(default_factory=dict)  # the scope's and the filters' values
    street_hint: int | None = None  # the street holding the whole set, when known: the roll-ups' reads use it

    def values(self, now: datetime) -> dict[str, Any]:
        return {**self.params, "start": self.start, "end": self.end, "now": now}


_PLACE_COLUMNS = {GridLevel.street: "street_id", GridLevel.community: "community_id", GridLevel.grid: "grid_id",
                  GridLevel.building: "building_id"}


def admin_set(p: Principal, start: datetime, end: datetime, *, department_id: int | None = None,
              place: tuple[str, int] | None = None, category_id: int | None = None) -> ReportSet:
    """An admin's scope (the same condition as their report queue), with the filters: place is the grid
    node's (level, id), matched on the report's indexed column for that level."""
    shape = SetShape(viewer=viewer_shape(p), department=department_id is not None,
                     place=_PLACE_COLUMNS[GridLevel(place[0])] if place else None, category=category_id is not None)
    return ReportSet(shape, start, end, {**viewer_params(p), "department_id": department_id,
                                         "place_id": place[1] if place else None, "category_id": category_id},
                     street_hint=street_of(p.scope_path))


def street_of(path: str | None) -> int | None:
    """The street of a grid path ('/street/community/...')."""
    ids = [int(x) for x in (path or "").split("/") if x.isdigit()]
    return ids[0] if ids else None


def community_set(community_id: int, start: datetime, end: datetime, street_id: int | None = None) -> ReportSet:
    """Every report of a community (public or not, any state): the resident dashboard's set, aggregates only."""
    return ReportSet(SetShape(), start, end, {"community_id": community_id}, street_hint=street_id)


def street_set(street_id: int, start: datetime, end: datetime) -> ReportSet:
    """Every report of a street: the street-level figures' set (issue 20)."""
    return ReportSet(SetShape(street=True), start, end, {"street_id": street_id})


NOW = bindparam("now", type_=Report.respond_by.type)


@lru_cache(maxsize=128)
def conditions(shape: SetShape, period: bool = True) -> tuple[ColumnElement[bool], ...]:
    """The set's reports: its scope, its filters and (with `period`) created in [:start, :end)."""
    if shape.viewer is not None:
        scope = staff_queue_sql(shape.viewer)
    elif shape.street:
        scope = Report.street_id == bindparam("street_id")
    else:
        scope = Report.community_id == bindparam("community_id")
    out = [scope]
    if period:
        out += [Report.created_at >= bindparam("start"), Report.created_at < bindparam("end")]
    if shape.department:
        out.append(Report.handler_department_id == bindparam("department_id"))
    if shape.place is not None:
        out.append(Report.__table__.c[shape.place] == bindparam("place_id"))
    if shape.category:
        out.append(Report.category_id == bindparam("category_id"))
    return tuple(out)


# ---- the measures: conditional counts (FILTER), per set, bucket or entity, or per state ------------------------


def _count_where(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(cond)


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Counts for response_rate: responded (accepted or rejected), or still waiting for intake past respond_by."""
    return or_(Report.responded_at.is_not(None), and_(Report.state == State.submitted, Report.respond_by < now))


def rate_measures(now: datetime) -> dict[str, ColumnElement[int]]:
    """The counts the three rates are made of, plus submitted/accepted/resolved."""
    return {
        "submitted": func.count(),
        "accepted": _count_where(Report.accepted_at.is_not(None)),
        "resolved": _count_where(Report.state.in_(DONE)),
        "due": _count_where(due_condition(now)),
        "on_time": _count_where(and_(Report.responded_at.is_not(None), Report.responded_at <= Report.respond_by)),
        "resolved_first_time": _count_where(and_(Report.accepted_at.is_not(None), Report.state.in_(DONE),
                                              Report.reopen_count == 0)),
        "rated": _count_where(Report.rating.is_not(None)),
        "satisfied": _count_where(Report.rating >= SATISFIED_FROM),
    }


def per_state_measures(now: datetime) -> dict[str, ColumnElement[int]]:
    """The set's figures per current state (GROUP BY state): cheap counts of columns and filters, so the
    database evaluates a handful of expressions per report instead of one per figure. combine() adds them up."""
    return {
        "state": Report.state,
        "n": func.count(),
        "accepted": func.count(Report.accepted_at),
        "responded": func.count(Report.responded_at),
        "on_time": _count_where(Report.responded_at <= Report.respond_by),
        "waiting_late": _count_where(and_(Report.responded_at.is_(None), Report.respond_by < now)),
        "past_respond_by": _count_where(Report.respond_by < now),
        "past_resolve_by": _count_where(Report.resolve_by < now),
        "accepted_first_time": _count_where(and_(Report.accepted_at.is_not(None), Report.reopen_count == 0)),
        "resolved_in_time": _count_where(Report.resolved_at <= Report.resolve_by),
        "rated": func.count(Report.rating),
        "satisfied": _count_where(Report.rating >= SATISFIED_FROM),
        "reopened": _count_where(Report.reopen_count > 0),
        "auto_closed": _count_where(Report.auto_closed.is_(True)),
    }


def combine(per_state: Sequence[Row]) -> dict[str, int]:
    """The figures of the whole set from its per-state rows: every key of rate_measures, plus reopened,
    overdue_now, auto_closed and state_<s> for every state (zeros included). Pure; the same definitions as
    rate_measures and overdue_condition, split by state."""
    by = {row["state"]: row for row in per_state}

    def total(key: str, states: Any = None) -> int:
        return sum(row[key] for s, row in by.items() if states is None or s in states)

    submitted_row = by.get(State.submitted.value)
    out = {
        "submitted": total("n"), "accepted": total("accepted"), "resolved": total("n", DONE),
        # responded, or still waiting for intake past respond_by (a report sent back to intake keeps responded_at)
        "due": total("responded") + (submitted_row["waiting_late"] if submitted_row else 0),
        "on_time": total("on_time"), "resolved_first_time": total("accepted_first_time", DONE),
        "resolved_in_time": total("resolved_in_time", DONE),
        "rated": total("rated"), "satisfied": total("satisfied"), "reopened": total("reopened"),
        "overdue_now": (submitted_row["past_respond_by"] if submitted_row else 0) + total("past_resolve_by", ACTIVE),
        "auto_closed": total("auto_closed"),
    }
    out.update({f"state_{s.value}": by[s.value]["n"] if s.value in by else 0 for s in State})
    return out


def _labelled(measures: dict[str, ColumnElement[int]]) -> list[ColumnElement[int]]:
    return [expr.label(name) for name, expr in measures.items()]


@lru_cache(maxsize=128)
def _counts_sql(shape: SetShape) -> Prepared:
    return Prepared(select(*_labelled(per_state_measures(NOW))).select_from(Report).where(*conditions(shape))
                    .group_by(Report.state))


async def counts(rows: Rows, rs: ReportSet, now: datetime) -> dict[str, int]:
    return combine(await rows.all(_counts_sql(rs.shape), rs.values(now)))


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
    found = await rows.all(_durations_sql(rs.shape, rows.dialect_name), rs.values(rs.end))
    if rows.dialect_name == "postgresql":
        row = found[0]
        return {kind: {"kind": kind, "count": row[f"count_{kind}"], "mean": row[f"mean_{kind}"],
                       "median": row[f"median_{kind}"], "p90": row[f"p90_{kind}"]}
                for kind in (ACCEPT, RESOLVE) if row[f"count_{kind}"]}
    return {row["kind"]: dict(row) for row in found}


@lru_cache(maxsize=128)
def _durations_sql(shape: SetShape, dialect: str) -> Prepared:
    conds = conditions(shape)
    if dialect == "postgresql":
        # one pass over the set: percentile_disc(q) is the nearest-rank value (rank ceil(q·n)); count, avg and
        # percentile_disc skip the NULLs of reports without the step. Each duration is computed once per report
        # in a subquery that OFFSET 0 keeps the planner from flattening (flattened, each of the four aggregates
        # per kind computed it again: 97 -> 80-83 ms for a year of a community at 1M).
        spans = select(*(duration_seconds("postgresql", end, Report.created_at).label(f"d_{kind}")
                         for kind, end in ((ACCEPT, Report.accepted_at), (RESOLVE, Report.resolved_at))))\
            .where(*conds).offset(literal_column("0")).subquery("spans")
        cols = []
        for kind in (ACCEPT, RESOLVE):
            d = spans.c[f"d_{kind}"]
            cols += [func.count(d).label(f"count_{kind}"), func.avg(d).label(f"mean_{kind}"),
                     func.percentile_disc(0.5).within_group(d).label(f"median_{kind}"),
                     func.percentile_disc(0.9).within_group(d).label(f"p90_{kind}")]
        return Prepared(select(*cols).select_from(spans))
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
    return Prepared(select(ranked.c.kind, func.count().label("count"), func.avg(ranked.c.d).label("mean"),
                           func.max(case((ranked.c.rn == _rank(ranked.c.n, 50), ranked.c.d))).label("median"),
                           func.max(case((ranked.c.rn == _rank(ranked.c.n, 90), ranked.c.d))).label("p90"))
                    .group_by(ranked.c.kind))


# ---- series: buckets of created_at in China time ------------------------------------------------------------


GRANULARITIES = ("day", "week", "month")


def bucket_expression(dialect: str, granularity: str, created_at: Any = Report.created_at) -> ColumnElement[Any]:
    """The first day (China time, UTC+8, no DST) of the day/week (Monday)/month holding `created_at` (the
    reports' column, or a derived table's copy of it). Literals, not bound parameters, so the expression in
    GROUP BY is the one in the select list."""
    if granularity not in GRANULARITIES:  # it is written into the SQL text
        raise ValueError(granularity)
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Shanghai'"), created_at)  # created_at AT TIME ZONE ...
        return cast(func.date_trunc(literal_column(f"'{granularity}'"), local), Date)
    if granularity == "month":
        return func.strftime(literal_column("'%Y-%m-01'"), created_at, literal_column("'+8 hours'"))
    modifiers = ("'+8 hours'",) if granularity == "day" else ("'+8 hours'", "'weekday 0'", "'-6 days'")
    return func.date(created_at, *(literal_column(m) for m in modifiers))


@lru_cache(maxsize=128)
def _series_sql(shape: SetShape, dialect: str, granularity: str) -> Prepared:
    bucket = bucket_expression(dialect, granularity).label("bucket")
    return Prepared(select(bucket, *_labelled(rate_measures(NOW))).select_from(Report).where(*conditions(shape))
                    .group_by(bucket).order_by(bucket))


async def series(rows: Rows, rs: ReportSet, now: datetime, granularity: str) -> dict[date, dict[str, int]]:
    out: dict[date, dict[str, int]] = {}
    for row in await rows.all(_series_sql(rs.shape, rows.dialect_name, granularity), rs.values(now)):
        values = dict(row)
        key = values.pop("bucket")
        out[key if isinstance(key, date) else date.fromisoformat(key)] = values
    return out


# ---- ranking: the rate measures per department or per grid ----------------------------------------------------


@lru_cache(maxsize=128)
def _per_entity_sql(shape: SetShape, kind: str) -> Prepared:
    entity: Any = Department if kind == "department" else Grid
    key = {"department": Report.handler_department_id, "grid": Report.grid_id,
           "community": Report.community_id}[kind]
    return Prepared(select(key.label("id"), entity.name.label("name"), *_labelled(rate_measures(NOW)))
                    .select_from(Report).join(entity, entity.id == key).where(*conditions(shape))
                    .group_by(key, entity.name))


async def per_entity(rows: Rows, rs: ReportSet, now: datetime, kind: str) -> list[dict[str, Any]]:
    """One row per department handling (or grid holding) reports of the set: id, name and the rate measures."""
    return [dict(row) for row in await rows.all(_per_entity_sql(rs.shape, kind), rs.values(now))]


# ---- lookups for the filters --------------------------------------------------------------------------------


async def department_exists(rows: Rows, department_id: int) -> bool:
    return bool(await rows.all(select(Department.id).where(Department.id == department_id)))


async def category_exists(rows: Rows, category_id: int) -> bool:
    return bool(await rows.all(select(Category.id).where(Category.id == category_id)))


_GRID_NODE = Prepared(select(Grid.id, Grid.name, Grid.level, Grid.path).where(Grid.id == bindparam("grid_id")))


async def grid_node(rows: Rows, grid_id: int) -> Row | None:
    """id, name, level and path of a node of the grid tree. (Prepared: building the select on every request was
    ~8 % of a street's figures in the app.) Remembered by the process while the database announces every change
    of a node (the Reader's memo, app/auth/principal_cache.py): a statement of its own cost a dashboard or a
    street's figures ~6 % of their app time."""
    memo = getattr(rows, "memo", None)
    if memo is not None:
        known = memo.node(grid_id)
        if known is not None:
            return known
        generation = memo.generation  # before the read: a change noticed meanwhile keeps this row out
    found = await rows.all(_GRID_NODE, {"grid_id": grid_id})
    row = found[0] if found else None
    if memo is not None and row is not None:
        memo.put_node(grid_id, row, generation)
    return row


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
            .where(*conditions(rs.shape))
            .order_by(Report.created_at, Report.id)
            .params(rs.values(now)))


async def stream_rows(db: AsyncSession, stmt: Select, chunk_rows: int) -> AsyncIterator[Sequence[Any]]:
    """The statement's rows in partitions of `chunk_rows`, read through a server-side cursor (PostgreSQL) or a
    stepped cursor (SQLite): never the whole result in memory."""
    result = await db.stream(stmt.execution_options(yield_per=chunk_rows))
    async for partition in result.partitions(chunk_rows):
        yield partition
