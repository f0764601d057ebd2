"""Votes through the API: the electorate, the window, a building's two-thirds rule, choices, open ballots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.deliberation.models import Vote
from tests.deliberation.helpers import BASE, close_vote, residents, run_results, soon, to_voting
from tests.helpers import assert_error


async def _options(client, world, pid: int, who: str = "resident_a") -> dict[str, int]:
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers(who))).json()
    return {o["key"]: o["id"] for o in vote["options"]}


async def _ballot(client, world, pid: int, who: str, option_id: int):
    return await client.post(f"{BASE}/{pid}/vote/ballots", headers=world.headers(who), json={"option_id": option_id})


async def test_a_resident_outside_the_electorate_is_refused_with_a_reason(app, client, world):
    prop = await to_voting(app, client, world, vote={"electorate_grid_id": world.b1.id, "closes_at": soon(hours=1)})
    pid, yes = prop["id"], (await _options(client, world, prop["id"]))["yes"]
    err = assert_error(await _ballot(client, world, pid, "resident_b", yes), 403, "not_eligible")  # lives in b2
    assert err["details"] == {"reason": "outside_electorate", "electorate_grid_id": world.b1.id,
                              "electorate_name": "1号楼", "min_age": None}
    me = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_b"))).json()["me"]
    assert me == {"eligible": False, "ineligible_reason": "outside_electorate", "voted": False}
    # moved in after the roll was drawn
    late = await residents(app, world, world.b1, 1)
    err = assert_error(await _ballot(client, world, pid, late[0], yes), 403, "not_eligible")
    assert err["details"]["reason"] == "joined_after_opening"
    err = assert_error(await _ballot(client, world, pid, "admin_c1", yes), 403, "not_eligible")
    assert err["details"]["reason"] == "not_a_resident"
    # another community's resident does not even see it
    assert_error(await _ballot(client, world, pid, "resident_c", yes), 404, "not_found")
    assert (await _ballot(client, world, pid, "resident_a", yes)).status_code == 201


async def test_ballots_outside_the_window_are_refused(app, client, world):
    prop = await to_voting(app, client, world, vote={"opens_at": soon(hours=1), "closes_at": soon(hours=2)})
    pid, yes = prop["id"], (await _options(client, world, prop["id"]))["yes"]
    err = assert_error(await _ballot(client, world, pid, "resident_a", yes), 409, "voting_not_open")
    assert set(err["details"]) == {"opens_at", "closes_at"}
    assert (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()["status"] == "upcoming"
    await close_vote(app, pid)
    assert_error(await _ballot(client, world, pid, "resident_a", yes), 409, "voting_closed")
    assert (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()["status"] == "closed"


async def test_two_thirds_of_the_building_fails_for_lack_of_quorum_though_every_ballot_is_yes(app, client, world,
                                                                                              settings):
    await residents(app, world, world.b1, 5)  # b1: resident_a and five more = six
    spec = {"electorate_grid_id": world.b1.id, "rule": "electorate_share", "share": {"num": 2, "den": 3},
            "quorum": {"num": 2, "den": 3}, "closes_at": soon(hours=1)}
    prop = await to_voting(app, client, world, vote=spec)
    pid, yes = prop["id"], (await _options(client, world, prop["id"]))["yes"]
    for who in ("resident_a", "r100", "r101"):
        assert (await _ballot(client, world, pid, who, yes)).status_code == 201
    await close_vote(app, pid)
    assert await run_results(app, settings) == 1
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("r102"))).json()
    assert vote["electorate"]["size"] == 6 and vote["ballots_cast"] == 3
    assert {o["key"]: o["ballots"] for o in vote["options"]} == {"yes": 3, "no": 0, "abstain": 0}
    assert vote["result"] == {**vote["result"], "passed": False, "reason": "quorum_not_met", "quorum_met": False,
                              "turnout": 3, "electorate": 6}
    prop = (await client.get(f"{BASE}/{pid}", headers=world.headers("resident_a"))).json()
    assert prop["outcome"] == "not_adopted"


async def test_the_result_cannot_change_after_the_tally(app, client, world, settings):
    prop = await to_voting(app, client, world)
    pid, yes = prop["id"], (await _options(client, world, prop["id"]))["yes"]
    assert (await _ballot(client, world, pid, "resident_b", yes)).status_code == 201
    await close_vote(app, pid)
    assert await run_results(app, settings) == 1
    before = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()
    # even if the window were reopened by hand, the tallied vote takes no ballot and the worker does not redo it
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Vote).where(Vote.proposal_id == pid)
                        .values(closes_at=datetime.now(UTC) + timedelta(hours=1)))
    assert_error(await _ballot(client, world, pid, "resident_a", yes), 409, "voting_closed")
    assert await run_results(app, settings) == 0
    assert (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()["result"] == \
        before["result"]


async def test_custom_choices_and_ballots_always_secret(app, client, world, settings):
    spec = {"ballot_kind": "choices", "choices": ["东门", "西门"], "closes_at": soon(hours=1)}
    prop = await to_voting(app, client, world, vote=spec)
    pid = prop["id"]
    opts = await _options(client, world, pid)
    assert set(opts) == {"c1", "c2"}
    assert (await _ballot(client, world, pid, "resident_a", opts["c2"])).status_code == 201
    assert (await _ballot(client, world, pid, "resident_b", opts["c2"])).status_code == 201
    await close_vote(app, pid)
    await run_results(app, settings)
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()
    assert vote["result"]["passed"] and vote["result"]["winner_key"] == "c2" and vote["secret"] is True
    assert "open_ballots" not in vote
    spec["secret"] = False  # no open ballots: the ballots are secret, always
    from tests.deliberation.helpers import end_notice, plan, raise_proposal, step

    other = await raise_proposal(client, world, "resident_b")
    other = await step(client, world, "admin_c1", other, "put_on_agenda")
    other = await step(client, world, "admin_c1", other, "publish_plan", plan=plan(None))
    await end_notice(app, other["id"])
    resp = await client.post(f"{BASE}/{other['id']}/steps", headers=world.headers("admin_c1"),
                             json={"action": "open_vote", "expected_version": other["version"], "vote": spec})
    assert "secret" in str(assert_error(resp, 422, "validation_error")["details"])


async def test_bad_vote_specs_are_422_and_change_nothing(app, client, world):
    from tests.deliberation.helpers import end_notice, plan, raise_proposal, step

    prop = await raise_proposal(client, world)
    prop = await step(client, world, "admin_c1", prop, "put_on_agenda")
    prop = await step(client, world, "admin_c1", prop, "publish_plan", plan=plan())
    await end_notice(app, prop["id"])
    url = f"{BASE}/{prop['id']}/steps"
    for vote in ({"electorate_grid_id": world.b3.id, "closes_at": soon(hours=1)},   # another community
                 {"closes_at": soon(hours=-1)},                                      # in the past
                 {"rule": "electorate_share", "closes_at": soon(hours=1)},            # no share
                 {"ballot_kind": "choices", "choices": ["一"], "closes_at": soon(hours=1)},
                 {"share": {"num": 3, "den": 2}, "rule": "electorate_share", "closes_at": soon(hours=1)}):
        resp = await client.post(url, headers=world.headers("admin_c1"),
                                 json={"action": "open_vote", "expected_version": prop["version"], "vote": vote})
        assert_error(resp, 422)
    after = (await client.get(f"{BASE}/{prop['id']}", headers=world.headers("admin_c1"))).json()
    assert (after["state"], after["version"], after["has_vote"]) == ("in_notice", prop["version"], False)
