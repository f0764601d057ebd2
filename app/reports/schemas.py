from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, create_model, model_validator

from app.core.i18n import PersonName
from app.core.schemas import InputModel, OutputModel
from app.core.validators import ObjectId
from app.reports.lifecycle import Action, ActorRole, EventAction, State

Note = Field(default=None, min_length=1, max_length=2000)
PhotoIds = Field(default_factory=list, max_length=9, description="Ids from POST /api/v1/uploads (yours), up to 9.")


class ReportCreate(InputModel):
    category_id: ObjectId
    title: str = Field(min_length=2, max_length=100)
    description: str = Field(default="", max_length=2000)
    building_id: ObjectId | None = Field(
        default=None, description="Where: a building. Residents default to their own; grid workers must give one.")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=200)
    photo_ids: list[ObjectId] = PhotoIds
    is_public: bool = Field(default=True, description="Public to the community feed, or private to you and staff.")
    hide_reporter: bool = Field(default=False, description="Hide your name from other residents (never from staff).")
    source: Literal["app", "mini_program", "patrol", "hotline"] | None = Field(
        default=None, description="Residents: app (default) or mini_program. Grid workers: patrol (default) or "
                                  "hotline (with on_behalf_of_id).")
    on_behalf_of_id: ObjectId | None = Field(
        default=None, description="Grid workers: the resident this report is filed for (hotline, 代报).")

    @model_validator(mode="after")
    def _point_is_whole(self) -> ReportCreate:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("lat and lng go together")
        if len(set(self.photo_ids)) != len(self.photo_ids):
            raise ValueError("photo_ids must be distinct")
        return self


class StepIn(InputModel):
    """One step on a report. `expected_version` is the version you saw: if someone acted first, 409."""

    action: Action
    expected_version: int = Field(ge=1, le=2**31)
    note: str | None = Note
    note_public: bool | None = Field(default=None, description="Whether residents see the note; default per action.")
    photo_ids: list[ObjectId] = PhotoIds
    department_id: ObjectId | None = Field(default=None, description="dispatch: the department to handle it.")
    handler_user_id: ObjectId | None = Field(default=None, description="dispatch: a grid worker of the report's "
                                                                      "grid keeps it (网格员自办).")
    target_report_id: ObjectId | None = Field(default=None, description="merge: the report this one duplicates.")
    resolve_by: AwareDatetime | None = Field(default=None, description="request_extension / extend: new deadline.")
    photo_id: ObjectId | None = Field(default=None, description="hide_photo: the photo to hide.")
    stars: int | None = Field(default=None, ge=1, le=5, description="rate: 1-5. 4-5 close it; 3 closes it as not "
                                                                   "satisfied; 1-2 (差评) reopen it (重办).")
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=10, description="rate: e.g. 办理及时, 态度好, 没解决.")

    @model_validator(mode="after")
    def _distinct(self) -> StepIn:
        if len(set(self.photo_ids)) != len(self.photo_ids):
            raise ValueError("photo_ids must be distinct")
        if self.department_id is not None and self.handler_user_id is not None:
            raise ValueError("dispatch to a department or to a grid worker, not both")
        return self


class RatingRead(OutputModel):
    stars: int
    tags: list[str]
    comment: str | None
    cycle: int
    created_at: datetime


class PersonRef(OutputModel):
    id: int | None = Field(description="Null for a reporter who chose anonymity, shown to other residents as "
                                       "匿名居民 (English clients: \"Anonymous resident\").")
    display_name: PersonName


class PhotoRead(OutputModel):
    id: int
    url: str = Field(description="Needs `Authorization: Bearer`.")
    signed_url: str = Field(description="Works without a token until it expires (PHOTO_URL_TTL_SECONDS, rounded up "
                                        "to 5 minutes): for `<image src>` in mini-programs. Ask for the report again "
                                        "for a fresh one.")
    hidden: bool = False
    hidden_reason: str | None = None
    event_id: int | None = None


class ReportSummary(OutputModel):
    id: int
    number: str
    title: str
    category_id: int
    state: State
    version: int
    source: Literal["app", "mini_program", "patrol", "hotline"]
    is_public: bool
    community_id: int
    grid_id: int
    building_id: int | None
    handler_department_id: int | None
    reporter: PersonRef = Field(description="A reporter who hid their name appears to other residents as "
                                            "{id: null, display_name: 匿名居民}; staff and the reporter see them.")
    follower_count: int
    reopen_count: int
    respond_by: datetime
    resolve_by: datetime | None
    overdue: bool = Field(description="Now past respond_by while waiting for intake, or past resolve_by while "
                                      "accepted, dispatched or in progress. Derived, never stored.")
    created_at: datetime


class ReportRead(ReportSummary):
    description: str
    lat: float | None
    lng: float | None
    address: str | None
    hide_reporter: bool
    handler_user_id: int | None
    escalated_to_grid_id: int | None
    merged_into_id: int | None
    accepted_at: datetime | None
    dispatched_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    responded_at: datetime | None
    rating: int | None = Field(description="Stars of the latest rating (1-5), if rated.")
    auto_closed: bool = Field(description="Closed automatically, unrated, after the rating window.")
    updated_at: datetime
    hidden: bool
    hidden_reason: str | None = Field(description="Why moderators hid it; shown to the reporter and staff only.")
    is_following: bool
    photos: list[PhotoRead]
    allowed_actions: list[Action] = Field(description="Steps you may take now.")
    reporter_phone: str | None = Field(default=None, description=(
        "Staff only (null for residents, the reporter included: they know it): full to the staff handling the "
        "report (grid worker of its grid, the department it is dispatched to, the grid worker keeping it), "
        "masked (138****1234) to other staff such as supervising admins."))


class EventRead(OutputModel):
    id: int
    action: EventAction
    actor_role: ActorRole
    actor: PersonRef | None = Field(description="Who acted; null for the system. A reporter who hid their name is "
                                                "匿名居民 with a null id to other residents.")
    from_state: State | None
    to_state: State
    note: str | None = Field(description="Null when the note is internal and you are not staff.")
    note_public: bool
    is_public: bool
    photo_ids: list[int]
    data: dict
    created_at: datetime


# One field per state, so a generated client sees every key (a dict[State, int] has none).
CountsByState = create_model("CountsByState", __base__=OutputModel,
                             **{s.value: (int, Field(ge=0)) for s in State})


class StateCounts(OutputModel):
    counts: CountsByState = Field(description="Reports per state in this queue (with the same filters).")
    total: int


class FollowRead(OutputModel):
    following: bool
    follower_count: int
