"""Statistics: who may ask for which figures, the period rules, and figures made from the SQL aggregates.

Admins ask about their scope (the same condition as their report queue: reports.policies.staff_queue_sql); residents
get their own community's aggregates on the dashboard. Nothing here names a person.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, NotPermitted
from app.db.reader import Rows, SessionRows
from app.db.session import Database
from app.reports.lifecycle import State
from app.stats import queries, rollup_queries
from app.stats.queries import ReportSet
from app.stats.schemas import (
    CommunityDashboard,
    CommunityFigures,
    Counts,
    DurationStats,
    Figures,
    FiltersRead,
    PeriodRead,
    PlaceRef,
    RankedEntity,
    Ranking,
    ResolutionParts,
    ResponseParts,
    SatisfactionParts,
    Series,
    SeriesPoint,
    StateTally,
    StreetCommunities,
    StreetDashboard,
    UnrankedEntity,
    Weights,
)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # UTC+8 all year: China has no DST
DEFAULT_DAYS = 30
MAX_DAYS = 366        # figures, ranking, CSV, dashboard
MAX_BUCKETS = 400     # series: the range may be longer, as long as it makes at most this many buckets
STREET_MAX_DAYS = 1096  # a street's figures: any period up to 3 years (issue 20)
MAX_EXACT_DAYS = 31   # exact=true (every number from the reports, not the roll-ups): short periods only
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
CSV_CHUNK_ROWS = 1000


@dataclass(frozen=True)
class StatsQuery:
    """What the caller asks about: a period (either bound may be missing) and optional filters."""

    start: datetime | None = None
    end: datetime | None = None
    department_id: int | None = None
    grid_id: int | None = None
    category_id: int | None = None
    exact: bool = False  # every number from the reports, not the roll-ups (periods of at most MAX_EXACT_DAYS)

    def filters(self) -> FiltersRead:
        return FiltersRead(department_id=self.department_id, grid_id=self.grid_id, category_id=self.category_id)


# ---- periods and buckets (pure) -------------------------------------------------------------------------------


def resolve_period(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC. Both missing: the 30 days up to now; one missing: 30 days from/to the other."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and not EARLIEST <= value < LATEST:
            raise InvalidInput("invalid_period", {name: value.isoformat(), "reason": "outside 2000-2100"})
    if start is None and end is None:
        end = now
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS)
    if end is None:
        end = start + timedelta(days=DEFAULT_DAYS)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise InvalidInput("invalid_period", {"reason": "to must be later than from"})
    return start, end


def _check_days(start: datetime, end: datetime, max_days: int = MAX_DAYS) -> None:
    if end - start > timedelta(days=max_days):
        raise InvalidInput("invalid_period", {"reason": f"at most {max_days} days", "max_days": max_days})


def _check_exact(start: datetime, end: datetime, exact: bool) -> None:
    """exact=true reads every report of the period: only for short ones."""
    if exact and end - start > timedelta(days=MAX_EXACT_DAYS):
        raise InvalidInput("invalid_period", {"reason": f"exact=true: at most {MAX_EXACT_DAYS} days",
                                              "max_days": MAX_EXACT_DAYS})


def bucket_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, granularity: str) -> date:
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def buckets(start: datetime, end: datetime, granularity: str) -> list[date]:
    """Every bucket (China time) touching [start, end); 422 beyond MAX_BUCKETS."""
    first = bucket_start(start.astimezone(CHINA).date(), granularity)
    last = bucket_start((end - timedelta(microseconds=1)).astimezone(CHINA).date(), granularity)
    out = [first]
    while out[-1] < last:
        if len(out) >= MAX_BUCKETS:
            raise InvalidInput("invalid_period", {"reason": f"more than {MAX_BUCKETS} buckets of a {granularity}",
                                                  "max_buckets": MAX_BUCKETS})
        out.append(next_bucket(out[-1], granularity))
    return out


# ---- rates and scores (pure) ----------------------------------------------------------------------------------


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def rates(m: dict[str, int]) -> tuple[float | None, float | None, float | None]:
    """(response_rate, resolution_rate, satisfaction_rate) from the measures of queries.rate_measures."""
    return (ratio(m["on_time"], m["due"]), ratio(m["resolved_first_time"], m["accepted"]),
            ratio(m["satisfied"], m["rated"]))


def score(values: tuple[float | None, ...], weights: tuple[float, ...]) -> float | None:
    """Weighted mean of the rates that are not null, the weights renormalised over them; null if none is."""
    pairs = [(w, v) for w, v in zip(weights, values, strict=True) if v is not None]
    total = sum(w for w, _ in pairs)
    if not pairs or total <= 0:
        return None
    return sum(w * v for w, v in pairs) / total


# ---- who may ask, and the report set ------------------------------------------------------------------------


async def _report_set(rows: Rows, p: Principal, q: StatsQuery, start: datetime, end: datetime) -> ReportSet:
    """The admin's scope and the filters, each checked: a grid node outside the scope, or a department or
    category that does not exist, is 404."""
    place = None
    if q.grid_id is not None:
        node = await queries.grid_node(rows, q.grid_id)
        if node is None or not p.in_scope(node["path"]):
            raise NotFound()
        place = (node["level"], node["id"])
    if q.department_id is not None and not await queries.department_exists(rows, q.department_id):
        raise NotFound()
    if q.category_id is not None and not await queries.category_exists(rows, q.category_id):
        raise NotFound()
    return queries.admin_set(p, start, end, department_id=q.department_id, place=place, category_id=q.category_id)


# (state, its measure), built once: reading the enum members' values on every response was 1.2 % of a street's
# year, in instructions
_STATE_MEASURES = tuple((s.value, f"state_{s.value}") for s in State)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _duration(row: dict[str, Any] | None) -> DurationStats:
    if row is None:
        return DurationStats(count=0, mean=None, median=None, p90=None)
    return DurationStats(count=row["count"], mean=_seconds(row["mean"]), median=_seconds(row["median"]),
                         p90=_seconds(row["p90"]))


async def _figures(rows: Rows, rs: ReportSet, now: datetime, filters: FiltersRead, exact: bool = False,
                   rolled: tuple[dict[str, int], dict[int, tuple[int | None, ...]]] | None = None) -> Figures:
    """The figures of the set; `rolled`: its sums and its percentiles' buckets, already read from the roll-ups."""
    got = rolled
    if got is None and not exact:
        found = await rollup_queries.rolled(rows, rs, now, histogram=True)
        if found is not None:
            got = (found.sums[None], found.percentiles)
    if got is not None:
        m = rollup_queries.as_measures(got[0])
        spans = rollup_queries.duration_figures(got[0], got[1])
    else:
        m = await queries.counts(rows, rs, now)
        spans = await queries.durations(rows, rs)
    response, resolution, satisfaction = rates(m)
    return Figures(
        period=PeriodRead(from_=rs.start, to=rs.end), filters=filters, as_of=now,
        method="exact" if got is None else "rollup",
        states=StateTally(**{state: m[measure] for state, measure in _STATE_MEASURES}),
        counts=Counts(submitted=m["submitted"], accepted=m["accepted"], resolved=m["resolved"],
                      reopened=m["reopened"], overdue_now=m["overdue_now"], auto_closed=m["auto_closed"],
                      rated=m["rated"], resolved_in_time=m["resolved_in_time"]),
        response_rate=response, resolution_rate=resolution, satisfaction_rate=satisfaction,
        response=ResponseParts(due=m["due"], on_time=m["on_time"]),
        resolution=ResolutionParts(accepted=m["accepted"], resolved_first_time=m["resolved_first_time"]),
        satisfaction=SatisfactionParts(rated=m["rated"], satisfied=m["satisfied"]),
        time_to_accept_seconds=_duration(spans.get(queries.ACCEPT)),
        time_to_resolve_seconds=_duration(spans.get(queries.RESOLVE)))


