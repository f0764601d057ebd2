"""GET /api/v1/stats/figures against the hand-computed March fixture (tests/stats/conftest.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.reports.queries import is_overdue
from app.stats.rollup_math import MAX_RELATIVE_ERROR
from tests.helpers import assert_error
from tests.stats.conftest import HOUR, MARCH
from tests.stats.factories import FAR, put_report

URL = "/api/v1/stats/figures"
ALL_STATES = ("submitted", "accepted", "rejected", "withdrawn", "dispatched", "in_progress", "resolved", "closed",
              "merged")


async def _figures(client, world, who="admin_c1", **params):
    resp = await client.get(URL, headers=world.headers(who), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _near(got: float, want: float) -> bool:
    """A histogram percentile against the exact one: within the documented relative error."""
    return abs(got - want) / want <= MAX_RELATIVE_ERROR


@pytest.mark.parametrize("exact", [True, False])
async def test_march_for_community_one_by_hand(client, world, march, exact):
    f = await _figures(client, world, **MARCH, exact=exact)
    assert f["method"] == ("exact" if exact else "rollup")
    assert f["period"] == {"from": "2026-02-28T16:00:00Z", "to": "2026-03-31T16:00:00Z"}
    assert f["filters"] == {"department_id": None, "grid_id": None, "category_id": None}
    # R11 (at `from`) and R14 (last minute) are in; R12 (a second before `from`), R13 (at `to`), R15 (c2) are not
    assert f["states"] == {"submitted": 2, "accepted": 0, "rejected": 2, "withdrawn": 3, "dispatched": 1,
                           "in_progress": 1, "resolved": 1, "closed": 4, "merged": 0}
    assert f["counts"] == {"submitted": 14, "accepted": 7, "resolved": 5, "reopened": 1, "overdue_now": 2,
                           "auto_closed": 1, "rated": 3, "resolved_in_time": 5}
    # due: 9 responded (R1 R2 R3 R4 R7 R8 R9 R16 R17) + R5 waiting past its deadline; R6 is not due yet.
    # on time: R1 R2 (at the deadline exactly) R7 R8 R9 R16 R17; late: R3 (rejected after it), R4, and R5.
    assert f["response"] == {"due": 10, "on_time": 7}
    assert f["response_rate"] == 0.7
    # accepted: R1 R4 R7 R8 R9 R16 R17; first time: R1 R8 R9 R16 (R4 was reopened, R7 R17 are not resolved)
    assert f["resolution"] == {"accepted": 7, "resolved_first_time": 4}
    assert f["resolution_rate"] == 4 / 7
    # rated: R1 (5), R4 (4), R9 (3); R8 was closed automatically and is not rated
    assert f["satisfaction"] == {"rated": 3, "satisfied": 2}
    assert f["satisfaction_rate"] == 2 / 3
    # accept: 1 1 2 3 4 5 25 hours (n=7): median rank ceil(3.5)=4 -> 3 h, p90 rank ceil(6.3)=7 -> 25 h
    acc = f["time_to_accept_seconds"]
    assert acc["count"] == 7 and acc["mean"] == pytest.approx(41 * HOUR / 7, abs=0.001)
    # resolve: 5 6 10 20 50 hours (n=5): median rank 3 -> 10 h, p90 rank ceil(4.5)=5 -> 50 h, mean 18.2 h
    res = f["time_to_resolve_seconds"]
    assert res["count"] == 5 and res["mean"] == 18.2 * HOUR
    if exact:
        assert acc["median"] == 3 * HOUR and acc["p90"] == 25 * HOUR
        assert res["median"] == 10 * HOUR and res["p90"] == 50 * HOUR
    else:  # histogram percentiles: near, not equal
        assert _near(acc["median"], 3 * HOUR) and _near(acc["p90"], 25 * HOUR) and acc["median"] != 3 * HOUR
        assert _near(res["median"], 10 * HOUR) and _near(res["p90"], 50 * HOUR)


async def test_the_street_admin_also_sees_community_two(client, world, march):
    f = await _figures(client, world, "admin_street", **MARCH)
    assert f["counts"]["submitted"] == 15 and f["states"]["closed"] == 5
    assert f["response"] == {"due": 11, "on_time": 8} and f["response_rate"] == 8 / 11
    assert f["resolution"] == {"accepted": 8, "resolved_first_time": 5}
    assert f["satisfaction"] == {"rated": 4, "satisfied": 3} and f["satisfaction_rate"] == 0.75
    # accept: 1 1 1 2 3 4 5 25 (n=8): median rank 4 -> 2 h, p90 rank ceil(7.2)=8 -> 25 h
    assert _near(f["time_to_accept_seconds"]["median"], 2 * HOUR) and _near(f["time_to_accept_seconds"]["p90"],
                                                                             25 * HOUR)
    exact = await _figures(client, world, "admin_street", **MARCH, exact=True)
    assert exact["time_to_accept_seconds"]["median"] == 2 * HOUR and exact["time_to_accept_seconds"]["p90"] == 25 * HOUR
    c2 = await _figures(client, world, "admin_c2", **MARCH)
    assert c2["counts"]["submitted"] == 1 and c2["satisfaction_rate"] == 1.0


async def test_no_reports_gives_zero_counts_and_null_rates(client, world, march):
    f = await _figures(client, world, **{"from": "2025-01-01T00:00:00+08:00", "to": "2025-02-01T00:00:00+08:00"})
    assert f["states"] == dict.fromkeys(ALL_STATES, 0)
    assert set(f["counts"].values()) == {0}
    assert f["response_rate"] is None and f["resolution_rate"] is None and f["satisfaction_rate"] is None
    assert f["response"] == {"due": 0, "on_time": 0}
    empty = {"count": 0, "mean": None, "median": None, "p90": None}
    assert f["time_to_accept_seconds"] == empty and f["time_to_resolve_seconds"] == empty


async def test_none_rated_and_rejected_after_the_deadline(client, world, march):
    """Category cat2 holds only R3: rejected 30 h after submission, 6 h late."""
    f = await _figures(client, world, category_id=march["cat2"].id, **MARCH)
    assert f["counts"]["submitted"] == 1 and f["states"]["rejected"] == 1
    assert f["response"] == {"due": 1, "on_time": 0} and f["response_rate"] == 0.0
    assert f["satisfaction_rate"] is None and f["counts"]["rated"] == 0
    assert f["resolution_rate"] is None
    assert f["time_to_accept_seconds"]["count"] == 0 and f["time_to_accept_seconds"]["median"] is None


async def test_rejected_within_the_deadline_is_on_time(client, world, march):
    """China day 03-02 holds only R2, rejected exactly at its deadline (responded_at = respond_by)."""
    f = await _figures(client, world, **{"from": "2026-03-02T00:00:00+08:00", "to": "2026-03-03T00:00:00+08:00"})
    assert f["counts"]["submitted"] == 1 and f["states"]["rejected"] == 1
    assert f["response"] == {"due": 1, "on_time": 1} and f["response_rate"] == 1.0


async def test_overdue_now_counts_intake_and_handling_past_their_deadlines(client, world, march):
    # R5 (waiting past respond_by) is overdue, R6 (respond_by FAR) is not
    f = await _figures(client, world, **{"from": "2026-03-06T00:00:00Z", "to": "2026-03-08T00:00:00Z"})
    assert f["states"]["submitted"] == 2 and f["counts"]["overdue_now"] == 1
    # R7, in progress past resolve_by; R17, dispatched with resolve_by FAR, is not
    f = await _figures(client, world, **{"from": "2026-03-08T00:00:00Z", "to": "2026-03-09T00:00:00Z"})
    assert f["counts"]["overdue_now"] == 1
    f = await _figures(client, world, **{"from": "2026-03-13T00:00:00Z", "to": "2026-03-14T00:00:00Z"})
    assert f["states"]["dispatched"] == 1 and f["counts"]["overdue_now"] == 0


async def test_department_filter(client, world, march):
    # d1 handles R1 R4 R7 R8 R9 R16 R17 in c1 in March; all responded, R4 late
    f = await _figures(client, world, department_id=world.d1.id, **MARCH)
    assert f["counts"]["submitted"] == 7 and f["response_rate"] == 6 / 7
    assert f["filters"]["department_id"] == world.d1.id
    f = await _figures(client, world, department_id=world.d2.id, **MARCH)
    assert f["counts"]["submitted"] == 0
    assert_error(await client.get(URL, headers=world.headers("admin_c1"),
                                  params={"department_id": 987654, **MARCH}), 404)
    assert_error(await client.get(URL, headers=world.headers("admin_c1"),
                                  params={"category_id": 987654, **MARCH}), 404)


async def test_grid_filter_inside_and_outside_the_scope(client, world, march):
    assert (await _figures(client, world, grid_id=world.g1.id, **MARCH))["counts"]["submitted"] == 14
    assert (await _figures(client, world, grid_id=world.c1.id, **MARCH))["counts"]["submitted"] == 14
    assert (await _figures(client, world, grid_id=world.b2.id, **MARCH))["counts"]["submitted"] == 0
    street = await _figures(client, world, "admin_street", grid_id=world.c2.id, **MARCH)
    assert street["counts"]["submitted"] == 1 and street["filters"]["grid_id"] == world.c2.id
    h = world.headers("admin_c1")
    for outside in (world.c2.id, world.g2.id, world.b3.id, world.street.id, 987654):
        assert_error(await client.get(URL, headers=h, params={"grid_id": outside, **MARCH}), 404)


async def test_percentiles_by_nearest_rank(app, client, world):
    """May: ten reports accepted after 1..10 hours; seven of them resolved after 10..70 hours."""
    for k in range(1, 11):
        await put_report(app, world, created=f"2026-05-{k:02d}T02:00:00Z", state="closed" if k <= 7 else "accepted",
                         accepted=k, resolved=10 * k if k <= 7 else None, closed=10 * k + 1 if k <= 7 else None)
    may = {"from": "2026-05-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"}
    rolled = await _figures(client, world, **may)
    f = await _figures(client, world, **may, exact=True)
    assert (rolled["method"], f["method"]) == ("rollup", "exact")
    for kind in ("time_to_accept_seconds", "time_to_resolve_seconds"):
        assert rolled[kind]["count"] == f[kind]["count"] and rolled[kind]["mean"] == f[kind]["mean"]
        assert _near(rolled[kind]["median"], f[kind]["median"]) and _near(rolled[kind]["p90"], f[kind]["p90"])
    # 1..10: median rank ceil(5)=5 -> 5 h, p90 rank ceil(9)=9 -> 9 h, mean 5.5 h
    assert f["time_to_accept_seconds"] == {"count": 10, "mean": 5.5 * HOUR, "median": 5 * HOUR, "p90": 9 * HOUR}
    # 10..70: median rank ceil(3.5)=4 -> 40 h, p90 rank ceil(6.3)=7 -> 70 h, mean 40 h
    assert f["time_to_resolve_seconds"] == {"count": 7, "mean": 40 * HOUR, "median": 40 * HOUR, "p90": 70 * HOUR}
    # one value: it is the median and the p90
    one = await _figures(client, world, **{"from": "2026-05-03T00:00:00Z", "to": "2026-05-04T00:00:00Z"}, exact=True)
    assert one["time_to_accept_seconds"] == {"count": 1, "mean": 3 * HOUR, "median": 3 * HOUR, "p90": 3 * HOUR}


async def test_period_rules(client, world):
    h = world.headers("admin_c1")
    resp = await client.get(URL, headers=h)
    assert resp.status_code == 200, resp.text
    period = resp.json()["period"]
    start, end = (datetime.fromisoformat(period[k]) for k in ("from", "to"))
    assert end - start == timedelta(days=30) and abs(datetime.now(UTC) - end) < timedelta(minutes=1)
    only_from = (await client.get(URL, headers=h, params={"from": "2026-03-01T00:00:00+08:00"})).json()["period"]
    assert only_from == {"from": "2026-02-28T16:00:00Z", "to": "2026-03-30T16:00:00Z"}
    only_to = (await client.get(URL, headers=h, params={"to": "2026-03-31T00:00:00Z"})).json()["period"]
    assert only_to == {"from": "2026-03-01T00:00:00Z", "to": "2026-03-31T00:00:00Z"}
    ok = {"from": "2025-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}  # 366 days
    assert (await client.get(URL, headers=h, params=ok)).status_code == 200
    for bad in ({"from": "2025-03-01T00:00:00Z", "to": "2026-03-02T00:00:01Z"},     # longer than 366 days
                {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},     # empty
                {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},     # backwards
                {"from": "1999-12-31T00:00:00Z", "to": "2000-01-02T00:00:00Z"},     # before 2000
                {"to": "0001-01-01T00:00:00Z"}, {"from": "9999-12-31T23:59:59-12:00"}):
        assert_error(await client.get(URL, headers=h, params=bad), 422, "invalid_period")
    assert_error(await client.get(URL, headers=h, params={"from": "2026-03-01T00:00:00"}), 422)  # naive
    assert_error(await client.get(URL, headers=h, params={"from": "yesterday"}), 422)


async def test_admins_of_one_shape_share_a_statement_and_get_their_own_scope(client, world, march):
    """The two community admins' figures come from one statement built for their shape, bound per request."""
    seen = [(await _figures(client, world, who, **MARCH))["counts"]["submitted"]
            for who in ("admin_c1", "admin_c2", "admin_c1", "admin_c2")]
    assert seen == [14, 1, 14, 1]


