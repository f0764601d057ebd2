"""Weekly slot generation (pure): a timetable over a date range gives the slots' start and end times.

Times are local to China (UTC+8, no daylight saving) like report numbers; the slots are stored in UTC. A re-run
over the same range gives the same starts, and UNIQUE(service_id, starts_at) drops the ones that exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
MAX_DAYS = 366
MAX_SLOTS = 2000


@dataclass(frozen=True, slots=True)
class Timetable:
    from_date: date
    to_date: date                # inclusive
    weekdays: frozenset[int]     # ISO: 1 = Monday ... 7 = Sunday
    start: time                  # local (China) time of the first slot of a day
    end: time                    # local time by which the last slot ends
    slot_minutes: int


class TimetableError(ValueError):
    """The timetable cannot be used; the message says why."""


def check(t: Timetable) -> None:
    if t.to_date < t.from_date:
        raise TimetableError("to_date is before from_date")
    if (t.to_date - t.from_date).days + 1 > MAX_DAYS:
        raise TimetableError(f"at most {MAX_DAYS} days")
    if t.end <= t.start:
        raise TimetableError("end must be after start")
    if not t.weekdays or not t.weekdays <= set(range(1, 8)):
        raise TimetableError("weekdays are 1 (Monday) to 7 (Sunday)")
    if t.slot_minutes <= 0:
        raise TimetableError("slot_minutes must be positive")


def slots(t: Timetable) -> Iterator[tuple[datetime, datetime]]:
    """(starts_at, ends_at) in UTC for every whole slot of the timetable, in order. A part-slot at the end of a day
    is left out (14:00–17:00 in 40-minute slots gives four)."""
    check(t)
    step = timedelta(minutes=t.slot_minutes)
    day = t.from_date
    count = 0
    while day <= t.to_date:
        if day.isoweekday() in t.weekdays:
            start = datetime.combine(day, t.start, CHINA)
            last_end = datetime.combine(day, t.end, CHINA)
            while start + step <= last_end:
                count += 1
                if count > MAX_SLOTS:
                    raise TimetableError(f"at most {MAX_SLOTS} slots at once")
                yield start.astimezone(UTC), (start + step).astimezone(UTC)
                start += step
        day += timedelta(days=1)
