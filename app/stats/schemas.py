"""Statistics responses. Aggregates only: counts, rates, durations, and the names of places and departments,
never of a person."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Rate = float | None
Granularity = Literal["day", "week", "month"]
RankingKind = Literal["department", "grid"]
StreetRankingKind = Literal["community", "department"]
Method = Literal["rollup", "exact"]
METHOD = ("How the numbers were made. `rollup`: whole China days from the roll-ups kept with every step, a partial "
          "first or last day from the reports, overdue now and still-waiting-past-respond_by live from the open "
          "reports; counts and rates are exact either way, percentiles come from duration histograms (within "
          "2 %). `exact`: every number from the reports (percentiles by nearest rank).")


class PeriodRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from", description="Start of the period (included), UTC.")
    to: datetime = Field(description="End of the period (excluded), UTC.")


class FiltersRead(BaseModel):
    department_id: int | None = None
    grid_id: int | None = None
    category_id: int | None = None


class StateTally(BaseModel):
    """Reports of the set per current state (every state, zeros included)."""

    submitted: int
    accepted: int
    rejected: int
    withdrawn: int
    dispatched: int
    in_progress: int
    resolved: int
    closed: int
    merged: int


class Counts(BaseModel):
    submitted: int = Field(description="Number of reports in the set.")
    accepted: int = Field(description="Reports with accepted_at (accepted at some point, whatever the state now).")
    resolved: int = Field(description="Reports whose state is resolved or closed.")
    reopened: int = Field(description="Reports with reopen_count > 0.")
    overdue_now: int = Field(description="Waiting for intake past respond_by, or accepted/dispatched/in progress "
                                         "past resolve_by, at `as_of`.")
    auto_closed: int = Field(description="Closed automatically, unrated.")
    rated: int = Field(description="Reports with a rating.")
    resolved_in_time: int = Field(0, description="Resolved or closed, with resolved_at <= resolve_by.")


class ResponseParts(BaseModel):
    due: int = Field(description="responded_at set, or state submitted and respond_by < as_of.")
    on_time: int = Field(description="responded_at set and responded_at <= respond_by.")


class ResolutionParts(BaseModel):
    accepted: int = Field(description="accepted_at set.")
    resolved_first_time: int = Field(description="accepted_at set, state resolved or closed, reopen_count = 0.")


class SatisfactionParts(BaseModel):
    rated: int = Field(description="rating set (the latest rating of the report).")
    satisfied: int = Field(description="rating >= 4.")


class DurationStats(BaseModel):
    count: int
    mean: float | None = Field(description="Seconds, to the millisecond; null when count is 0.")
    median: float | None = Field(description="Nearest rank: the value at rank ceil(0.5 n), ascending. With "
                                             "`method` rollup, a histogram percentile: the geometric midpoint of "
                                             "the log-spaced bucket (ratio 1.04) holding that value, within 1.98 % "
                                             "of it.")
    p90: float | None = Field(description="Nearest rank: the value at rank ceil(0.9 n), ascending. With `method` "
                                          "rollup, a histogram percentile within 1.98 % (as for the median).")


class Figures(BaseModel):
    period: PeriodRead
    filters: FiltersRead
    as_of: datetime = Field(description="The moment `due` and `overdue_now` were evaluated at.")
    method: Method = Field("exact", description=METHOD)
    states: StateTally
    counts: Counts
    response_rate: Rate = Field(description="on_time / due; null when due = 0.")
    resolution_rate: Rate = Field(description="resolved_first_time / accepted; null when accepted = 0.")
    satisfaction_rate: Rate = Field(description="satisfied / rated; null when rated = 0.")
    response: ResponseParts
    resolution: ResolutionParts
    satisfaction: SatisfactionParts
    time_to_accept_seconds: DurationStats = Field(description="accepted_at - created_at, over reports with "
                                                              "accepted_at.")
    time_to_resolve_seconds: DurationStats = Field(description="resolved_at - created_at, over reports with "
                                                               "resolved_at.")


class SeriesPoint(BaseModel):
    start: date = Field(description="First day of the bucket, China time (a Monday for weeks, the 1st for months).")
    submitted: int
    accepted: int
    resolved: int
    response_rate: Rate
    resolution_rate: Rate
    satisfaction_rate: Rate


class Series(BaseModel):
    period: PeriodRead
    filters: FiltersRead
    as_of: datetime
    granularity: Granularity
    method: Method = Field("exact", description=METHOD)
    timezone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    points: list[SeriesPoint] = Field(description="Every bucket touching the period, oldest first, empty ones "
                                                  "included (rates null). The first and last may be partial.")


class Weights(BaseModel):
    response: float
    resolution: float
    satisfaction: float


class RankedEntity(BaseModel):
    id: int
    name: str
    reports: int = Field(description="Reports of the set handled by this department / held by this grid.")
    response_rate: Rate
    resolution_rate: Rate
    satisfaction_rate: Rate
    score: float = Field(description="Weighted mean of the rates that are not null (weights renormalised).")


class UnrankedEntity(BaseModel):
    id: int
    name: str
    reports: int
    reason: Literal["too_few_reports", "no_rates"]


class Ranking(BaseModel):
    kind: Literal["department", "grid", "community"]
    period: PeriodRead
    filters: FiltersRead
    as_of: datetime
    method: Method = Field("exact", description=METHOD)
    weights: Weights
    min_reports: int
    top_n: int
    red: list[RankedEntity] = Field(description="红榜: the top N by score (desc), ties by more reports, then id.")
    black: list[RankedEntity] = Field(description="黑榜: the bottom N by score (asc), ties by more reports, then "
                                                  "id; never an entity already on the red list.")
    unranked: list[UnrankedEntity] = Field(description="Entities with reports in the set but too few of them, or "
                                                       "with no rate at all; by id.")


class PlaceRef(BaseModel):
    id: int
    name: str


class CommunityDashboard(BaseModel):
    community: PlaceRef
    figures: Figures
    series: Series


# ---- a street (街道), issue 20 ----------------------------------------------------------------------------------


class StreetDashboard(BaseModel):
    street: PlaceRef
    figures: Figures
    series: Series


class CommunityFigures(BaseModel):
    id: int
    name: str
    submitted: int
    accepted: int
    resolved: int
    response_rate: Rate
    resolution_rate: Rate
    satisfaction_rate: Rate
    response: ResponseParts
    resolution: ResolutionParts
    satisfaction: SatisfactionParts


class StreetCommunities(BaseModel):
    street: PlaceRef
    period: PeriodRead
    as_of: datetime
    method: Method = Field(description=METHOD)
    communities: list[CommunityFigures] = Field(description="Every community of the street with reports in the "
                                                            "period, by id.")
