"""The ranges of cells a read sums (rollup_queries.read_segments) count every day of the period once: days added,
whole months added, days outside the period taken away; and never more day cells than the period's days."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from app.stats import rollup_math as rm
from app.stats.rollup_queries import _ADDED, RANGES, read_segments


def _days(lo: date, hi: date, grain: int) -> list[date]:
    out, d = [], lo
    while d < hi:
        if grain == rm.MONTH:
            assert d.day == 1
            end = rm.next_month(d)
            out.extend(d + timedelta(days=i) for i in range((end - d).days))
            d = end
        else:
            out.append(d)
            d += timedelta(days=1)
    return out


def test_read_segments_count_every_day_of_the_period_once():
    rng = random.Random(20)
    for _ in range(2000):
        first = date(2025, 1, 1) + timedelta(days=rng.randint(0, 700))
        last = first + timedelta(days=rng.choice([0, 1, 2, 5, 15, 30, 31, 45, 90, 365, 366, 800]) + rng.randint(0, 3))
        today = last - timedelta(days=1) + timedelta(days=rng.choice([0, 0, 1, 40]))
        for months in (True, False):
            ranges = read_segments(first, last, months, today)
            assert len(ranges) == len(RANGES)
            seen: Counter[date] = Counter()
            day_cells = 0
            for i, ((lo, hi), grain) in enumerate(zip(ranges, RANGES, strict=True)):
                for d in _days(lo, hi, grain):
                    seen[d] += 1 if i < _ADDED else -1
                if grain == rm.DAY:
                    day_cells += sum(1 for d in _days(lo, hi, grain) if d <= today)
            assert +seen == Counter(first + timedelta(days=i) for i in range((last - first).days)), \
                (first, last, today, months, ranges)
            assert not -seen
            assert day_cells <= (last - first).days
