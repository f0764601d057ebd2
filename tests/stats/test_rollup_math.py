"""The roll-ups' pure parts: histogram buckets and their error bound, percentiles from a histogram, a report's
contribution and a step's delta, the cells covering a period."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from app.stats import rollup_math as rm

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _report(**kw):
    base = dict(id=13, street_id=1, community_id=2, grid_id=3, category_id=4, handler_department_id=None, created_at=T0,
                state="submitted", accepted_at=None, responded_at=None, respond_by=T0 + timedelta(hours=24),
                resolved_at=None, resolve_by=None, rating=None, reopen_count=0, auto_closed=False,
                overdue_notified_for=None)
    base.update(kw)
    return base


def test_every_duration_is_within_two_percent_of_its_buckets_midpoint():
    rng = random.Random(20)
    assert rm.MAX_RELATIVE_ERROR < 0.02
    for ms in [1000, 1001, 1039, 1040, 1041, 59_999, 60_000, 86_400_000, 400 * 86_400_000] + \
            [rng.randint(1000, 10**11) for _ in range(5000)]:
        b = rm.bucket_of(ms)
        low, high = rm.bucket_bounds(b)
        assert low <= ms / 1000 * (1 + 1e-12) and ms / 1000 < high * (1 + 1e-12), (ms, b, low, high)
        assert abs(rm.bucket_value(b) - ms / 1000) / (ms / 1000) <= rm.MAX_RELATIVE_ERROR + 1e-12
    assert rm.bucket_of(999) == rm.bucket_of(0) == rm.bucket_of(-5) == 0 and rm.bucket_value(0) == 0.5


def _nearest_rank(values, percent):
    values = sorted(values)
    return values[(len(values) * percent + 99) // 100 - 1]


def test_percentiles_from_the_histogram_are_within_the_error_of_the_nearest_rank():
    rng = random.Random(7)
    for n in (1, 2, 3, 10, 99, 1000):
        values = [rng.randint(1000, 30 * 86_400_000) for _ in range(n)]
        hist: dict[int, int] = {}
        for v in values:
            hist[rm.bucket_of(v)] = hist.get(rm.bucket_of(v), 0) + 1
        for percent in (50, 90):
            exact = _nearest_rank(values, percent) / 1000
            got = rm.percentile(hist, percent)
            assert abs(got - exact) / exact <= rm.MAX_RELATIVE_ERROR + 1e-12, (n, percent, got, exact)
    assert rm.percentile({}, 50) is None


def test_a_report_counts_once_in_every_cut_for_its_day_and_month():
    r = _report(created_at=datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # 04-01 00:30 in China
    cells = rm.cells(r)
    # no department handles it: no cells of the departments' ranking (the only read of that cut leaves it out)
    assert len(cells) == (len(rm.CUTS) - 1) * 2 + len(rm.HOUR_CUTS) == 7
    assert rm.STREET_DEPT not in {c[0] for c in cells}
    handled = rm.cells(_report(created_at=r["created_at"], handler_department_id=9))
    assert len(handled) == len(rm.CUTS) * 2 + len(rm.HOUR_CUTS) == 9
    assert (rm.STREET_DEPT, 1, 0, 0, 0, 9, 13 % rm.SLOTS, rm.MONTH, date(2026, 4, 1)) in handled
    assert {(c[-2], c[-1]) for c in cells} == {(rm.DAY, date(2026, 4, 1)), (rm.MONTH, date(2026, 4, 1)),
                                               (rm.HOUR, date(2026, 4, 1))}
    assert (rm.FINE, 1, 2, 3, 4, 0, 0, rm.DAY, date(2026, 4, 1)) in cells
    assert (rm.COMMUNITY, 1, 2, 0, 0, 0, 13 % rm.SLOTS, rm.DAY, date(2026, 4, 1)) in cells
    assert (rm.STREET, 1, 0, 0, 0, 0, 13 % rm.SLOTS, rm.MONTH, date(2026, 4, 1)) in cells
    # the street's hour cell: hour 0 of 04-01 in China; its slot is hour * SLOTS + the spread
    assert (rm.STREET, 1, 0, 0, 0, 0, 13 % rm.SLOTS, rm.HOUR, date(2026, 4, 1)) in cells
    late = rm.cells(_report(created_at=datetime(2026, 4, 1, 15, 59, tzinfo=UTC)))  # 23:59 in China
    assert [c for c in late if c[7] == rm.HOUR] == [(rm.STREET, 1, 0, 0, 0, 0, 23 * rm.SLOTS + 13 % rm.SLOTS, rm.HOUR,
                                                    date(2026, 4, 1))]
    assert rm.base_slot(23 * rm.SLOTS + 5) == 23 * rm.SLOTS and rm.base_slot(5) == 0


def test_the_shared_cuts_spread_over_slots_by_report_and_the_fine_cut_does_not():
    spread = {c[6] for i in range(40) for c in rm.cells(_report(id=i))
              if c[0] in (rm.COMMUNITY, rm.STREET) and c[7] != rm.HOUR}
    assert spread == set(range(rm.SLOTS))
    hour = T0.astimezone(rm.CHINA).hour
    assert {c[6] for i in range(40) for c in rm.cells(_report(id=i)) if c[7] == rm.HOUR} \
        == set(range(hour * rm.SLOTS, (hour + 1) * rm.SLOTS))
    assert {c[6] for i in range(40) for c in rm.cells(_report(id=i)) if c[0] == rm.FINE} == {0}


def test_a_step_that_moves_the_department_moves_the_report_between_cells():
    old = _report(state="accepted", accepted_at=T0 + timedelta(hours=1), responded_at=T0 + timedelta(hours=1),
                  resolve_by=T0 + timedelta(days=7))
    new = rm.stepped(old, "dispatched", {"handler_department_id": 9, "dispatched_at": T0, "note": "ignored"})
    changed, hist = rm.delta(old, new)
    by_cell = dict(changed)
    fine_old = (rm.FINE, 1, 2, 3, 4, 0, 0, rm.DAY, date(2026, 3, 1))
    fine_new = (rm.FINE, 1, 2, 3, 4, 9, 0, rm.DAY, date(2026, 3, 1))
    assert by_cell[fine_old]["n"] == -1 and by_cell[fine_new]["n"] == 1
    assert by_cell[fine_old]["accept_ms"] == -3_600_000 and by_cell[fine_new]["accept_ms"] == 3_600_000
    community = (rm.COMMUNITY, 1, 2, 0, 0, 0, 13 % rm.SLOTS, rm.DAY, date(2026, 3, 1))
    assert by_cell[community]["st_accepted"] == -1 and by_cell[community]["st_dispatched"] == 1
    assert by_cell[community]["n"] == 0
    # into the department's ranking cells; none of "no department" to leave (it has none)
    ranking = (rm.STREET_DEPT, 1, 0, 0, 0, 9, 13 % rm.SLOTS, rm.DAY, date(2026, 3, 1))
    assert by_cell[ranking]["n"] == 1 and by_cell[ranking]["st_dispatched"] == 1
    assert not [c for c in by_cell if c[0] == rm.STREET_DEPT and c[5] == rm.NO_DEPARTMENT]
    # the histograms move with the fine cell; the community's and street's are unchanged
    assert {h[0] for h, _ in hist} == {rm.FINE} and sorted(n for _, n in hist) == [-1, -1, 1, 1]
    assert [c for c, _ in changed] == sorted(c for c, _ in changed)


def test_a_step_that_changes_nothing_counted_writes_nothing():
    old = _report(state="dispatched", accepted_at=T0, responded_at=T0, handler_department_id=9)
    assert rm.delta(old, rm.stepped(old, "dispatched", {"hidden_at": T0})) == ([], [])


def test_the_counters_of_one_report():
    r = _report(state="closed", accepted_at=T0 + timedelta(hours=2), responded_at=T0 + timedelta(hours=2),
                resolved_at=T0 + timedelta(hours=10), resolve_by=T0 + timedelta(hours=9), rating=4, reopen_count=1)
    c = rm.counters(r)
    assert c["n"] == c["st_closed"] == c["accepted"] == c["responded"] == c["on_time"] == c["resolved"] == 1
    assert c["resolved_first_time"] == 0 and c["reopened"] == 1 and c["resolved_in_time"] == 0
    assert c["rated"] == c["satisfied"] == 1 and c["resolve_n"] == 1 and c["resolve_ms"] == 36_000_000


def test_a_report_counts_as_overdue_while_its_current_deadline_is_the_announced_one():
    respond_by, resolve_by = T0 + timedelta(hours=24), T0 + timedelta(days=7)

    def overdue(**kw):
        c = rm.counters(_report(respond_by=respond_by, resolve_by=resolve_by, **kw))
        return c["overdue"], c["late_waiting"]

    assert overdue(overdue_notified_for=None) == (0, 0)  # not announced: read live
    assert overdue(overdue_notified_for=respond_by) == (1, 1)  # submitted, unanswered, announced
    # reopened to intake after an answer: overdue, but not waiting for its first answer
    assert overdue(overdue_notified_for=respond_by, responded_at=T0) == (1, 0)
    # accepted: its deadline is resolve_by now, the respond_by announced before no longer counts
    assert overdue(state="accepted", overdue_notified_for=respond_by, responded_at=T0) == (0, 0)
    for state in ("accepted", "dispatched", "in_progress"):
        assert overdue(state=state, overdue_notified_for=resolve_by, responded_at=T0) == (1, 0), state
    # closed (no deadline) or an extended deadline: out, whatever was announced
    for state in ("resolved", "closed", "rejected", "withdrawn", "merged"):
        assert overdue(state=state, overdue_notified_for=resolve_by) == (0, 0), state
    assert overdue(state="dispatched", overdue_notified_for=resolve_by - timedelta(days=1)) == (0, 0)
    assert rm.due(_report(state="submitted")) == _report()["respond_by"]
    assert rm.due(_report(state="in_progress", resolve_by=resolve_by)) == resolve_by
    assert rm.due(_report(state="resolved", resolve_by=resolve_by)) is None


def test_an_announcement_adds_to_overdue_and_the_step_answering_it_takes_it_away():
    respond_by = T0 + timedelta(hours=24)
    waiting = _report(respond_by=respond_by)
    announced = {**waiting, "overdue_notified_for": respond_by}
    changed, hist = rm.delta(waiting, announced)
    assert hist == [] and len(changed) == len(rm.cells(waiting)) == 7  # no department: no ranking cells
    assert all(v == {**dict.fromkeys(rm.COUNTERS, 0), "overdue": 1, "late_waiting": 1} for _, v in changed)
    accepted = rm.stepped(announced, "accepted", {"accepted_at": T0 + timedelta(hours=30),
                                                  "responded_at": T0 + timedelta(hours=30),
                                                  "resolve_by": T0 + timedelta(days=8)})
    assert accepted["overdue_notified_for"] == respond_by
    by_cell = dict(rm.delta(announced, accepted)[0])
    assert all(v["overdue"] == v["late_waiting"] == -1 for v in by_cell.values())
    # several reports' changes at once: summed per cell, in cell order
    other = {**waiting, "id": waiting["id"] + rm.SLOTS}  # the same cells
    many, _ = rm.delta_many([(waiting, announced), ({**other}, {**other, "overdue_notified_for": respond_by})])
    assert [c for c, _ in many] == sorted(c for c, _ in many) and all(v["overdue"] == 2 for _, v in many)


def test_segments_cover_every_day_once():
    rng = random.Random(3)
    for _ in range(300):
        first = date(2025, 1, 1) + timedelta(days=rng.randint(0, 700))
        last = first + timedelta(days=rng.randint(0, 800))
        covered: list[date] = []
        for grain, lo, hi in rm.segments(first, last):
            d = lo
            while d < hi:
                covered.append(d)
                if grain == rm.MONTH:
                    assert d.day == 1 and rm.next_month(d) <= last
                    end = rm.next_month(d)
                    covered.extend(d + timedelta(days=i) for i in range(1, (end - d).days))
                    d = end
                else:
                    d += timedelta(days=1)
        assert covered == [first + timedelta(days=i) for i in range((last - first).days)]


def test_a_period_splits_into_whole_days_and_partial_slices():
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 11:00 in China, 12-04
    midnight = rm.day_start(date(2026, 11, 4))
    # 30 days up to now from a China midnight: every day whole, today included (up to now)
    assert rm.whole_days(midnight, now, now) == (date(2026, 11, 4), date(2026, 12, 5), [])
    # starting mid-day: that day is a slice
    start = midnight + timedelta(hours=5)
    assert rm.whole_days(start, now, now) == (date(2026, 11, 5), date(2026, 12, 5),
                                              [(start, rm.day_start(date(2026, 11, 5)))])
    # ending mid-day in the past: the last day is a slice
    end = rm.day_start(date(2026, 11, 20)) + timedelta(hours=3)
    assert rm.whole_days(midnight, end, now) == (date(2026, 11, 4), date(2026, 11, 20),
                                                 [(rm.day_start(date(2026, 11, 20)), end)])
    # within one day: all of it is a slice
    assert rm.whole_days(start, start + timedelta(hours=2), now) == (date(2026, 11, 5), date(2026, 11, 5),
                                                                   [(start, start + timedelta(hours=2))])


def test_a_partial_day_is_read_from_its_shorter_side():
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 11:00 in China, 12-04
    day = date(2026, 11, 4)
    # 5 hours into the first day: 19 hours of its reports are in the period, 5 are not: the cell minus those 5
    start = rm.day_start(day) + timedelta(hours=5)
    assert rm.read_plan(start, now, now) == (day, date(2026, 12, 5), [], [(rm.day_start(day), start, -1)])
    # 20 hours in: the 4 hours inside are read as they are
    start = rm.day_start(day) + timedelta(hours=20)
    assert rm.read_plan(start, now, now) == (date(2026, 11, 5), date(2026, 12, 5), [],
                                             [(start, rm.day_start(date(2026, 11, 5)), 1)])
    # a last day in the past, 21 hours of it inside: the next midnight's cell minus 3 hours after the end
    end = rm.day_start(date(2026, 11, 20)) + timedelta(hours=21)
    assert rm.read_plan(rm.day_start(day), end, now) == (day, date(2026, 11, 21), [],
                                                         [(end, rm.day_start(date(2026, 11, 21)), -1)])
    # the same hours of today: today's reports are never taken away (its cell grows while a read runs)
    end = rm.day_start(date(2026, 12, 4)) + timedelta(hours=2)
    assert rm.read_plan(rm.day_start(day), end, now) == (day, date(2026, 12, 4), [],
                                                         [(rm.day_start(date(2026, 12, 4)), end, 1)])
    # within one day: as whole_days
    assert rm.read_plan(start, start + timedelta(hours=1), now).slices == [(start, start + timedelta(hours=1), 1)]


def test_one_snapshot_reads_today_as_its_cell_minus_the_reports_since_the_end():
    now = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 22:00 in China, 12-04
    today, day = date(2026, 12, 4), date(2026, 11, 4)
    tomorrow = rm.day_start(date(2026, 12, 5))
    end = now - timedelta(seconds=1)  # a client's `to`: a moment ago
    for hours in (False, True):
        # today's cell (so the current month's, as it is) minus the reports since the end
        assert rm.read_plan(rm.day_start(day), end, now, hours, snapshot=True) == (
            day, date(2026, 12, 5), [], [(end, tomorrow, -1)])
    # 50 minutes ago: still, with hours (at most an hour of reports) and without
    end = now - timedelta(minutes=50)
    assert rm.read_plan(rm.day_start(day), end, now, True, snapshot=True).slices == [(end, tomorrow, -1)]
    # 70 minutes ago: today's hours (and the reports of the hour the end is in) with hours, the cell without
    end = now - timedelta(minutes=70)
    assert rm.read_plan(rm.day_start(day), end, now, True, snapshot=True) == (
        day, today, [(today, 0, 20, 1)], [(rm.day_start(today) + timedelta(hours=20), end, 1)])
    assert rm.read_plan(rm.day_start(day), end, now, snapshot=True).slices == [(end, tomorrow, -1)]
    # the end early in the day: its part is the shorter one, read as it is
    early = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 01:00 in China
    assert rm.read_plan(rm.day_start(day), early, now, snapshot=True) == (
        day, today, [], [(rm.day_start(today), early, 1)])
    # without one snapshot, never taken away
    assert rm.read_plan(rm.day_start(day), now - timedelta(seconds=1), now).slices == [
        (rm.day_start(today), now - timedelta(seconds=1), 1)]


def test_with_hours_a_partial_day_is_read_from_its_hour_cells_and_half_an_hour_of_reports():
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 11:00 in China, 12-04
    day = date(2026, 11, 4)
    d0 = rm.day_start(day)
    # 08:10 of the first day: hours 8..24 are 16, hours 0..8 fewer: the day's cell minus hours 0..8, minus the
    # reports of 08:00-08:10 (in those hours' place, they are outside the period)
    start = d0 + timedelta(hours=8, minutes=10)
    assert rm.read_plan(start, now, now, hours=True) == (
        day, date(2026, 12, 5), [(day, 0, 8, -1)], [(d0 + timedelta(hours=8), start, -1)])
    # 15:40: hours 16..24 added, and the reports of 15:40-16:00
    start = d0 + timedelta(hours=15, minutes=40)
    assert rm.read_plan(start, now, now, hours=True) == (
        date(2026, 11, 5), date(2026, 12, 5), [(day, 16, 24, 1)], [(start, d0 + timedelta(hours=16), 1)])
    # on the hour: no reports at all
    start = d0 + timedelta(hours=3)
    assert rm.read_plan(start, now, now, hours=True) == (day, date(2026, 12, 5), [(day, 0, 3, -1)], [])
    # a last day in the past, to 21:20: the next midnight's cell minus hours 21..24, plus 21:00-21:20's reports
    last = date(2026, 11, 20)
    end = rm.day_start(last) + timedelta(hours=21, minutes=20)
    assert rm.read_plan(d0, end, now, hours=True) == (
        day, date(2026, 11, 21), [(last, 21, 24, -1)], [(rm.day_start(last) + timedelta(hours=21), end, 1)])
    # to 02:50: hours 0..3 minus 02:50-03:00
    end = rm.day_start(last) + timedelta(hours=2, minutes=50)
    assert rm.read_plan(d0, end, now, hours=True) == (
        day, last, [(last, 0, 3, 1)], [(end, rm.day_start(last) + timedelta(hours=3), -1)])
    # today, to 02:50 (a client's `to` a moment before now): hours 0..2 and the reports of 02:00-02:50, both added
    today = date(2026, 12, 4)
    end = rm.day_start(today) + timedelta(hours=2, minutes=50)
    assert rm.read_plan(d0, end, now, hours=True) == (day, today, [(today, 0, 2, 1)],
                                                      [(rm.day_start(today) + timedelta(hours=2), end, 1)])
    # to 10:59 (now is 11:00): never today's cell minus the reports after the end
    end = now - timedelta(minutes=1)
    assert rm.read_plan(d0, end, now, hours=True) == (day, today, [(today, 0, 10, 1)],
                                                      [(rm.day_start(today) + timedelta(hours=10), end, 1)])


def test_a_read_plan_counts_every_moment_of_the_period_once():
    rng = random.Random(7)
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    for _ in range(500):
        start = now - timedelta(minutes=rng.randint(1, 60 * 24 * 40))
        end = start + timedelta(minutes=rng.randint(1, 60 * 24 * 40))
        for hours in (False, True):
            first, last, by_hour, slices = rm.read_plan(start, end, now, hours)
            assert hours or not by_hour
            assert len(slices) <= 2 and len(by_hour) <= 2
            if hours and first < last:  # at most half an hour of a partial day's reports before today, an hour today
                assert all(hi - lo <= timedelta(minutes=30 if rm.china_day(lo) < rm.china_day(now) else 60)
                           for lo, hi, _ in slices), (start, end, slices)
                assert all(sign == 1 for lo, hi, sign in slices if rm.china_day(lo) == rm.china_day(now))
                assert all(sign == 1 for d, lo, hi, sign in by_hour if d == rm.china_day(now))
            # probe moments: inside the period count once, outside zero times (cells of [first, last), signed
            # hour cells, signed slices)
            for _ in range(30):
                t = start + (end - start) * rng.uniform(-0.5, 1.5)
                if t >= now:
                    continue
                day, hour = rm.china_day(t), t.astimezone(rm.CHINA).hour
                count = int(first <= day < last) + sum(sign for lo, hi, sign in slices if lo <= t < hi) \
                    + sum(sign for d, lo, hi, sign in by_hour if d == day and lo <= hour < hi)
                assert count == int(start <= t < end), (start, end, t, hours)


def test_the_percentile_bucket_is_the_nearest_ranks():
    hist = {3: 2, 7: 1, 9: 7}
    assert [rm.percentile_bucket(hist, p) for p in (1, 20, 21, 30, 31, 50, 90, 100)] == [3, 3, 7, 7, 9, 9, 9, 9]
    assert rm.percentile_bucket({}, 50) is None and rm.percentile(hist, 50) == rm.bucket_value(9)
