"""Invariants held by the database, under concurrent requests on both databases: one support each and one move to
the agenda; one ballot each; a budget never over-reserved."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.deliberation.models import Budget, ProposalEvent, ProposalSupport, Vote, VoteElector, VoteOption
from tests.deliberation.helpers import BASE, end_notice, plan, raise_proposal, residents, soon, step, to_voting
from tests.helpers import assert_error


async def _count(app, stmt) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(stmt)).scalar_one()


async def test_concurrent_supports_count_once_each_and_move_to_the_agenda_exactly_once(app, client, world):
    names = await residents(app, world, world.b2, 12)
    await client.put(f"/api/v1/communities/{world.c1.id}/deliberation-settings", headers=world.headers("admin_c1"),
                     json={"support_threshold": 5})
    prop = await raise_proposal(client, world)
    url = f"{BASE}/{prop['id']}/support"
    # twelve neighbours at once, and one of them three more times
    results = await asyncio.gather(*[client.post(url, headers=world.headers(n)) for n in names + [names[0]] * 3])
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 12 + [409] * 3, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"already_supported"}
    assert sorted(r.json()["support_count"] for r in results if r.status_code == 200) == list(range(1, 13))
    detail = (await client.get(f"{BASE}/{prop['id']}", headers=world.headers("resident_a"))).json()
    assert (detail["state"], detail["support_count"]) == ("on_agenda", 12)
    assert await _count(app, select(func.count()).select_from(ProposalSupport)) == 12
    moves = select(func.count()).select_from(ProposalEvent).where(ProposalEvent.action == "reach_threshold")
    assert await _count(app, moves) == 1


async def test_thirty_concurrent_ballots_from_one_resident_record_one(app, client, world):
    prop = await to_voting(app, client, world)
    vote = (await client.get(f"{BASE}/{prop['id']}/vote", headers=world.headers("resident_b"))).json()
    yes = next(o["id"] for o in vote["options"] if o["key"] == "yes")
    results = await asyncio.gather(*[
        client.post(f"{BASE}/{prop['id']}/vote/ballots", headers=world.headers("resident_b"),
                    json={"option_id": yes}) for _ in range(30)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 29, [r.text for r in results if r.status_code not in (201, 409)]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"already_voted"}
    assert await _count(app, select(Vote.ballots_cast)) == 1
    assert await _count(app, select(func.sum(VoteOption.ballots))) == 1
    assert await _count(app, select(func.count()).select_from(VoteElector).where(VoteElector.voted.is_(True))) == 1


async def test_concurrent_ballots_of_many_residents_are_all_counted(app, client, world):
    names = await residents(app, world, world.b1, 10)
    prop = await to_voting(app, client, world)
    vote = (await client.get(f"{BASE}/{prop['id']}/vote", headers=world.headers("resident_b"))).json()
    no = next(o["id"] for o in vote["options"] if o["key"] == "no")
    results = await asyncio.gather(*[client.post(f"{BASE}/{prop['id']}/vote/ballots", headers=world.headers(n),
                                                 json={"option_id": no}) for n in names])
    assert [r.status_code for r in results] == [201] * 10
    assert await _count(app, select(Vote.ballots_cast)) == 10
    assert await _count(app, select(VoteOption.ballots).where(VoteOption.id == no)) == 10


async def test_concurrent_adoptions_against_a_budget_for_one_exactly_one_succeeds(app, client, world):
    """Opening the vote is where a proposal's cost is committed (reserved, kept if adopted, released if not):
    two proposals of 80 against a budget of 100 race; one opens, the other hears what is left."""
    from tests.deliberation.test_scenario import _year

    await client.put(f"/api/v1/communities/{world.c1.id}/budgets/{_year()}", headers=world.headers("admin_c1"),
                     json={"amount": 100})
    ready = []
    for who in ("resident_a", "resident_b", "resident_a", "resident_b"):
        prop = await raise_proposal(client, world, who)
        prop = await step(client, world, "admin_c1", prop, "put_on_agenda")
        prop = await step(client, world, "admin_c1", prop, "publish_plan", plan=plan(cost=80))
        await end_notice(app, prop["id"])
        ready.append(prop)
    results = await asyncio.gather(*[
        client.post(f"{BASE}/{p['id']}/steps", headers=world.headers(who),
                    json={"action": "open_vote", "expected_version": p["version"],
                          "vote": {"closes_at": soon(hours=1)}})
        for p, who in zip(ready, ["admin_c1", "admin_street", "admin_c1", "admin_street"], strict=True)])
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            err = assert_error(r, 409, "budget_exceeded")
            assert err["details"] == {"year": _year(), "amount": 100, "reserved": 80, "remaining": 20,
                                      "requested": 80}
    assert await _count(app, select(Budget.reserved)) == 80
    assert await _count(app, select(func.count()).select_from(Vote)) == 1  # the losers left nothing behind
    # and the amount cannot be cut below what is reserved
    assert_error(await client.put(f"/api/v1/communities/{world.c1.id}/budgets/{_year()}",
                                  headers=world.headers("admin_c1"), json={"amount": 79}), 409, "budget_below_reserved")


async def test_concurrent_staff_steps_have_one_winner(app, client, world):
    prop = await raise_proposal(client, world)
    url = f"{BASE}/{prop['id']}/steps"
    results = await asyncio.gather(
        client.post(url, headers=world.headers("admin_c1"), json={"action": "put_on_agenda", "expected_version": 1}),
        client.post(url, headers=world.headers("admin_street"), json={"action": "decline", "expected_version": 1,
                                                                      "note": "不属于议事范围"}),
        client.post(url, headers=world.headers("resident_a"), json={"action": "withdraw", "expected_version": 1}))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409], [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"stale_version"}
    events = select(func.count()).select_from(ProposalEvent).where(ProposalEvent.proposal_id == prop["id"])
    assert await _count(app, events) == 2  # create + the winner