# a bucket without reports: every measure a point shows at 0 (the same keys as queries.series' buckets)
_NO_POINT = rollup_queries.point_measures(rollup_queries.rolled_blank())


async def _series(rows: Rows, rs: ReportSet, now: datetime, filters: FiltersRead, granularity: str,
                  exact: bool = False, rolled: dict[date, dict[str, int]] | None = None,
                  keys: list[date] | None = None) -> Series:
    """The series of the set; `rolled`: its sums per bucket, already read from the roll-ups; `keys`: its
    buckets, already found."""
    keys = buckets(rs.start, rs.end, granularity) if keys is None else keys
    per_bucket = rolled
    if per_bucket is None and not exact:
        found = await rollup_queries.rolled(rows, rs, now, group="day", key=lambda day: bucket_start(day, granularity),
                                            months=granularity == "month", grain=granularity)
        per_bucket = found.sums if found is not None else None
    got = per_bucket
    if per_bucket is not None:
        found_m = {k: rollup_queries.point_measures(v) for k, v in per_bucket.items()}
    else:
        found_m = await queries.series(rows, rs, now, granularity)
    points = []
    for key in keys:
        m = found_m.get(key, _NO_POINT)
        response, resolution, satisfaction = rates(m)
        points.append(SeriesPoint(start=key, submitted=m["submitted"], accepted=m["accepted"], resolved=m["resolved"],
                                  response_rate=response, resolution_rate=resolution,
                                  satisfaction_rate=satisfaction))
    return Series(period=PeriodRead(from_=rs.start, to=rs.end), filters=filters, as_of=now, granularity=granularity,
                  method="exact" if got is None else "rollup", points=points)


