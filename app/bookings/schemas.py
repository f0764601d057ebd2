"""Request and response bodies of services, slots, bookings and errands."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from app.bookings.errands import ErrandAction
from app.bookings.states import BookingStatus, ProviderKind, ServiceKind, ServiceStatus, SlotStatus
from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import ObjectId

Version = Field(ge=1, le=2**31, description="The version you saw: if someone changed it first, 409 stale_version.")
GridIds = Field(default=None, max_length=50, description="Only residents of these grids may book (null: all).")


class ServiceRulesIn(InputModel):
    opens_days_ahead: int = Field(default=7, ge=0, le=365, description="Booking opens this many days before a "
                                                                       "slot starts.")
    closes_minutes_before: int = Field(default=0, ge=0, le=10080, description="Booking closes this many minutes "
                                                                             "before the start.")
    cancel_minutes_before: int = Field(default=60, ge=0, le=10080, description="A place may be cancelled until "
                                                                              "this many minutes before the start.")
    max_active_per_resident: int = Field(default=1, ge=1, le=100, description="Active bookings (upcoming places, "
                                         "waitlist entries, open errands) one resident may hold for the service; a "
                                         "booking for a family member counts against the resident's own.")
    min_age: int | None = Field(default=None, ge=0, le=150, description="Minimum age from the profile's birth date.")
    eligible_grid_ids: list[ObjectId] | None = GridIds
    waitlist: bool = Field(default=False, description="A full slot takes waitlist entries (候补).")
    no_show_limit: int = Field(default=3, ge=0, le=100, description="No-shows within 30 days that block booking "
                                                                    "(0: never).")
    no_show_block_days: int = Field(default=14, ge=0, le=365, description="How long the block lasts, from the "
                                                                          "latest no-show.")


class ServiceCreate(ServiceRulesIn):
    community_id: ObjectId
    kind: ServiceKind
    title: str = Field(min_length=2, max_length=100)
    description: str = Field(default="", max_length=2000)
    place: str | None = Field(default=None, max_length=200)
    provider_kind: ProviderKind
    provider_department_id: ObjectId | None = Field(default=None, description="provider_kind department.")
    provider_name: str | None = Field(default=None, min_length=1, max_length=100,
                                      description="provider_kind partner: the organisation's name.")

    @model_validator(mode="after")
    def _provider_is_whole(self) -> ServiceCreate:
        if (self.provider_kind is ProviderKind.department) != (self.provider_department_id is not None):
            raise ValueError("provider_department_id goes with provider_kind department, and only with it")
        if self.provider_kind is ProviderKind.partner and not self.provider_name:
            raise ValueError("provider_name is needed for a partner")
        if self.kind is ServiceKind.errand and self.provider_kind is not ProviderKind.grid_workers:
            raise ValueError("errands are run by the grid workers (provider_kind grid_workers)")
        return self


class ServiceUpdate(InputModel):
    """Change a service: only the fields sent. `status` pauses (not bookable), resumes or retires it."""

    expected_version: int = Version
    title: str = if_sent(min_length=2, max_length=100)
    description: str = if_sent(max_length=2000)
    place: str | None = Field(default=None, max_length=200)
    status: ServiceStatus = if_sent()
    opens_days_ahead: int = if_sent(ge=0, le=365)
    closes_minutes_before: int = if_sent(ge=0, le=10080)
    cancel_minutes_before: int = if_sent(ge=0, le=10080)
    max_active_per_resident: int = if_sent(ge=1, le=100)
    min_age: int | None = Field(default=None, ge=0, le=150)
    eligible_grid_ids: list[ObjectId] | None = GridIds
    waitlist: bool = if_sent()
    no_show_limit: int = if_sent(ge=0, le=100)
    no_show_block_days: int = if_sent(ge=0, le=365)


class ServiceRead(OutputModel):
    id: int
    community_id: int
    kind: ServiceKind
    title: str
    description: str
    place: str | None
    provider_kind: ProviderKind
    provider_department_id: int | None
    provider_name: str | None
    opens_days_ahead: int
    closes_minutes_before: int
    cancel_minutes_before: int
    max_active_per_resident: int
    min_age: int | None
    eligible_grid_ids: list[int] | None
    waitlist: bool
    no_show_limit: int
    no_show_block_days: int
    status: ServiceStatus
    version: int
    created_at: datetime


class SlotCreate(InputModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=10000)

    @model_validator(mode="after")
    def _order(self) -> SlotCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TimetableIn(InputModel):
    """Weekly slots over a date range, in China time: e.g. every Thursday 14:00–17:00 in 30-minute slots.
    Running it again over the same range adds only the slots that do not exist yet."""

    from_date: date
    to_date: date = Field(description="Inclusive; at most 366 days after from_date.")
    weekdays: list[int] = Field(min_length=1, max_length=7, description="ISO weekdays: 1 Monday … 7 Sunday.")
    start_time: time = Field(description="Local time of the day's first slot, e.g. 14:00.")
    end_time: time = Field(description="Local time by which the day's last slot ends, e.g. 17:00.")
    slot_minutes: int = Field(ge=5, le=1440)
    capacity: int = Field(ge=1, le=10000)


class TimetableResult(BaseModel):
    created: int = Field(description="Slots added.")
    existing: int = Field(description="Slots of the timetable that existed already (left as they were).")


class SlotRead(OutputModel):
    id: int
    service_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    remaining: int
    status: SlotStatus
    cancel_reason: str | None


class SlotCancel(InputModel):
    reason: str = Field(min_length=1, max_length=500, description="Told to every resident who booked.")


class BookingCreate(InputModel):
    """A place in a slot (slot_id), or an errand (service_id of an errand service, with what is needed)."""

    slot_id: ObjectId | None = None
    service_id: ObjectId | None = Field(default=None, description="Errands only (they have no slots).")
    for_family_member: str | None = Field(default=None, min_length=1, max_length=40,
                                          description="A family member the place is for (counts against your limit).")
    note: str | None = Field(default=None, min_length=1, max_length=2000, description="Errands: what is needed.")
    preferred_date: date | None = Field(default=None, description="Errands: a day that would suit.")

    @model_validator(mode="after")
    def _one_target(self) -> BookingCreate:
        if (self.slot_id is None) == (self.service_id is None):
            raise ValueError("give slot_id (a place) or service_id (an errand), not both")
        return self


class BookingRead(OutputModel):
    id: int
    service_id: int
    service_title: str
    service_kind: ServiceKind
    slot_id: int | None
    starts_at: datetime = Field(description="The slot's start; for an errand, when it was asked.")
    ends_at: datetime | None
    resident_id: int
    resident_phone: str | None = Field(default=None, description=(
        "The resident's number: yours in full; full to the organiser (the grid worker keeping an errand, the "
        "service's staff for a place), masked (138****1234) to other staff."))
    for_family_member: str | None
    note: str | None
    preferred_date: date | None
    status: BookingStatus
    version: int
    cancel_reason: str | None
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    errand_actions: list[ErrandAction] = Field(default_factory=list,
                                               description="Errand steps you may take now (grid workers).")


class CancelIn(InputModel):
    expected_version: int = Version


class AttendanceIn(InputModel):
    expected_version: int = Version
    status: BookingStatus = Field(description="attended or no_show.")

    @model_validator(mode="after")
    def _mark(self) -> AttendanceIn:
        if self.status not in (BookingStatus.attended, BookingStatus.no_show):
            raise ValueError("status is attended or no_show")
        return self


class ErrandStepIn(InputModel):
    action: ErrandAction
    expected_version: int = Version
    note: str | None = Field(default=None, min_length=1, max_length=2000,
                             description="Seen by the resident; needed for decline (the reason) and note.")


class RatingIn(InputModel):
    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, min_length=1, max_length=500)


class BookingEventRead(OutputModel):
    id: int
    action: str
    actor_role: str
    from_status: BookingStatus | None
    to_status: BookingStatus
    note: str | None
    created_at: datetime


class ServiceFigures(BaseModel):
    service_id: int
    title: str
    kind: ServiceKind
    status: ServiceStatus
    bookings: int = Field(description="Every booking in the period, whatever became of it.")
    booked: int
    waitlisted: int
    cancelled: int
    attended: int
    no_show: int
    errands_open: int
    errands_done: int
    errands_cannot_do: int
    ratings: int
    average_rating: float | None


class BookingFigures(BaseModel):
    period_from: datetime
    period_to: datetime
    services: list[ServiceFigures]
