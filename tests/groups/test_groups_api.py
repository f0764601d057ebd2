"""Groups through the HTTP API: proposals, the approval flow, removal, invitations, leaders, visibility."""

from __future__ import annotations

from sqlalchemy import select

from app.notifications.models import Notification
from tests.groups.factories import make_group
from tests.helpers import assert_error

G = "/api/v1/groups"


async def _types(app, user_id: int) -> list[str]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(Notification.type).where(Notification.user_id == user_id)
                                     .order_by(Notification.id))).scalars())


async def test_a_resident_proposes_and_an_admin_approves_then_the_proposer_leads(client, app, world):
    resp = await client.post(G, headers=world.headers("resident_a"),
                             json={"kind": "volunteer_team", "name": "红马甲", "join_policy": "approval"})
    assert resp.status_code == 201, resp.text
    g = resp.json()
    assert g["status"] == "proposed" and g["community_id"] == world.c1.id and g["member_count"] == 0
    # a neighbour does not see a proposal; its proposer does
    assert_error(await client.get(f"{G}/{g['id']}", headers=world.headers("resident_b")), 404)
    assert (await client.get(f"{G}/{g['id']}", headers=world.headers("resident_a"))).status_code == 200
    # the proposer cannot approve their own proposal
    step = {"action": "approve", "expected_version": g["version"]}
    assert_error(await client.post(f"{G}/{g['id']}/steps", headers=world.headers("resident_a"), json=step), 403)
    assert_error(await client.post(f"{G}/{g['id']}/steps", headers=world.headers("admin_c2"), json=step), 404)
    resp = await client.post(f"{G}/{g['id']}/steps", headers=world.headers("admin_c1"), json=step)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "active" and resp.json()["member_count"] == 1
    mine = (await client.get(f"{G}/{g['id']}", headers=world.headers("resident_a"))).json()["my_membership"]
    assert mine == {"role": "leader", "status": "active"}
    assert "group.approved" in await _types(app, world.users["resident_a"].id)
    # the same step again, on the old version, has lost the race
    assert_error(await client.post(f"{G}/{g['id']}/steps", headers=world.headers("admin_c1"), json=step), 409,
                 "stale_version")


async def test_a_decline_needs_a_reason_and_is_told_to_the_proposer(client, app, world):
    g = (await client.post(G, headers=world.headers("resident_b"), json={"kind": "interest", "name": "书法社"})).json()
    no_reason = {"action": "decline", "expected_version": 1}
    assert_error(await client.post(f"{G}/{g['id']}/steps", headers=world.headers("admin_c1"), json=no_reason), 422)
    resp = await client.post(f"{G}/{g['id']}/steps", headers=world.headers("admin_c1"),
                             json={**no_reason, "reason": "与现有社群重复"})
    assert resp.json()["status"] == "declined" and resp.json()["decline_reason"] == "与现有社群重复"
    assert await _types(app, world.users["resident_b"].id) == ["group.declined"]


async def test_approval_flow_application_pending_approve_and_tell_the_applicant(client, app, world):
    g = await make_group(client, world, join_policy="approval", leaders=("resident_b",))
    url = f"{G}/{g['id']}"
    resp = await client.post(f"{url}/join", headers=world.headers("resident_a"))
    assert resp.status_code == 200 and resp.json()["status"] == "applied" and resp.json()["member_count"] == 1
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_a")), 409, "application_pending")
    assert "group.application" in await _types(app, world.users["resident_b"].id)
    # an applicant is not a member: no member list yet
    assert_error(await client.get(f"{url}/members", headers=world.headers("resident_a")), 403)
    applied = await client.get(f"{url}/members", params={"status": "applied"}, headers=world.headers("resident_b"))
    assert [m["user_id"] for m in applied.json()["items"]] == [world.users["resident_a"].id]
    uid = world.users["resident_a"].id
    resp = await client.post(f"{url}/applications/{uid}", headers=world.headers("resident_b"), json={"approve": True})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "active" and resp.json()["member_count"] == 2
    assert "group.application_approved" in await _types(app, uid)
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_a")), 409, "already_member")
    members = (await client.get(f"{url}/members", headers=world.headers("resident_a"))).json()["items"]
    assert {m["display_name"] for m in members} == {world.users["resident_a"].display_name,
                                                     world.users["resident_b"].display_name}
    assert all(set(m) == {"user_id", "display_name", "role", "status", "reason", "updated_at"} for m in members)
    assert world.users["resident_a"].phone not in str(members)