async def _figures_and_series(rows: Rows, rs: ReportSet, now: datetime, granularity: str, exact: bool,
                              keys: list[date] | None = None) -> tuple[Figures, Series]:
    """A dashboard's figures and series. From the roll-ups, one read serves both: the sums per bucket for the
    series, their total (rollup_queries.Rolled.total) and the histograms' percentiles for the figures."""
    filters = FiltersRead()
    got = None if exact else await rollup_queries.rolled(rows, rs, now, group="day", months=granularity == "month",
                                                         key=lambda day: bucket_start(day, granularity),
                                                         grain=granularity, histogram=True)
    if got is None:
        return (await _figures(rows, rs, now, filters, exact),
                await _series(rows, rs, now, filters, granularity, exact, keys=keys))
    assert got.total is not None  # group "day" (rollup_queries.rolled)
    return (await _figures(rows, rs, now, filters, rolled=(got.total, got.percentiles)),
            await _series(rows, rs, now, filters, granularity, rolled=got.sums, keys=keys))


# ---- the operations -------------------------------------------------------------------------------------------


async def figures(rows: Rows, p: Principal, q: StatsQuery) -> Figures:
    ensure_admin(p)
    now = datetime.now(UTC)
    start, end = resolve_period(q.start, q.end, now)
    _check_days(start, end)
    _check_exact(start, end, q.exact)
    rs = await _report_set(rows, p, q, start, end)
    return await _figures(rows, rs, now, q.filters(), q.exact)


async def series(rows: Rows, p: Principal, q: StatsQuery, granularity: str) -> Series:
    ensure_admin(p)
    now = datetime.now(UTC)
    start, end = resolve_period(q.start, q.end, now)
    buckets(start, end, granularity)  # 422 before any query when the range is too long for the granularity
    _check_exact(start, end, q.exact)
    rs = await _report_set(rows, p, q, start, end)
    return await _series(rows, rs, now, q.filters(), granularity, q.exact)


async def ranking(rows: Rows, settings: Settings, p: Principal, q: StatsQuery, kind: str) -> Ranking:
    ensure_admin(p)
    now = datetime.now(UTC)
    start, end = resolve_period(q.start, q.end, now)
    _check_days(start, end)
    _check_exact(start, end, q.exact)
    rs = await _report_set(rows, p, q, start, end)
    return await _ranking(rows, settings, rs, now, q.filters(), kind, q.exact)


