"""The whole path through the HTTP API: proposal → supports reach the threshold → plan and notice → vote → the
worker's result → announcement and project, with the inbox along the way."""

from __future__ import annotations

from sqlalchemy import func, select

from app.notifications.models import Notification
from tests.deliberation.helpers import BASE, close_vote, end_notice, plan, raise_proposal, residents, run_results, soon
from tests.helpers import assert_error


async def _inbox_types(app, user_id: int) -> list[str]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(Notification.type).where(Notification.user_id == user_id)
                                     .order_by(Notification.id))).scalars())


async def test_proposal_to_project_through_the_api(app, client, world, settings):
    w, h = world, world.headers
    extra = await residents(app, w, w.b1, 3)
    c1 = w.c1.id
    # an admin of the community sets the threshold and the year's budget
    assert (await client.put(f"/api/v1/communities/{c1}/deliberation-settings", headers=h("admin_c1"),
                             json={"support_threshold": 2})).json()["support_threshold"] == 2
    budget = await client.put(f"/api/v1/communities/{c1}/budgets/{_year()}", headers=h("admin_c1"),
                              json={"amount": 100_000})
    assert budget.status_code == 200 and budget.json()["remaining"] == 100_000

    prop = await raise_proposal(client, w, estimated_cost=50_000, category="facilities")
    assert prop["state"] == "open" and prop["support_threshold"] == 2 and prop["can_support"] is False
    pid = prop["id"]
    first = await client.post(f"{BASE}/{pid}/support", headers=h("resident_b"))
    assert first.json() == {"supported": True, "support_count": 1, "state": "open"}
    assert_error(await client.post(f"{BASE}/{pid}/support", headers=h("resident_b")), 409, "already_supported")
    second = await client.post(f"{BASE}/{pid}/support", headers=h(extra[0]))
    assert second.json() == {"supported": True, "support_count": 2, "state": "on_agenda"}
    assert "proposal.on_agenda" in await _inbox_types(app, w.users["resident_a"].id)

    # discussion
    c = await client.post(f"{BASE}/{pid}/comments", headers=h("resident_b"), json={"body": "支持，老人太辛苦"})
    assert c.status_code == 201
    r = await client.post(f"{BASE}/{pid}/comments", headers=h("resident_a"),
                          json={"body": "谢谢", "parent_id": c.json()["id"]})
    assert r.status_code == 201 and r.json()["parent_id"] == c.json()["id"]

    # plan and public notice, then the vote after the notice ends
    prop = (await client.get(f"{BASE}/{pid}", headers=h("admin_c1"))).json()
    resp = await client.post(f"{BASE}/{pid}/steps", headers=h("admin_c1"),
                             json={"action": "publish_plan", "expected_version": prop["version"],
                                   "plan": plan(cost=60_000)})
    assert resp.status_code == 200, resp.text
    prop = resp.json()
    assert prop["state"] == "in_notice" and prop["cost"] == 60_000 and prop["plan_text"]
    assert "proposal.in_notice" in await _inbox_types(app, w.users["resident_b"].id)
    early = await client.post(f"{BASE}/{pid}/steps", headers=h("admin_c1"),
                              json={"action": "open_vote", "expected_version": prop["version"],
                                    "vote": {"closes_at": soon(hours=1)}})
    assert_error(early, 409, "notice_not_over")
    await end_notice(app, pid)
    resp = await client.post(f"{BASE}/{pid}/steps", headers=h("admin_c1"),
                             json={"action": "open_vote", "expected_version": prop["version"],
                                   "vote": {"closes_at": soon(hours=1)}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == "voting" and resp.json()["reserved_amount"] == 60_000
    budgets = (await client.get(f"/api/v1/communities/{c1}/budgets", headers=h("resident_a"))).json()
    assert budgets[0]["reserved"] == 60_000 and budgets[0]["remaining"] == 40_000
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=h("resident_a"))).json()
    assert vote["status"] == "open" and vote["electorate"]["size"] == 5  # a, b and three more in c1
    assert vote["me"] == {"eligible": True, "ineligible_reason": None, "voted": False}
    assert all(o["ballots"] is None for o in vote["options"])
    assert "vote.opened" in await _inbox_types(app, w.users[extra[1]].id)
    option = {o["key"]: o["id"] for o in vote["options"]}
    for who, key in (("resident_a", "yes"), ("resident_b", "yes"), (extra[0], "yes"), (extra[1], "no")):
        cast = await client.post(f"{BASE}/{pid}/vote/ballots", headers=h(who), json={"option_id": option[key]})
        assert cast.status_code == 201, cast.text
        assert set(cast.json()) == {"voted", "ballots_cast"}
    mine = (await client.get(f"{BASE}/{pid}/vote", headers=h("resident_a"))).json()
    assert mine["me"]["voted"] is True and mine["ballots_cast"] == 4 and mine["result"] is None

    # the window closes; the worker publishes the result, once
    await close_vote(app, pid)
    assert await run_results(app, settings) == 1
    assert await run_results(app, settings) == 0
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=h("resident_c" if False else "resident_b"))).json()
    assert vote["status"] == "tallied"
    assert vote["result"]["passed"] is True and vote["result"]["turnout"] == 4 and vote["result"]["electorate"] == 5
    assert {o["key"]: o["ballots"] for o in vote["options"]} == {"yes": 3, "no": 1, "abstain": 0}
    assert "open_ballots" not in vote
    assert_error(await client.post(f"{BASE}/{pid}/vote/ballots", headers=h(extra[2]),
                                   json={"option_id": option["yes"]}), 409, "voting_closed")
    prop = (await client.get(f"{BASE}/{pid}", headers=h("resident_a"))).json()
    assert (prop["state"], prop["outcome"]) == ("decided", "adopted") and prop["project_id"]
    timeline = (await client.get(f"{BASE}/{pid}/timeline", headers=h("resident_a"))).json()
    assert [e["action"] for e in timeline] == ["create", "reach_threshold", "publish_plan", "open_vote", "decide"]
    assert "vote.result" in await _inbox_types(app, w.users["resident_a"].id)

    # the result is an announcement of the community
    listed = (await client.get("/api/v1/announcements", headers=h("resident_b"))).json()["items"]
    assert [a["proposal_id"] for a in listed] == [pid] and "通过" in listed[0]["body"]
    assert (await client.get("/api/v1/announcements", headers=h("resident_c"))).json()["items"] == []

    # the project: followed by the proposer and the supporters, milestones in public
    project_id = prop["project_id"]
    project = (await client.get(f"/api/v1/projects/{project_id}", headers=h("resident_b"))).json()
    assert project["cost"] == 60_000 and project["state"] == "planned" and project["following"] is True
    assert project["follower_count"] == 3
    m = await client.post(f"/api/v1/projects/{project_id}/milestones", headers=h("admin_c1"),
                          json={"happened_on": "2026-12-20", "note": "电梯已进场施工", "amount_spent": 20_000})
    assert m.status_code == 201 and m.json()["state"] == "in_progress" and m.json()["spent"] == 20_000
    assert "project.milestone" in await _inbox_types(app, w.users["resident_b"].id)
    done = await client.post(f"/api/v1/projects/{project_id}/milestones", headers=h("admin_c1"),
                             json={"happened_on": "2027-01-20", "note": "已投入使用", "amount_spent": 38_000,
                                   "completes": True})
    assert done.json()["state"] == "completed" and len(done.json()["milestones"]) == 2
    assert_error(await client.post(f"/api/v1/projects/{project_id}/milestones", headers=h("admin_c1"),
                                   json={"happened_on": "2027-01-21", "note": "again"}), 409, "invalid_transition")
    assert_error(await client.get(f"/api/v1/projects/{project_id}", headers=h("resident_c")), 404)


async def test_a_vote_that_fails_releases_its_reservation(app, client, world, settings):
    from tests.deliberation.helpers import to_voting

    await client.put(f"/api/v1/communities/{world.c1.id}/budgets/{_year()}", headers=world.headers("admin_c1"),
                     json={"amount": 1000})
    prop = await to_voting(app, client, world, cost=700)
    await close_vote(app, prop["id"])  # nobody voted
    assert await run_results(app, settings) == 1
    after = (await client.get(f"{BASE}/{prop['id']}", headers=world.headers("resident_a"))).json()
    assert (after["outcome"], after["reserved_amount"], after["project_id"]) == ("not_adopted", 0, None)
    budget = (await client.get(f"/api/v1/communities/{world.c1.id}/budgets", headers=world.headers("admin_c1")))
    assert budget.json()[0]["reserved"] == 0
    async with app.state.db.session(write=False) as s:
        from app.deliberation.models import MicroProject
        assert (await s.execute(select(func.count()).select_from(MicroProject))).scalar_one() == 0


def _year() -> int:
    from datetime import UTC, datetime

    from app.deliberation.budgets import budget_year
    return budget_year(datetime.now(UTC))
