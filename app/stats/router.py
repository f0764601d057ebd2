"""Statistics: figures, series, ranking (红黑榜), the CSV export for staff, the community dashboard for residents."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from app.auth.deps import AdminOnly, AdminPrincipal, CurrentPrincipal, ReadPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.routing import PrefixRouter
from app.core.validators import IdQuery
from app.db.session import DbSession, ReadRows
from app.stats import service
from app.stats.schemas import (
    CommunityDashboard,
    Figures,
    Granularity,
    Ranking,
    RankingKind,
    Series,
    StreetCommunities,
    StreetDashboard,
    StreetRankingKind,
)

router = PrefixRouter(prefix="/api/v1/stats", tags=["stats"])
# A street's figures (issue 20) have a router of their own, included before `router`: FastAPI tries a router's routes
# in order, twice per request, and the street's came sixth of the stats routes (~3 % of a street year's CPU in
# process, docs/decisions.md, issue 20, fourteenth pass).
street_router = PrefixRouter(prefix="/api/v1/stats/streets", tags=["stats"])

ADMIN_ERRORS = error_responses(401, 403, 404, 422, 500)

METHOD = """
**Roll-ups (`method`).** By default the numbers are read from roll-ups kept with every step: per China day (and
month) and per street, community, grid, category and handling department, counts and log-spaced duration
histograms, and a whole street's per hour too. Whole days come from them, a partial first or last day from the
reports (a whole street's from its hour cells and at most an hour of reports), and what depends on the
clock (`overdue_now`, a report still waiting past `respond_by` counting as due) from the deadlines the worker
has announced plus, live, the open reports past a deadline it has not announced yet, so counts and rates are
exact. Percentiles (`median`, `p90`) are **histogram percentiles**: the geometric midpoint
of the bucket (bucket bounds 1.04^k seconds) holding the nearest-rank value, within 1.98 % of it; `mean` is exact
to the millisecond. `exact=true` (periods of at most 31 days) reads every number from the reports, percentiles
by nearest rank; a scope or filter at building level is always read exactly. The response's `method` says which.
"""

REPORT_SET = """
**The report set.** Reports in your scope (the same reports as your queue: your street, community, grid or
building) whose `created_at` is in [`from`, `to`), narrowed by the optional filters: `department_id` (the
report's current handling department), `grid_id` (any node of the grid tree in your scope: a street,
community, grid or building), `category_id`. `from`/`to` are ISO 8601 with an offset (e.g.
`2026-03-01T00:00:00+08:00`, `+` encoded as `%2B`); both missing: the 30 days up to now; one missing: 30 days
from or to the other; `to` must be later than `from`. A grid outside your scope, or a department or category
that does not exist, is 404. `now` below is the moment of the request (`as_of`).
"""

RATES = """
**Rates** (null when the denominator is 0):
- `response_rate` = on_time / due. due: reports with `responded_at` (accepted or rejected), or still
  `submitted` with `respond_by` < now. on_time: `responded_at` ≤ `respond_by`. So a report rejected before its
  deadline counts as on time, one rejected after it as late, and one still waiting past it as late.
- `resolution_rate` = resolved_first_time / accepted. accepted: `accepted_at` set. resolved_first_time:
  accepted, state `resolved` or `closed`, and `reopen_count` = 0 (a report reopened then resolved again is not
  counted).
- `satisfaction_rate` = satisfied / rated. rated: a rating (the latest stars) is set; satisfied: 4 or 5 stars.
  Reports closed automatically without a rating are not rated.
"""

FIGURES = REPORT_SET + RATES + METHOD + """
**Counts.** `states`: reports per current state, all nine. `submitted`: reports in the set. `accepted`:
`accepted_at` set. `resolved`: state `resolved` or `closed`. `reopened`: `reopen_count` > 0. `overdue_now`:
`submitted` past `respond_by`, or `accepted`/`dispatched`/`in_progress` past `resolve_by`, at now. `auto_closed`:
closed automatically. `rated`: a rating set.

**Durations** in seconds (to the millisecond): `time_to_accept_seconds` = `accepted_at` − `created_at` over
reports with `accepted_at`; `time_to_resolve_seconds` = `resolved_at` − `created_at` over reports with
`resolved_at` (the latest resolution). `count`, `mean`, and percentiles by the nearest-rank method: the value
at rank ceil(q·n) in ascending order (median q = 0.5, p90 q = 0.9); null when count is 0.

The period is at most 366 days.
"""

SERIES = REPORT_SET + RATES + METHOD + """
**Buckets** of `created_at` in China time (Asia/Shanghai, UTC+8): a day, a week starting on Monday, or a
calendar month. Every bucket touching [`from`, `to`) is listed, oldest first, empty ones included; the first and
the last may be only partly inside the period (only reports inside it are counted). For each: `submitted`,
`accepted`, `resolved` and the three rates, defined as above over the bucket's reports. At most 400 buckets
(so up to 400 days, weeks or months); more is 422.
"""

RANKING = REPORT_SET + RATES + METHOD + """
**Ranking (红黑榜).** `kind=department`: reports grouped by their handling department (reports with none are
left out); `kind=grid`: by their grid. For each entity, the three rates over its reports, and
score = Σ wᵢ·rateᵢ / Σ wᵢ over the rates that are not null (weights RANKING_WEIGHTS: response, resolution,
satisfaction; renormalised over the rates present). Entities with fewer than RANKING_MIN_REPORTS reports in the
set, or with no rate at all, are not ranked (`unranked`, with the reason). `red`: the top RANKING_TOP_N by score,
descending; `black`: the bottom RANKING_TOP_N by score, ascending, leaving out entities already on the red list.
Ties: more reports first, then the smaller id. The period is at most 366 days.
"""

CSV_DOC = REPORT_SET + """
One row per report of the set, oldest first, streamed (any number of rows). UTF-8 with a BOM (Excel reads the
Chinese). Columns: number, created_at, category, state, community, grid, department, respond_by, responded_at,
accepted_at, resolved_at, closed_at, overdue (as of now, as in the figures), rating (latest stars),
reopen_count, auto_closed. Times in China time with their offset (`2026-03-01T23:59:00+08:00`). No person's name
or phone number. Text starting with `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it.
The period is at most 366 days.
"""

COMMUNITY = RATES + METHOD + """
For residents: the figures and the series of **your own community** (every report of the community created in
[`from`, `to`), public or not, counted; no report, no name, only aggregates). `from`/`to` as in
GET /api/v1/stats/figures (default: the 30 days up to now, at most 366 days). Counts, durations and buckets are
defined as in GET /api/v1/stats/figures and /series. Only for accounts bound to a community (residents);
others get 403.
"""

CSV_RESPONSES = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                       "description": "The CSV file (UTF-8 with BOM), streamed."}}

ExactQuery = Annotated[bool, Query(description="true: every number from the reports themselves (percentiles by "
                                              "nearest rank), not the roll-ups; periods of at most 31 days.")]
From = Annotated[AwareDatetime | None, Query(alias="from", description="Start (included), ISO 8601 with offset.")]
To = Annotated[AwareDatetime | None, Query(description="End (excluded), ISO 8601 with offset.")]


class StatsParams:
    """The period and filters every staff statistic takes."""

    def __init__(self, query):
        self.query = query


async def stats_params(from_: From = None, to: To = None,
                 department_id: Annotated[int | None, Query(ge=1, le=2**53, description="Handling department.")]
                 = None,
                 grid_id: Annotated[int | None, Query(ge=1, le=2**53, description="A node of the grid tree in "
                                                                                   "your scope.")] = None,
                 category_id: IdQuery = None, exact: ExactQuery = False) -> StatsParams:
    return StatsParams(service.StatsQuery(start=from_, end=to, department_id=department_id, grid_id=grid_id,
                                          category_id=category_id, exact=exact))


Params = Annotated[StatsParams, Depends(stats_params)]


@router.get("/figures", summary="Figures for your scope: counts, rates, durations", response_model=Figures,
            responses=ADMIN_ERRORS, description="Admins only." + FIGURES)
async def get_figures(rows: ReadRows, p: AdminPrincipal, params: Params):
    return await service.figures(rows, p, params.query)


@router.get("/series", summary="The same figures per day, week or month", response_model=Series,
            responses=ADMIN_ERRORS, description="Admins only." + SERIES)
async def get_series(rows: ReadRows, p: AdminPrincipal, params: Params,
                 granularity: Annotated[Granularity, Query(description="day, week (from Monday) or month.")] = "day"):
    return await service.series(rows, p, params.query, granularity)


@router.get("/ranking", summary="Ranking of departments or grids (红黑榜)", response_model=Ranking,
            responses=ADMIN_ERRORS, description="Admins only." + RANKING)
async def get_ranking(rows: ReadRows, settings: AppSettings, p: AdminPrincipal, params: Params,
                  kind: Annotated[RankingKind, Query(description="department or grid.")] = "department"):
    return await service.ranking(rows, settings, p, params.query, kind)


@router.get("/reports.csv", summary="Export the reports with their figures (CSV)", response_class=StreamingResponse,
            responses={**CSV_RESPONSES, **ADMIN_ERRORS}, dependencies=[AdminOnly],
            description="Admins only." + CSV_DOC)
async def export_reports_csv(request: Request, db: DbSession, p: CurrentPrincipal, params: Params):
    stmt, filename = await service.prepare_csv(db, p, params.query)
    return StreamingResponse(service.csv_chunks(request.app.state.db, stmt), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


@router.get("/community", summary="My community's dashboard (aggregates only)", response_model=CommunityDashboard,
            responses=error_responses(401, 403, 422, 500), description=COMMUNITY)
async def get_community_dashboard(rows: ReadRows, p: ReadPrincipal, from_: From = None, to: To = None,
                    granularity: Annotated[Granularity, Query(description="Buckets of the series.")] = "week",
                    exact: ExactQuery = False):
    return await service.community_dashboard(rows, p, from_, to, granularity, exact)


# ---- a street (街道), issue 20 ----------------------------------------------------------------------------------

STREET = """
**A street (街道).** Every report of the street (all its communities, public or not, any state) whose
`created_at` is in [`from`, `to`): any period up to 3 years (1096 days). `from`/`to` as in
GET /api/v1/stats/figures. For admins whose scope holds the street (the street's or a district's admins);
a street outside the scope, or a node that is not a street, is 404.
""" + METHOD

StreetId = Annotated[int, Path(ge=1, le=2**53, description="A street (the top of a grid tree).")]


@street_router.get("/{street_id}", summary="A street's figures and series", response_model=StreetDashboard,
                   responses=ADMIN_ERRORS,
                   description="Admins only." + STREET + RATES
                   + "\nFigures and buckets as in GET /api/v1/stats/figures and /series.")
async def stats_street(rows: ReadRows, p: AdminPrincipal, street_id: StreetId, from_: From = None, to: To = None,
                       granularity: Annotated[Granularity, Query(description="Buckets of the series.")] = "month",
                       exact: ExactQuery = False):
    return await service.street_dashboard(rows, p, street_id, from_, to, granularity, exact)


@street_router.get("/{street_id}/communities", summary="A street's figures per community",
                   response_model=StreetCommunities, responses=ADMIN_ERRORS,
                   description="Admins only." + STREET + RATES
                   + "\nOne entry per community with reports in the period.")
async def stats_street_communities(rows: ReadRows, p: AdminPrincipal, street_id: StreetId, from_: From = None,
                                   to: To = None, exact: ExactQuery = False):
    return await service.street_communities(rows, p, street_id, from_, to, exact)


@street_router.get("/{street_id}/ranking", summary="A street's ranking of communities or departments (红黑榜)",
                   response_model=Ranking, responses=ADMIN_ERRORS,
                   description="Admins only." + STREET + RATES
                   + "\nRanking as in GET /api/v1/stats/ranking, across the street's communities (`kind=community`) "
                     "or the departments handling its reports.")
async def stats_street_ranking(rows: ReadRows, settings: AppSettings, p: AdminPrincipal, street_id: StreetId,
                               from_: From = None, to: To = None,
                               kind: Annotated[StreetRankingKind, Query(description="community or department.")]
                               = "community", exact: ExactQuery = False):
    return await service.street_ranking(rows, settings, p, street_id, from_, to, kind, exact)
