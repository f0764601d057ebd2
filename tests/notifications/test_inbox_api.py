"""The inbox through the HTTP API: a step tells the people concerned, in the step's transaction (issue 14, part)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.notifications.models import Notification
from tests.helpers import assert_error
from tests.reports.factories import make_report

INBOX = "/api/v1/notifications"


async def _count(app) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Notification))).scalar_one()


async def _dispatch(client, world, report):
    return await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("worker_in"), json={
        "action": "dispatch", "expected_version": report.version, "department_id": world.d1.id})


async def test_a_dispatch_tells_the_reporter_and_the_department_not_the_actor(client, app, world):
    report = await make_report(app, world, state="accepted")
    before = await _count(app)
    assert (await _dispatch(client, world, report)).status_code == 200
    mine = (await client.get(INBOX, headers=world.headers("resident_a"))).json()["items"]
    assert mine[0]["type"] == "report.dispatched" and mine[0]["link"] == f"/api/v1/reports/{report.id}"
    assert mine[0]["title"] == "诉求已派单" and world.d1.name in mine[0]["body"]
    dept = (await client.get(INBOX, headers=world.headers("dept_in"))).json()["items"]
    assert [n["type"] for n in dept] == ["report.assigned"]
    assert (await client.get(INBOX, headers=world.headers("worker_in"))).json()["items"] == []
    assert await _count(app) == before + 2
    en = (await client.get(INBOX, headers=world.headers("resident_a", **{"Accept-Language": "en"}))).json()
    assert en["items"][0]["title"] == "Report dispatched"


async def test_a_failed_step_leaves_no_notification(client, app, world, monkeypatch):
    report = await make_report(app, world, state="accepted")
    before = await _count(app)
    stale = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("worker_in"), json={
        "action": "dispatch", "expected_version": report.version + 1, "department_id": world.d1.id})
    assert_error(stale, 409, "stale_version")
    from app.reports import queries

    async def broken(*_a, **_k):  # fails after the step and its notifications were written
        raise RuntimeError("the request fails before commit")

    monkeypatch.setattr(queries, "report_detail", broken)
    assert (await _dispatch(client, world, report)).status_code == 500
    assert await _count(app) == before


async def test_list_unread_count_and_marking_read(client, app, world):
    report = await make_report(app, world, state="accepted")
    await _dispatch(client, world, report)
    h = world.headers("resident_a")
    for action, version_from in (("start", "dept_in"),):
        current = (await client.get(f"/api/v1/reports/{report.id}", headers=h)).json()
        await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers(version_from),
                          json={"action": action, "expected_version": current["version"]})
    assert (await client.get(f"{INBOX}/unread-count", headers=h)).json() == {"unread": 3}
    page = (await client.get(INBOX, headers=h, params={"limit": 2})).json()
    assert [n["type"] for n in page["items"]] == ["report.started", "report.dispatched"] and page["next_cursor"]
    rest = (await client.get(INBOX, headers=h, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [n["type"] for n in rest["items"]] == ["report.accepted"] and rest["next_cursor"] is None
    first = page["items"][0]["id"]
    assert (await client.post(f"{INBOX}/{first}/read", headers=h)).json() == {"marked": 1}
    assert (await client.post(f"{INBOX}/{first}/read", headers=h)).json() == {"marked": 0}
    unread = (await client.get(INBOX, headers=h, params={"unread": True})).json()["items"]
    assert [n["type"] for n in unread] == ["report.dispatched", "report.accepted"]
    assert (await client.post(f"{INBOX}/read-all", headers=h)).json() == {"marked": 2}
    assert (await client.get(f"{INBOX}/unread-count", headers=h)).json() == {"unread": 0}


async def test_nobody_reads_or_marks_another_users_notifications(client, app, world):
    report = await make_report(app, world, state="accepted")
    await _dispatch(client, world, report)
    theirs = (await client.get(INBOX, headers=world.headers("resident_a"))).json()["items"][0]["id"]
    for who in ("resident_b", "admin_street", "dept_in"):
        assert_error(await client.post(f"{INBOX}/{theirs}/read", headers=world.headers(who)), 404, "not_found")
        assert theirs not in [n["id"] for n in (await client.get(INBOX, headers=world.headers(who))).json()["items"]]
    assert (await client.post(f"{INBOX}/read-all", headers=world.headers("resident_b"))).json() == {"marked": 0}
    assert (await client.get(f"{INBOX}/unread-count", headers=world.headers("resident_a"))).json() == {"unread": 2}
    assert_error(await client.get(INBOX), 401)


async def test_an_escalation_tells_the_admins_of_the_next_level(client, app, world):
    report = await make_report(app, world, state="accepted")
    resp = await client.post(f"/api/v1/reports/{report.id}/steps", headers=world.headers("worker_in"), json={
        "action": "escalate", "expected_version": report.version, "note": "需街道协调"})
    assert resp.status_code == 200, resp.text
    level = resp.json()["escalated_to_grid_id"]
    told = {who for who in ("admin_c1", "admin_street")
            if any(n["type"] == "report.escalated"
                   for n in (await client.get(INBOX, headers=world.headers(who))).json()["items"])}
    assert told == ({"admin_c1"} if level == world.c1.id else {"admin_street"})


async def test_bad_input_to_the_inbox_is_refused_clearly(client, world):
    h = world.headers("resident_a")
    assert_error(await client.get(INBOX, headers=h, params={"limit": 0}), 422, "validation_error")
    assert_error(await client.get(INBOX, headers=h, params={"cursor": "not-a-cursor"}), 400, "invalid_cursor")
    assert_error(await client.get(INBOX, headers=h, params={"unread": "maybe"}), 422, "validation_error")
    assert_error(await client.post(f"{INBOX}/0/read", headers=h), 422, "validation_error")
    assert_error(await client.post(f"{INBOX}/{10**12}/read", headers=h), 404, "not_found")
