"""The closed vocabularies of bookings: kinds and statuses (pure: no models, no database)."""

from __future__ import annotations

from enum import StrEnum


class ServiceKind(StrEnum):
    appointment = "appointment"  # 法律咨询, 心理咨询
    venue = "venue"              # 活动室, 议事厅
    meal = "meal"                # 长者食堂
    class_ = "class"             # 四点半学校
    errand = "errand"            # 代办: run by the resident's grid worker


class ProviderKind(StrEnum):
    department = "department"      # a functional department (provider_department_id)
    grid_workers = "grid_workers"  # the grid workers of the resident's grid
    partner = "partner"            # a named partner organisation (provider_name)


class ServiceStatus(StrEnum):
    active = "active"
    paused = "paused"    # listed, not bookable
    retired = "retired"  # gone from the catalog; its bookings and figures stay


class SlotStatus(StrEnum):
    open = "open"
    cancelled = "cancelled"


class BookingStatus(StrEnum):
    booked = "booked"            # a place in a slot, or an errand asked for
    waitlisted = "waitlisted"    # 候补: waiting for a place in a full slot
    cancelled = "cancelled"
    attended = "attended"        # 签到
    no_show = "no_show"
    received = "received"        # errand: the grid worker took it
    processing = "processing"    # errand: being run
    done = "done"                # errand: finished
    cannot_do = "cannot_do"      # errand: refused or impossible, with a reason


# A booking that holds a claim: a place (or a place in the queue), or an errand still open. One per resident per
# slot (a partial unique index), and counted against the service's per-resident limit.
ACTIVE = frozenset({BookingStatus.booked, BookingStatus.waitlisted, BookingStatus.received, BookingStatus.processing})
ACTIVE_SQL = "('booked','waitlisted','received','processing')"
RATEABLE = frozenset({BookingStatus.attended, BookingStatus.done})
STATUSES_SQL = "('" + "','".join(s.value for s in BookingStatus) + "')"


class When(StrEnum):
    upcoming = "upcoming"
    past = "past"
