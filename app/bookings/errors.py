"""The refusals of booking, each with its own code and HTTP status (details shapes: app/core/error_codes.py)."""

from __future__ import annotations

from app.core.errors import Conflict, NotPermitted


class SlotFull(Conflict):
    code = "slot_full"


class AlreadyBooked(Conflict):
    code = "already_booked"


class WindowClosed(Conflict):
    code = "booking_window_closed"


class CancelDeadlinePassed(Conflict):
    code = "cancel_deadline_passed"


class LimitReached(Conflict):
    code = "booking_limit_reached"


class NotEligible(NotPermitted):
    code = "not_eligible"


class BookingBlocked(Conflict):
    code = "booking_blocked"


class ServicePaused(Conflict):
    code = "service_paused"


class SlotCancelled(Conflict):
    code = "slot_cancelled"