async def test_counts_agree_with_the_per_report_definitions(app, client, world):
    """The figures are added up from per-state counts in SQL; here each report is judged on its own, in Python,
    by the documented definitions, over random reports of June (every state, deadlines past and future, reports
    sent back to intake that keep responded_at), and the sums must agree."""
    rng = random.Random(20260602)
    expected = dict.fromkeys(("submitted", "accepted", "resolved", "reopened", "overdue_now", "auto_closed", "rated",
                              "due", "on_time", "resolved_first_time", "satisfied", "resolved_in_time"), 0)
    states = dict.fromkeys(ALL_STATES, 0)
    now = datetime.now(UTC)
    for i in range(80):
        state = rng.choice(ALL_STATES)
        created = datetime(2026, 6, 1 + i % 28, 3, tzinfo=UTC)
        accepted = rng.choice((None, 2.0, 30.0))
        responded = accepted if accepted is not None else rng.choice((None, None, 5.0, 40.0))
        respond_by = rng.choice((None, FAR))  # None: created + 24 h, long past
        resolve_by = rng.choice((None, FAR)) if accepted is not None else None
        rating = rng.choice((None, 1, 3, 4, 5)) if state in ("resolved", "closed") else None
        reopen_count = rng.choice((0, 0, 1))
        r = await put_report(app, world, created=created.isoformat(), state=state, accepted=accepted,
                             responded=responded, respond_by=respond_by, resolve_by=resolve_by, rating=rating,
                             reopen_count=reopen_count, auto_closed=state == "closed" and rating is None)
        responded_at = r.responded_at
        done = state in ("resolved", "closed")
        states[state] += 1
        expected["submitted"] += 1
        expected["accepted"] += r.accepted_at is not None
        expected["resolved"] += done
        expected["reopened"] += reopen_count > 0
        expected["overdue_now"] += is_overdue(state, r.respond_by, r.resolve_by, now)
        expected["auto_closed"] += r.auto_closed
        expected["rated"] += rating is not None
        expected["satisfied"] += rating is not None and rating >= 4
        expected["due"] += responded_at is not None or (state == "submitted" and r.respond_by < now)
        expected["on_time"] += responded_at is not None and responded_at <= r.respond_by
        expected["resolved_first_time"] += r.accepted_at is not None and done and reopen_count == 0
        expected["resolved_in_time"] += done and r.resolved_at is not None and r.resolve_by is not None \
            and r.resolved_at <= r.resolve_by
    for exact in (False, True):
        f = await _figures(client, world, **{"from": "2026-06-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"},
                           exact=exact)
        assert f["states"] == states
        got = {**f["counts"], **f["response"], **f["resolution"], **f["satisfaction"]}
        assert got == expected
    assert 0 < expected["due"] < 80 and 0 < expected["overdue_now"] < 80  # the sample has both kinds
