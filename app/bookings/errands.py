"""The errand (代办) state machine: one table, pure Python. `service.take_errand_step` is its one door.

An errand is a booking of a service of kind `errand`, without a slot. It goes to the grid workers of the resident's
grid: one of them takes it (`receive`), runs it (`start`), and ends it (`finish` → done, or `decline` → cannot_do
with the reason). `note` adds a note the resident sees, without a change of status. The resident may cancel it
while it has not started (service.cancel_booking).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.bookings.states import BookingStatus
from app.core.errors import Conflict, InvalidInput

S = BookingStatus


class ErrandAction(StrEnum):
    receive = "receive"
    start = "start"
    finish = "finish"
    decline = "decline"
    note = "note"


@dataclass(frozen=True, slots=True)
class ErrandStep:
    action: ErrandAction
    sources: frozenset[BookingStatus]
    to: BookingStatus | None  # None: the status stays (a note)
    needs_note: bool = False
    notice: str | None = None  # the notification type the resident gets


OPEN = frozenset({S.booked, S.received, S.processing})

STEPS: dict[ErrandAction, ErrandStep] = {s.action: s for s in (
    ErrandStep(ErrandAction.receive, frozenset({S.booked}), S.received, notice="booking.errand_received"),
    ErrandStep(ErrandAction.start, frozenset({S.received}), S.processing, notice="booking.errand_processing"),
    ErrandStep(ErrandAction.finish, frozenset({S.processing}), S.done, notice="booking.errand_done"),
    ErrandStep(ErrandAction.decline, OPEN, S.cannot_do, needs_note=True, notice="booking.errand_cannot_do"),
    ErrandStep(ErrandAction.note, OPEN, None, needs_note=True, notice="booking.errand_note"),
)}

# the statuses a resident may still cancel an errand in: before the worker starts running it
CANCELLABLE = frozenset({S.booked, S.received})


class InvalidErrandStep(Conflict):
    code = "invalid_transition"


def check_errand_step(action: ErrandAction, status: BookingStatus, note: str | None) -> ErrandStep:
    """The step, or 409 invalid_transition (the status does not allow it) / 422 (a reason is needed)."""
    step = STEPS[action]
    if status not in step.sources:
        raise InvalidErrandStep(details={"state": status.value, "action": action.value})
    if step.needs_note and not note:
        raise InvalidInput("validation_error", {"missing": ["note"], "action": action.value})
    return step


def allowed_errand_actions(status: BookingStatus) -> list[ErrandAction]:
    return [s.action for s in STEPS.values() if status in s.sources]