async def _per_entity(rows: Rows, rs: ReportSet, now: datetime, kind: str, exact: bool) \
        -> tuple[list[dict[str, Any]], str]:
    """Rate measures per department / grid / community of the set, with id and name; and the method."""
    got = None if exact else await rollup_queries.rolled(rows, rs, now, group=f"{kind}_id")
    if got is None:
        return await queries.per_entity(rows, rs, now, kind), "exact"
    return [{"id": k, "name": got.names[k], **rollup_queries.as_measures(v)} for k, v in got.sums.items()], "rollup"


async def _ranking(rows: Rows, settings: Settings, rs: ReportSet, now: datetime, filters: FiltersRead, kind: str,
                   exact: bool) -> Ranking:
    weights = tuple(settings.ranking_weights)
    ranked: list[RankedEntity] = []
    unranked: list[UnrankedEntity] = []
    per_entity, method = await _per_entity(rows, rs, now, kind, exact)
    for row in per_entity:
        values = rates(row)
        s = score(values, weights)
        if row["submitted"] < settings.ranking_min_reports or s is None:
            reason = "too_few_reports" if row["submitted"] < settings.ranking_min_reports else "no_rates"
            unranked.append(UnrankedEntity(id=row["id"], name=row["name"], reports=row["submitted"], reason=reason))
            continue
        ranked.append(RankedEntity(id=row["id"], name=row["name"], reports=row["submitted"], response_rate=values[0],
                                   resolution_rate=values[1], satisfaction_rate=values[2], score=s))
    n = settings.ranking_top_n
    red = sorted(ranked, key=lambda e: (-e.score, -e.reports, e.id))[:n]
    on_red = {e.id for e in red}
    black = sorted((e for e in ranked if e.id not in on_red), key=lambda e: (e.score, -e.reports, e.id))[:n]
    return Ranking(kind=kind, period=PeriodRead(from_=rs.start, to=rs.end), filters=filters, as_of=now,
                   method=method, weights=Weights(response=weights[0], resolution=weights[1], satisfaction=weights[2]),
                   min_reports=settings.ranking_min_reports, top_n=n, red=red, black=black,
                   unranked=sorted(unranked, key=lambda e: e.id))


async def community_dashboard(rows: Rows, p: Principal, start: datetime | None, end: datetime | None,
                              granularity: str, exact: bool = False) -> CommunityDashboard:
    """Residents (anyone bound to a community): their community's figures and series, aggregates only."""
    if p.community_id is None:
        raise NotPermitted()
    now = datetime.now(UTC)
    start, end = resolve_period(start, end, now)
    _check_days(start, end)
    _check_exact(start, end, exact)
    node = await queries.grid_node(rows, p.community_id)
    if node is None:  # not possible (a foreign key), but then there is no community to show
        raise NotPermitted()
    rs = queries.community_set(p.community_id, start, end, queries.street_of(node["path"]))
    figures, series = await _figures_and_series(rows, rs, now, granularity, exact)
    return CommunityDashboard(community=PlaceRef(id=node["id"], name=node["name"]), figures=figures, series=series)


# ---- a street (街道), issue 20 --------------------------------------------------------------------------------


async def _street(rows: Rows, p: Principal, street_id: int) -> PlaceRef:
    """The street, if the admin's scope holds it (a street or district admin); 404 otherwise, like a grid
    filter outside the scope."""
    ensure_admin(p)
    node = await queries.grid_node(rows, street_id)
    if node is None or node["level"] != "street" or not p.in_scope(node["path"]):
        raise NotFound()
    return PlaceRef(id=node["id"], name=node["name"])


def _street_period(start: datetime | None, end: datetime | None, exact: bool, now: datetime) \
        -> tuple[datetime, datetime]:
    start, end = resolve_period(start, end, now)
    _check_days(start, end, STREET_MAX_DAYS)
    _check_exact(start, end, exact)
    return start, end


