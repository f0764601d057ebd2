"""The council is the community's admins and the active members of its council group (app/groups)."""

from __future__ import annotations

from app.groups.models import Group, Membership
from tests.deliberation.helpers import BASE, raise_proposal, step
from tests.helpers import assert_error


async def _council_group(app, world, *members: str, status: str = "active") -> None:
    async with app.state.db.session(write=True) as s:
        g = Group(community_id=world.c1.id, community_path=world.c1.path, kind="council", name="居民议事会",
                  join_policy="invite", status="active", member_count=len(members))
        s.add(g)
        await s.flush()
        for who in members:
            s.add(Membership(group_id=g.id, user_id=world.users[who].id, role="member", status=status))


async def test_a_council_member_steers_and_other_residents_do_not(app, client, world):
    await _council_group(app, world, "resident_b")
    prop = await raise_proposal(client, world, "resident_a")
    resp = await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("resident_a"),
                             json={"action": "put_on_agenda", "expected_version": prop["version"]})
    assert resp.status_code in (403, 409), resp.text  # the proposer alone is not the council
    prop = await step(client, world, "resident_b", prop, "put_on_agenda")
    assert prop["state"] == "on_agenda"


async def test_a_past_member_is_not_on_the_council(app, client, world):
    await _council_group(app, world, "resident_b", status="left")
    prop = await raise_proposal(client, world, "resident_a")
    resp = await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("resident_b"),
                             json={"action": "put_on_agenda", "expected_version": prop["version"]})
    assert resp.status_code in (403, 409)
    assert_error(await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("resident_c"),
                                   json={"action": "put_on_agenda", "expected_version": prop["version"]}), 404)
