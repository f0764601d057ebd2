"""Steps through HTTP: illegal steps are 409 and change nothing; forbidden actors get 403/404; concurrent steps
have exactly one winner and one event."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.reports.lifecycle import STEP_BY_ACTION, TRANSITIONS, Action, State
from app.reports.models import ReportEvent
from tests.helpers import assert_error
from tests.reports.factories import PATHS, make_report

# a permitted actor per action, so only the state decides
ACTOR = {Action.accept: "worker_in", Action.reject: "worker_in", Action.withdraw: "resident_a",
         Action.dispatch: "worker_in", Action.return_: "dept_in", Action.start: "dept_in", Action.resolve: "dept_in",
         Action.merge: "worker_in", Action.escalate: "worker_in", Action.supervise: "admin_c1",
         Action.request_extension: "dept_in", Action.extend: "admin_c1", Action.hide: "admin_c1",
         Action.unhide: "admin_c1", Action.hide_photo: "admin_c1", Action.rate: "resident_a",
         Action.reopen: "admin_c1", Action.auto_close: "admin_c1"}


def _fields(action: Action, world, other_id: int) -> dict:
    f = {"note": "理由"} if "note" in STEP_BY_ACTION[action].needs else {}
    if action is Action.dispatch:
        f["department_id"] = world.d1.id
    if action is Action.merge:
        f["target_report_id"] = other_id
    if action in (Action.extend, Action.request_extension):
        f["resolve_by"] = "2099-01-01T00:00:00+08:00"
    if action is Action.hide_photo:
        f["photo_id"] = 1
    if action is Action.rate:
        f["stars"] = 1
    return f


async def _events(app, report_id: int) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(ReportEvent)
                                .where(ReportEvent.report_id == report_id))).scalar_one()


@pytest.mark.parametrize("state", list(PATHS))
async def test_every_illegal_step_from_every_state_is_409_and_changes_nothing(client, app, world, state):
    report = await make_report(app, world, state=state)
    other = await make_report(app, world, reporter="resident_b")
    before = await _events(app, report.id)
    # the department that is not the handler cannot see dispatched-away reports; use the real handler
    for action in Action:
        if (State(state), action) in TRANSITIONS:
            continue
        resp = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers(ACTOR[action]),
                                 json={"action": action.value, "expected_version": report.version,
                                       **_fields(action, world, other.id)})
        # a department sees only what is dispatched to it: before dispatch, its steps are 404 (hidden);
        # auto_close is the worker's alone: 403 for everyone, in every state
        expected = {409, 404} if ACTOR[action] == "dept_in" else {403} if action is Action.auto_close else {409}
        assert resp.status_code in expected, (state, action, resp.text)
        assert_error(resp, resp.status_code)
    detail = (await client.get(f"/api/v1/reports/{report.id}", headers=world.headers("admin_c1"))).json()
    assert detail["version"] == report.version and detail["state"] == state
    assert await _events(app, report.id) == before


async def test_private_report_is_invisible_to_other_residents_and_outsiders(client, app, world):
    report = await make_report(app, world, state="dispatched", is_public=False)
    for who in ("resident_b", "resident_c", "worker_out", "dept_out", "admin_c2"):
        h = world.headers(who)
        assert_error(await client.get(f"/api/v1/reports/{report.id}", headers=h), 404, "not_found")
        assert_error(await client.get(f"/api/v1/reports/{report.id}/timeline", headers=h), 404)
        assert_error(await client.post(f"/api/v1/reports/{report.id}/steps", headers=h,
                                       json={"action": "start", "expected_version": report.version}), 404)
    for who in ("resident_a", "worker_in", "dept_in", "admin_c1", "admin_street"):
        assert (await client.get(f"/api/v1/reports/{report.id}", headers=world.headers(who))).status_code == 200


async def test_public_report_is_seen_by_the_community_but_not_acted_on(client, app, world):
    report = await make_report(app, world, state="submitted", is_public=True)
    neighbour = world.headers("resident_b")
    assert (await client.get(f"/api/v1/reports/{report.id}", headers=neighbour)).status_code == 200
    assert_error(await client.post(f"/api/v1/reports/{report.id}/steps", headers=neighbour,
                                   json={"action": "accept", "expected_version": 1}), 403, "forbidden")
    assert_error(await client.post(f"/api/v1/reports/{report.id}/steps", headers=neighbour,
                                   json={"action": "withdraw", "expected_version": 1}), 403)
    # another community does not see it at all
    assert_error(await client.get(f"/api/v1/reports/{report.id}", headers=world.headers("resident_c")), 404)


async def test_department_not_assigned_and_other_grid_worker_are_refused(client, app, world):
    report = await make_report(app, world, state="dispatched")
    for who, action in (("dept_out", "start"), ("worker_out", "accept"), ("admin_c2", "supervise")):
        assert_error(await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers(who),
                                       json={"action": action, "expected_version": report.version}), 404)
    # the grid's worker sees it but cannot start the department's work
    assert_error(await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("worker_in"),
                                   json={"action": "start", "expected_version": report.version}), 403)


async def test_department_return_sends_it_back_for_redispatch(client, app, world):
    report = await make_report(app, world, state="dispatched")
    resp = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("dept_in"),
                             json={"action": "return", "expected_version": report.version})
    assert_error(resp, 422)  # a reason is needed
    resp = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("dept_in"),
                             json={"action": "return", "expected_version": report.version, "note": "非本部门职责"})
    assert resp.status_code == 200 and resp.json()["state"] == "accepted"
    assert resp.json()["handler_department_id"] is None
    # no longer theirs: hidden from the department now
    assert_error(await client.get(f"/api/v1/reports/{report.id}", headers=world.headers("dept_in")), 404)


async def test_step_fields_are_checked(client, app, world):
    report = await make_report(app, world, state="accepted")
    h = world.headers("worker_in")
    url = f"/api/v1/reports/{report.id}/steps"
    for body in ({"action": "dispatch", "expected_version": report.version},                    # no target
                 {"action": "dispatch", "expected_version": report.version, "department_id": 10**9},
                 {"action": "dispatch", "expected_version": report.version, "department_id": world.d2.id},
                 {"action": "escalate", "expected_version": report.version, "note": "x",
                  "department_id": world.d1.id},
                 {"action": "fly", "expected_version": report.version},
                 {"action": "dispatch", "expected_version": report.version, "state": "resolved"},
                 {"action": "dispatch", "expected_version": report.version, "handler_user_id":
                  world.users["worker_out"].id}):
        assert_error(await client.post(url, headers=h, json=body), 422)
    assert_error(await client.post(url, headers=h, json={"action": "dispatch", "expected_version": 99,
                                                         "department_id": world.d1.id}), 409, "stale_version")
    # a grid worker may keep it (网格员自办)
    resp = await client.post(url, headers=h, json={"action": "dispatch", "expected_version": report.version,
                                                   "handler_user_id": world.users["worker_in"].id})
    assert resp.status_code == 200 and resp.json()["handler_user_id"] == world.users["worker_in"].id


async def test_concurrent_steps_have_exactly_one_winner_and_one_event(client, app, world):
    report = await make_report(app, world, state="submitted")
    headers = [world.headers("worker_in"), world.headers("admin_c1"), world.headers("admin_street")] * 2
    results = await asyncio.gather(*[
        client.post(f"/api/v1/reports/{report.id}/steps", headers=h,
                    json={"action": "accept", "expected_version": report.version}) for h in headers])
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(409) == len(headers) - 1, [r.text for r in results]
    async with app.state.db.session(write=False) as s:
        accepts = (await s.execute(select(func.count()).select_from(ReportEvent).where(
            ReportEvent.report_id == report.id, ReportEvent.action == "accept"))).scalar_one()
    assert accepts == 1


async def test_concurrent_different_steps_one_wins(client, app, world):
    """Withdraw by the reporter races accept by the grid worker: exactly one lands."""
    report = await make_report(app, world, state="submitted")
    url = f"/api/v1/reports/{report.id}/steps"
    a, b = await asyncio.gather(
        client.post(url, headers=world.headers("resident_a"), json={"action": "withdraw", "expected_version": 1}),
        client.post(url, headers=world.headers("worker_in"), json={"action": "accept", "expected_version": 1}))
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    assert await _events(app, report.id) == 2  # submit + the winner


# ---- optimistic concurrency first (issue 13, item 10) ------------------------------------------------------


# The same step twice with one version: the second must hear it lost a race, not that the step is invalid now.
SAME_STEP_TWICE = pytest.mark.parametrize(("state", "who", "body"), [
    ("submitted", "worker_in", {"action": "accept"}),
    ("resolved", "resident_a", {"action": "rate", "stars": 5}),
])


@SAME_STEP_TWICE
async def test_a_repeated_step_with_the_old_version_is_stale_not_invalid(client, app, world, state, who, body):
    report = await make_report(app, world, state=state)
    url = f"/api/v1/reports/{report.id}/steps"
    first = await client.post(url, headers=world.headers(who), json={**body, "expected_version": report.version})
    assert first.status_code == 200, first.text
    again = await client.post(url, headers=world.headers(who), json={**body, "expected_version": report.version})
    assert_error(again, 409, "stale_version")
    assert again.json()["error"]["details"] == {"current_version": first.json()["version"],
                                                "state": first.json()["state"]}


async def test_a_stale_version_beats_a_forbidden_role(client, app, world):
    """The version is checked right after visibility: a stale caller learns it lost a race, whoever it is."""
    report = await make_report(app, world, state="submitted")
    resp = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("resident_b"),
                             json={"action": "accept", "expected_version": report.version + 5})
    assert_error(resp, 409, "stale_version")


@SAME_STEP_TWICE
async def test_concurrent_same_steps_lose_with_stale_version(client, app, world, state, who, body):
    report = await make_report(app, world, state=state)
    url = f"/api/v1/reports/{report.id}/steps"
    results = await asyncio.gather(*[
        client.post(url, headers=world.headers(who), json={**body, "expected_version": report.version})
        for _ in range(4)])
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"stale_version"}
