"""A partial day's sums (rollup_queries.rolled over a period inside one day) equal rollup_math's contributions of
its reports, computed in Python: on PostgreSQL the database sums them (app/stats/rollup_slices.py: the
milliseconds rounded half to even like Python's round, the buckets' float8 logarithms), on SQLite the Python
path does. Durations at exact half milliseconds and next to bucket edges. Both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.reports.models import Report
from app.stats import queries, rollup_math, rollup_queries, rollup_slices
from tests.stats.factories import put_report

DAY_START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 2026-03-11 00:00 China time


def _hours(ms: float) -> float:
    return ms / 3_600_000


async def test_a_partial_days_sums_equal_its_reports_contributions(app, world):
    rng = random.Random(20)
    durations = [999.5, 1000.0, 1000.5, 1500.5, 2500.5, 86_400_000.5, 0.25]
    durations += [round(1000 * rollup_math.RATIO ** k) + d for k in range(1, 400, 7) for d in (-1, 0, 0.5, 1)]
    states = ("accepted", "dispatched", "in_progress", "resolved", "closed", "submitted", "merged")
    for i, ms in enumerate(durations):
        created = DAY_START + timedelta(hours=2, microseconds=rng.randint(0, 3_600_000_000))
        state = states[i % len(states)]
        accepted = _hours(ms) if state != "submitted" else None
        resolved = _hours(ms + durations[-1 - i]) if state in ("resolved", "closed") else None
        await put_report(app, world, created=created.isoformat(), state=state, accepted=accepted, resolved=resolved,
                         rating=rng.choice([None, 2, 4, 5]) if state == "closed" else None,
                         reopen_count=rng.choice([0, 0, 1]), auto_closed=state == "closed" and i % 3 == 0,
                         handler=world.d1 if i % 2 else None)
    start, end = DAY_START + timedelta(hours=1), DAY_START + timedelta(hours=20)
    now = datetime(2026, 3, 12, tzinfo=UTC)
    t = Report.__table__
    async with app.state.db.engine.begin() as conn:
        # the worker's announcements (rollup_math overdue, late_waiting): of the current deadline for a third of the
        # reports (only the open ones count), of respond_by (no longer the deadline once accepted) for a sixth
        await conn.execute(update(t).where(t.c.id % 3 == 0).values(overdue_notified_for=t.c.due_at))
        await conn.execute(update(t).where(t.c.id % 6 == 1).values(overdue_notified_for=t.c.respond_by))
        reports = (await conn.execute(select(*(t.c[f] for f in rollup_math.FIELDS))
                                      .where(t.c.created_at >= start, t.c.created_at < end))).mappings().all()
    assert len(reports) == len(durations)
    want = rollup_math.sum_counters(rollup_math.counters(r) for r in reports)
    assert want["overdue"] > want["late_waiting"] > 0  # both counted, and not by the same rule
    want_hist: dict[int, dict[int, int]] = {}
    for r in reports:
        for metric, bucket in rollup_math.durations(r):
            want_hist.setdefault(metric, {}).setdefault(bucket, 0)
            want_hist[metric][bucket] += 1
    rs = queries.community_set(world.c1.id, start, end, world.street.id)
    got = await rollup_queries.rolled(app.state.db.reader, rs, now, histogram=True)
    assert got is not None
    assert {k: got.sums[None][k] for k in rollup_math.COUNTERS} == want
    assert got.percentiles == {m: tuple(rollup_math.percentile_bucket(h, p) for p in rollup_math.PERCENTILES)
                               for m, h in want_hist.items()}
    if app.state.db.engine.dialect.name == "postgresql":  # every bucket as the database computes it
        got_hist: dict[int, dict[int, int]] = {}
        for row in await app.state.db.reader.all(rollup_slices.histogram_sql(rs.shape), rs.values(now)):
            got_hist.setdefault(int(row["metric"]), {})[int(row["bucket"])] = int(row["n"])
        assert got_hist == want_hist
    by_day = await rollup_queries.rolled(app.state.db.reader, rs, now, group="day", months=False)
    assert by_day is not None and list(by_day.sums) == [datetime(2026, 3, 11).date()]
    assert {k: by_day.sums[datetime(2026, 3, 11).date()][k] for k in rollup_math.COUNTERS} == want
    by_department = await rollup_queries.rolled(app.state.db.reader, rs, now, group="department_id")
    assert by_department is not None and set(by_department.sums) == {world.d1.id}
    assert by_department.sums[world.d1.id]["n"] == sum(1 for r in reports if r["handler_department_id"])
