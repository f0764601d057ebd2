"""When a failed webhook delivery is tried again: a pure function of the attempt number and the schedule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

JITTER = 0.1  # up to 10% later, so endpoints that failed together are not retried in lockstep


def next_attempt_at(now: datetime, attempts_made: int, schedule: Sequence[int],
                    rand: Callable[[], float]) -> datetime | None:
    """After `attempts_made` failed attempts (1 = the first one), when to try again; None when the schedule is
    spent (the delivery has failed). `rand()` is in [0, 1): the jitter."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1]
    return now + timedelta(seconds=delay * (1 + JITTER * rand()))


def max_attempts(schedule: Sequence[int]) -> int:
    """The first attempt and one per delay of the schedule."""
    return len(schedule) + 1


def total_span(schedule: Sequence[int]) -> timedelta:
    """The longest time from the first attempt to the last (with full jitter)."""
    return timedelta(seconds=sum(schedule) * (1 + JITTER))
