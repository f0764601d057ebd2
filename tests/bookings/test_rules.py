"""The pure rules: booking window, cancellation deadline, eligibility, no-show block, timetable, errand steps."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.bookings import errands, rules, timetable
from app.bookings.errands import ErrandAction
from app.bookings.errors import BookingBlocked, CancelDeadlinePassed, NotEligible, WindowClosed
from app.bookings.states import BookingStatus as S
from app.bookings.states import ServiceStatus
from app.core.errors import InvalidInput

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _rules(**kw) -> rules.ServiceRules:
    base = dict(status=ServiceStatus.active, opens_days_ahead=7, closes_minutes_before=60, cancel_minutes_before=120,
                max_active_per_resident=1, min_age=None, eligible_grid_ids=None, no_show_limit=2,
                no_show_block_days=14)
    return rules.ServiceRules(**{**base, **kw})


@pytest.mark.parametrize(("starts_in", "ok"), [
    (timedelta(days=7, seconds=1), False),  # opens 7 days ahead: a second too early
    (timedelta(days=7), True),
    (timedelta(minutes=61), True),
    (timedelta(minutes=60), False),  # closes 60 minutes before
    (timedelta(minutes=-5), False),
])
def test_window(starts_in, ok):
    if ok:
        rules.check_window(_rules(), NOW + starts_in, NOW)
    else:
        with pytest.raises(WindowClosed) as e:
            rules.check_window(_rules(), NOW + starts_in, NOW)
        assert e.value.details["opens_at"] == (NOW + starts_in - timedelta(days=7)).isoformat()
        assert e.value.details["closes_at"] == (NOW + starts_in - timedelta(minutes=60)).isoformat()


def test_cancel_deadline():
    rules.check_cancel(_rules(), NOW + timedelta(minutes=121), NOW)
    rules.check_cancel(_rules(), None, NOW)  # errands: no deadline
    with pytest.raises(CancelDeadlinePassed) as e:
        rules.check_cancel(_rules(), NOW + timedelta(minutes=120), NOW)
    assert e.value.details == {"deadline": NOW.isoformat()}


def test_eligibility():
    r = _rules(eligible_grid_ids=(5, 6), min_age=60)
    rules.check_eligible(r, grid_id=5, birth_date=date(1960, 12, 7), today=date(2020, 12, 7))  # 60 today
    for grid, birth, reason in ((7, date(1950, 1, 1), "grid"), (5, date(1960, 12, 8), "min_age"),
                                (6, None, "birth_date_unknown")):
        with pytest.raises(NotEligible) as e:
            rules.check_eligible(r, grid_id=grid, birth_date=birth, today=date(2020, 12, 7))
        assert e.value.details["reason"] == reason
    rules.check_eligible(_rules(), grid_id=None, birth_date=None, today=date(2020, 1, 1))


def test_no_show_block():
    day = timedelta(days=1)
    assert rules.blocked_until([NOW - day], NOW, 2, 14) is None
    assert rules.blocked_until([NOW - 31 * day, NOW - day], NOW, 2, 14) is None  # one of them is too old
    assert rules.blocked_until([NOW - 3 * day, NOW - day], NOW, 2, 14) == NOW + 13 * day
    assert rules.blocked_until([NOW - 20 * day, NOW - 16 * day], NOW, 2, 14) is None  # served already
    assert rules.blocked_until([NOW - day] * 5, NOW, 0, 14) is None  # limit 0: off
    with pytest.raises(BookingBlocked) as e:
        rules.check_not_blocked(_rules(), 2, NOW - day, NOW)
    assert e.value.details == {"until": (NOW + 13 * day).isoformat()}


def test_timetable_thursdays_in_half_hours():
    t = timetable.Timetable(from_date=date(2026, 12, 1), to_date=date(2026, 12, 31), weekdays=frozenset({4}),
                            start=time(14, 0), end=time(17, 0), slot_minutes=30)
    got = list(timetable.slots(t))
    assert len(got) == 5 * 6  # five Thursdays, six half hours each
    first_start, first_end = got[0]
    assert first_start == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 China time
    assert first_end - first_start == timedelta(minutes=30)
    assert got == list(timetable.slots(t))  # a re-run gives the same starts
    assert len(list(timetable.slots(dataclasses.replace(t, slot_minutes=40)))) == 5 * 4  # whole slots only


@pytest.mark.parametrize("bad", [dict(to_date=date(2026, 11, 1)), dict(end=time(13, 0)), dict(weekdays=frozenset({8})),
                                 dict(to_date=date(2028, 1, 1))])
def test_timetable_refuses(bad):
    base = dict(from_date=date(2026, 12, 1), to_date=date(2026, 12, 31), weekdays=frozenset({4}), start=time(14, 0),
                end=time(17, 0), slot_minutes=30)
    with pytest.raises(timetable.TimetableError):
        list(timetable.slots(timetable.Timetable(**{**base, **bad})))


@pytest.mark.parametrize(("status", "action", "to"), [
    (S.booked, ErrandAction.receive, S.received), (S.received, ErrandAction.start, S.processing),
    (S.processing, ErrandAction.finish, S.done), (S.booked, ErrandAction.decline, S.cannot_do),
    (S.processing, ErrandAction.decline, S.cannot_do), (S.received, ErrandAction.note, None),
])
def test_errand_steps(status, action, to):
    assert errands.check_errand_step(action, status, "说明").to == to


@pytest.mark.parametrize(("status", "action"), [
    (S.booked, ErrandAction.start), (S.received, ErrandAction.finish), (S.done, ErrandAction.note),
    (S.cannot_do, ErrandAction.receive), (S.cancelled, ErrandAction.receive), (S.done, ErrandAction.decline),
])
def test_errand_steps_refused_by_status(status, action):
    with pytest.raises(errands.InvalidErrandStep):
        errands.check_errand_step(action, status, "说明")


def test_decline_and_note_need_a_note():
    for action in (ErrandAction.decline, ErrandAction.note):
        with pytest.raises(InvalidInput):
            errands.check_errand_step(action, S.received, None)
