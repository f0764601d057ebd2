"""The booking rules as pure functions: window, cancellation deadline, eligibility, the no-show block.

No models and no database: the service reads the facts and these decide. Each refusal is an AppError with its own
code (app/bookings/errors.py); the limits that concurrent requests could race past (capacity, one place per slot,
the per-resident limit) are held by the database in service.py, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.bookings.errors import BookingBlocked, CancelDeadlinePassed, NotEligible, WindowClosed
from app.bookings.states import ServiceStatus

NO_SHOW_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """What a service's rules say (a view of its columns)."""

    status: ServiceStatus
    opens_days_ahead: int
    closes_minutes_before: int
    cancel_minutes_before: int
    max_active_per_resident: int
    min_age: int | None
    eligible_grid_ids: tuple[int, ...] | None
    no_show_limit: int
    no_show_block_days: int


def window(r: ServiceRules, starts_at: datetime) -> tuple[datetime, datetime]:
    """[opens_at, closes_at): when a slot starting at `starts_at` can be booked."""
    return starts_at - timedelta(days=r.opens_days_ahead), starts_at - timedelta(minutes=r.closes_minutes_before)


def check_window(r: ServiceRules, starts_at: datetime, now: datetime) -> None:
    opens_at, closes_at = window(r, starts_at)
    if not opens_at <= now < closes_at:
        raise WindowClosed(details={"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()})


def cancel_deadline(r: ServiceRules, starts_at: datetime) -> datetime:
    return starts_at - timedelta(minutes=r.cancel_minutes_before)


def check_cancel(r: ServiceRules, starts_at: datetime | None, now: datetime) -> None:
    """A place can be given back until the deadline; an errand (no slot) any time while it is open."""
    if starts_at is None:
        return
    deadline = cancel_deadline(r, starts_at)
    if now >= deadline:
        raise CancelDeadlinePassed(details={"deadline": deadline.isoformat()})


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_eligible(r: ServiceRules, *, grid_id: int | None, birth_date: date | None, today: date) -> None:
    """Residents of the listed grids only (when listed), of at least min_age (when set; an unknown birth date is
    not old enough)."""
    if r.eligible_grid_ids is not None and grid_id not in r.eligible_grid_ids:
        raise NotEligible(details={"reason": "grid"})
    if r.min_age is not None:
        if birth_date is None:
            raise NotEligible(details={"reason": "birth_date_unknown", "min_age": r.min_age})
        if age_on(birth_date, today) < r.min_age:
            raise NotEligible(details={"reason": "min_age", "min_age": r.min_age})


def blocked_until(no_shows: Iterable[datetime], now: datetime, limit: int, block_days: int) -> datetime | None:
    """`limit` no-shows within the last 30 days block booking until `block_days` after the latest of them.
    limit 0 turns the block off."""
    recent = [t for t in no_shows if now - NO_SHOW_WINDOW < t <= now]
    return blocked_until_counted(len(recent), max(recent, default=None), now, limit, block_days)


def blocked_until_counted(recent: int, latest: datetime | None, now: datetime, limit: int,
                          block_days: int) -> datetime | None:
    """The same from what the database counts: `recent` no-shows within the last 30 days (up to now), the
    `latest` of them."""
    if limit <= 0 or recent < limit or latest is None:
        return None
    until = latest + timedelta(days=block_days)
    return until if until > now else None


def check_not_blocked(r: ServiceRules, recent: int, latest: datetime | None, now: datetime) -> None:
    """`recent`/`latest`: the resident's no-shows of the service within (now - 30 days, now] and the latest."""
    until = blocked_until_counted(recent, latest, now, r.no_show_limit, r.no_show_block_days)
    if until is not None:
        raise BookingBlocked(details={"until": until.isoformat()})