async def test_a_declined_applicant_is_told_why_and_may_apply_again(client, app, world):
    g = await make_group(client, world, join_policy="approval", leaders=("resident_b",))
    url, uid = f"{G}/{g['id']}", world.users["resident_a"].id
    await client.post(f"{url}/join", headers=world.headers("resident_a"))
    resp = await client.post(f"{url}/applications/{uid}", headers=world.headers("resident_b"),
                             json={"approve": False, "reason": "名额已满"})
    assert resp.json()["status"] == "declined" and resp.json()["reason"] == "名额已满"
    assert "group.application_declined" in await _types(app, uid)
    assert_error(await client.post(f"{url}/applications/{uid}", headers=world.headers("resident_b"),
                                   json={"approve": True}), 409, "no_application")
    assert (await client.post(f"{url}/join", headers=world.headers("resident_a"))).json()["status"] == "applied"


async def test_a_leader_removes_a_member_with_a_reason_and_only_an_invitation_brings_them_back(client, app, world):
    g = await make_group(client, world, leaders=("resident_b",))
    url, uid = f"{G}/{g['id']}", world.users["resident_a"].id
    assert (await client.post(f"{url}/join", headers=world.headers("resident_a"))).json()["member_count"] == 2
    # a plain member may not remove anyone
    assert_error(await client.post(f"{url}/members/{world.users['resident_b'].id}/remove",
                                   headers=world.headers("resident_a"), json={"reason": "x"}), 403)
    resp = await client.post(f"{url}/members/{uid}/remove", headers=world.headers("resident_b"),
                             json={"reason": "多次违反群规"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "removed" and resp.json()["member_count"] == 1
    assert "group.member_removed" in await _types(app, uid)
    assert_error(await client.get(f"{url}/members", headers=world.headers("resident_a")), 403)
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_a")), 403, "not_eligible")
    resp = await client.post(f"{url}/invitations", headers=world.headers("resident_b"), json={"user_id": uid})
    assert resp.json()["status"] == "invited" and "group.invited" in await _types(app, uid)
    resp = await client.post(f"{url}/join", headers=world.headers("resident_a"))
    assert resp.json()["status"] == "active" and resp.json()["member_count"] == 2


async def test_invite_only_groups_refuse_joins_and_accept_invitations(client, world):
    g = await make_group(client, world, join_policy="invite", leaders=("resident_b",))
    url = f"{G}/{g['id']}"
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_a")), 403, "invite_only")
    # a resident of another community cannot be invited
    assert_error(await client.post(f"{url}/invitations", headers=world.headers("resident_b"),
                                   json={"user_id": world.users["resident_c"].id}), 422, "invalid_reference")
    await client.post(f"{url}/invitations", headers=world.headers("resident_b"),
                      json={"user_id": world.users["resident_a"].id})
    assert (await client.post(f"{url}/leave", headers=world.headers("resident_a"))).json()["status"] == "left"


async def test_a_non_member_cannot_read_the_member_list_or_the_notices(client, world):
    g = await make_group(client, world, leaders=("resident_b",))
    url = f"{G}/{g['id']}"
    assert (await client.get(url, headers=world.headers("resident_a"))).status_code == 200  # sees the group
    assert_error(await client.get(f"{url}/members", headers=world.headers("resident_a")), 403)
    assert_error(await client.get(f"{url}/notices", headers=world.headers("resident_a")), 403)
    assert (await client.get(f"{url}/members", headers=world.headers("resident_b"))).status_code == 200
    assert (await client.get(f"{url}/members", headers=world.headers("admin_c1"))).status_code == 200


async def test_a_resident_of_another_community_can_neither_see_nor_join_the_group(client, world):
    g = await make_group(client, world)
    url = f"{G}/{g['id']}"
    assert_error(await client.get(url, headers=world.headers("resident_c")), 404)
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_c")), 404)
    assert_error(await client.get(f"{url}/members", headers=world.headers("resident_c")), 404)
    listed = (await client.get(G, headers=world.headers("resident_c"))).json()["items"]
    assert g["id"] not in [x["id"] for x in listed]
    listed = (await client.get(G, headers=world.headers("resident_a"))).json()["items"]
    assert g["id"] in [x["id"] for x in listed]


async def test_leaders_post_notices_members_read_them_and_are_told(client, app, world):
    g = await make_group(client, world, leaders=("resident_b",))
    url = f"{G}/{g['id']}"
    await client.post(f"{url}/join", headers=world.headers("resident_a"))
    assert_error(await client.post(f"{url}/notices", headers=world.headers("resident_a"),
                                   json={"title": "t", "body": "b"}), 403)
    resp = await client.post(f"{url}/notices", headers=world.headers("resident_b"),
                             json={"title": "周六排练", "body": "上午九点活动室"})
    assert resp.status_code == 201, resp.text
    listed = (await client.get(f"{url}/notices", headers=world.headers("resident_a"))).json()["items"]
    assert [n["title"] for n in listed] == ["周六排练"]
    assert listed[0]["author_name"] == world.users["resident_b"].display_name
    assert "group.notice" in await _types(app, world.users["resident_a"].id)


async def test_admins_appoint_and_dismiss_leaders_and_edit_with_expected_version(client, world):
    g = await make_group(client, world, member_cap=3)
    url, uid = f"{G}/{g['id']}", world.users["resident_a"].id
    resp = await client.put(f"{url}/leaders/{uid}", headers=world.headers("admin_c1"))
    assert resp.json()["role"] == "leader" and resp.json()["member_count"] == 1
    resp = await client.patch(url, headers=world.headers("resident_a"),
                              json={"expected_version": g["version"], "description": "每周六排练"})
    assert resp.status_code == 200 and resp.json()["version"] == g["version"] + 1
    assert_error(await client.patch(url, headers=world.headers("resident_a"),
                                    json={"expected_version": g["version"], "name": "旧版本"}), 409, "stale_version")
    assert_error(await client.patch(url, headers=world.headers("resident_a"),
                                    json={"expected_version": g["version"] + 1, "name": None}), 422)
    resp = await client.delete(f"{url}/leaders/{uid}", headers=world.headers("admin_c1"))
    assert resp.json()["role"] == "member"
    assert_error(await client.patch(url, headers=world.headers("resident_a"),
                                    json={"expected_version": g["version"] + 1, "name": "改名"}), 403)


async def test_archived_groups_keep_their_history_and_take_no_members(client, world):
    g = await make_group(client, world)
    url = f"{G}/{g['id']}"
    await client.post(f"{url}/join", headers=world.headers("resident_a"))
    resp = await client.post(f"{url}/steps", headers=world.headers("admin_c1"),
                             json={"action": "archive", "expected_version": g["version"]})
    assert resp.json()["status"] == "archived"
    assert (await client.get(f"{url}/members", headers=world.headers("resident_a"))).json()["items"]
    assert_error(await client.post(f"{url}/join", headers=world.headers("resident_b")), 409, "invalid_transition")


async def test_the_cap_cannot_go_below_the_members(client, world):
    g = await make_group(client, world, leaders=("resident_a", "resident_b"))
    assert_error(await client.patch(f"{G}/{g['id']}", headers=world.headers("admin_c1"),
                                    json={"expected_version": g["version"], "member_cap": 1}), 409,
                 "cap_below_members")


async def test_council_members_for_other_domains(client, app, world):
    from app.groups import council

    await make_group(client, world, kind="council", leaders=("resident_a",))
    async with app.state.db.session(write=False) as s:
        assert await council.council_member_ids(s, world.c1.id) == [world.users["resident_a"].id]
        assert await council.is_council_member(s, world.users["resident_a"].id, world.c1.id)
        assert not await council.is_council_member(s, world.users["resident_b"].id, world.c1.id)
        assert await council.council_member_ids(s, world.c2.id) == []
