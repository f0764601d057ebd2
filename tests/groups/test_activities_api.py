"""Activities through the HTTP API: signup rules, cancellation, check-in and volunteer hours."""

from __future__ import annotations

from sqlalchemy import select

from app.notifications.models import Notification
from tests.groups.factories import make_activity, make_group
from tests.helpers import assert_error

A = "/api/v1/activities"


async def test_sign_up_cancel_and_sign_up_again(client, world):
    a = await make_activity(client, world, capacity=1)
    url = f"{A}/{a['id']}/signup"
    resp = await client.post(url, headers=world.headers("resident_a"))
    assert resp.status_code == 200 and resp.json()["signed_up"] == 1 and resp.json()["my_signup"] == "signed_up"
    assert_error(await client.post(url, headers=world.headers("resident_a")), 409, "already_signed_up")
    assert_error(await client.post(url, headers=world.headers("resident_b")), 409, "activity_full")
    resp = await client.delete(url, headers=world.headers("resident_a"))
    assert resp.json()["signed_up"] == 0 and resp.json()["my_signup"] == "cancelled"
    assert_error(await client.delete(url, headers=world.headers("resident_a")), 409, "not_signed_up")
    assert (await client.post(url, headers=world.headers("resident_b"))).json()["signed_up"] == 1


async def test_signup_closes_at_the_deadline(client, world):
    a = await make_activity(client, world, starts_in_hours=1, deadline_in_hours=-1)
    assert_error(await client.post(f"{A}/{a['id']}/signup", headers=world.headers("resident_a")), 409,
                 "signup_closed")


async def test_members_only_activities_are_for_members(client, world):
    g = await make_group(client, world, leaders=("resident_b",))
    a = await make_activity(client, world, by="resident_b", group_id=g["id"], visibility="members_only")
    url = f"{A}/{a['id']}/signup"
    assert (await client.get(f"{A}/{a['id']}", headers=world.headers("resident_a"))).status_code == 200
    assert_error(await client.post(url, headers=world.headers("resident_a")), 403, "not_eligible")
    await client.post(f"/api/v1/groups/{g['id']}/join", headers=world.headers("resident_a"))
    assert (await client.post(url, headers=world.headers("resident_a"))).status_code == 200
    # a member who is not a leader does not create the group's activities
    resp = await client.post(A, headers=world.headers("resident_a"), json={
        "group_id": g["id"], "title": "自发活动", "place": "楼下", "starts_at": a["starts_at"],
        "ends_at": a["ends_at"], "capacity": 3})
    assert_error(resp, 403)


async def test_another_community_gets_404_for_the_activity(client, world):
    a = await make_activity(client, world)
    assert_error(await client.get(f"{A}/{a['id']}", headers=world.headers("resident_c")), 404)
    assert_error(await client.post(f"{A}/{a['id']}/signup", headers=world.headers("resident_c")), 404)
    listed = (await client.get(A, headers=world.headers("resident_c"))).json()["items"]
    assert a["id"] not in [x["id"] for x in listed]
    assert a["id"] in [x["id"] for x in (await client.get(A, headers=world.headers("resident_a"))).json()["items"]]


async def test_cancelling_tells_everyone_signed_up(client, app, world):
    a = await make_activity(client, world)
    for who in ("resident_a", "resident_b"):
        await client.post(f"{A}/{a['id']}/signup", headers=world.headers(who))
    await client.delete(f"{A}/{a['id']}/signup", headers=world.headers("resident_b"))
    assert_error(await client.post(f"{A}/{a['id']}/cancel", headers=world.headers("resident_a"),
                                   json={"expected_version": 1, "reason": "x"}), 403)
    resp = await client.post(f"{A}/{a['id']}/cancel", headers=world.headers("admin_c1"),
                             json={"expected_version": 1, "reason": "暴雨预警"})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    async with app.state.db.session(write=False) as s:
        told = (await s.execute(select(Notification.user_id).where(Notification.type == "activity.cancelled")))\
            .scalars().all()
    assert told == [world.users["resident_a"].id]
    assert_error(await client.post(f"{A}/{a['id']}/cancel", headers=world.headers("admin_c1"),
                                   json={"expected_version": 1, "reason": "again"}), 409, "stale_version")
    assert_error(await client.post(f"{A}/{a['id']}/signup", headers=world.headers("resident_b")), 409)


async def test_check_in_and_hours_by_the_organiser_only(client, world):
    await client.put("/api/v1/points/rules", headers=world.headers("admin_c1"),
                     json={"community_id": world.c1.id, "points_per_hour": 4})
    a = await make_activity(client, world, volunteer=True)
    uid = world.users["resident_a"].id
    hours = f"{A}/{a['id']}/signups/{uid}/hours"
    await client.post(f"{A}/{a['id']}/signup", headers=world.headers("resident_a"))
    assert_error(await client.post(f"{A}/{a['id']}/signups/{uid}/check-in", headers=world.headers("resident_b")),
                 403)
    assert_error(await client.post(hours, headers=world.headers("admin_c1"), json={"hours": 2}), 409,
                 "not_checked_in")
    resp = await client.post(f"{A}/{a['id']}/signups/{uid}/check-in", headers=world.headers("admin_c1"))
    assert resp.status_code == 200 and resp.json()["checked_in_at"]
    resp = await client.post(hours, headers=world.headers("admin_c1"), json={"hours": 1.5})
    assert resp.json()["points_credited"] == 6 and resp.json()["volunteer_hours"] == 1.5
    assert_error(await client.post(hours, headers=world.headers("admin_c1"), json={"hours": 3}), 409,
                 "hours_already_confirmed")
    signups = (await client.get(f"{A}/{a['id']}/signups", headers=world.headers("admin_c1"))).json()["items"]
    assert [s["display_name"] for s in signups] == [world.users["resident_a"].display_name]
    assert_error(await client.get(f"{A}/{a['id']}/signups", headers=world.headers("resident_a")), 403)
    entries = (await client.get("/api/v1/points/me/entries", headers=world.headers("resident_a"))).json()["items"]
    assert [(e["kind"], e["amount"], e["source_type"]) for e in entries] == [("earn", 6, "volunteer_signup")]


async def test_hours_only_for_volunteer_service(client, world):
    a = await make_activity(client, world)
    uid = world.users["resident_a"].id
    await client.post(f"{A}/{a['id']}/signup", headers=world.headers("resident_a"))
    await client.post(f"{A}/{a['id']}/signups/{uid}/check-in", headers=world.headers("admin_c1"))
    assert_error(await client.post(f"{A}/{a['id']}/signups/{uid}/hours", headers=world.headers("admin_c1"),
                                   json={"hours": 1}), 409, "not_volunteer_service")