async def street_dashboard(rows: Rows, p: Principal, street_id: int, start: datetime | None,
                           end: datetime | None, granularity: str, exact: bool = False) -> StreetDashboard:
    """A street's figures and series: every report of the street, any period up to 3 years."""
    now = datetime.now(UTC)
    start, end = _street_period(start, end, exact, now)
    keys = buckets(start, end, granularity)  # 422 before any query
    street = await _street(rows, p, street_id)
    figures, series = await _figures_and_series(rows, queries.street_set(street_id, start, end), now, granularity,
                                                exact, keys)
    return StreetDashboard(street=street, figures=figures, series=series)


async def street_communities(rows: Rows, p: Principal, street_id: int, start: datetime | None,
                             end: datetime | None, exact: bool = False) -> StreetCommunities:
    """The street's figures per community."""
    now = datetime.now(UTC)
    start, end = _street_period(start, end, exact, now)
    street = await _street(rows, p, street_id)
    per_entity, method = await _per_entity(rows, queries.street_set(street_id, start, end), now, "community", exact)
    out = []
    for m in sorted(per_entity, key=lambda e: e["id"]):
        response, resolution, satisfaction = rates(m)
        out.append(CommunityFigures(
            id=m["id"], name=m["name"], submitted=m["submitted"], accepted=m["accepted"], resolved=m["resolved"],
            response_rate=response, resolution_rate=resolution, satisfaction_rate=satisfaction,
            response=ResponseParts(due=m["due"], on_time=m["on_time"]),
            resolution=ResolutionParts(accepted=m["accepted"], resolved_first_time=m["resolved_first_time"]),
            satisfaction=SatisfactionParts(rated=m["rated"], satisfied=m["satisfied"])))
    return StreetCommunities(street=street, period=PeriodRead(from_=start, to=end), as_of=now, method=method,
                             communities=out)


async def street_ranking(rows: Rows, settings: Settings, p: Principal, street_id: int, start: datetime | None,
                         end: datetime | None, kind: str, exact: bool = False) -> Ranking:
    """The street's 红黑榜 across its communities or its departments."""
    now = datetime.now(UTC)
    start, end = _street_period(start, end, exact, now)
    await _street(rows, p, street_id)
    return await _ranking(rows, settings, queries.street_set(street_id, start, end), now, FiltersRead(), kind,
                          exact)


# ---- CSV ------------------------------------------------------------------------------------------------------


async def prepare_csv(db: AsyncSession, p: Principal, q: StatsQuery) -> tuple[Select, str]:
    """Check who asks and what, in the request's session; the rows are read later by csv_chunks."""
    ensure_admin(p)
    now = datetime.now(UTC)
    start, end = resolve_period(q.start, q.end, now)
    _check_days(start, end)
    rs = await _report_set(SessionRows(db), p, q, start, end)
    name = f"reports-{start.astimezone(CHINA):%Y%m%d}-{end.astimezone(CHINA):%Y%m%d}.csv"
    return queries.csv_statement(rs, now), name


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Times in China time with their offset; booleans as true/false; text that a spreadsheet would run as a
    formula (=, +, -, @) is prefixed with an apostrophe (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(CHINA).isoformat(timespec="seconds")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _drain(buf: io.StringIO) -> bytes:
    data = buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    return data


async def csv_chunks(database: Database, stmt: Select, chunk_rows: int = CSV_CHUNK_ROWS) -> AsyncIterator[bytes]:
    """The CSV body: a UTF-8 BOM (so Excel reads Chinese) and the header, then one chunk per `chunk_rows` rows.
    Runs after the request's session is closed, so it opens its own and reads through a stream."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(queries.CSV_COLUMNS)
    yield _drain(buf)
    async with database.session(write=False) as session:
        async for rows in queries.stream_rows(session, stmt, chunk_rows):
            writer.writerows([csv_cell(v) for v in row] for row in rows)
            yield _drain(buf)
