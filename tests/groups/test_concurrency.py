"""The invariants of groups and activities hold under concurrent requests, on both databases: the member cap,
an activity's capacity, and volunteer hours credited once however often they are confirmed."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.groups.models import ActivitySignup, Membership
from app.points.models import PointAccount, PointEntry
from tests.groups.factories import make_activity, make_group, residents


async def test_member_cap_holds_under_concurrent_joins(client, app, world):
    g = await make_group(client, world, member_cap=5)
    people = await residents(app, world, 12)
    results = await asyncio.gather(*[client.post(f"/api/v1/groups/{g['id']}/join", headers=world.headers(u))
                                     for u in people])
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 5 + [409] * 7, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"group_full"}
    async with app.state.db.session(write=False) as s:
        active = (await s.execute(select(func.count()).select_from(Membership).where(
            Membership.group_id == g["id"], Membership.status == "active"))).scalar_one()
    count = (await client.get(f"/api/v1/groups/{g['id']}", headers=world.headers("admin_c1"))).json()["member_count"]
    assert active == count == 5


async def test_one_resident_joining_twice_at_once_is_one_member(client, app, world):
    g = await make_group(client, world)
    results = await asyncio.gather(*[client.post(f"/api/v1/groups/{g['id']}/join", headers=world.headers("resident_a"))
                                     for _ in range(4)])
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    count = (await client.get(f"/api/v1/groups/{g['id']}", headers=world.headers("admin_c1"))).json()["member_count"]
    assert count == 1


async def test_activity_capacity_holds_under_concurrent_signups(client, app, world):
    a = await make_activity(client, world, capacity=4)
    people = await residents(app, world, 10)
    results = await asyncio.gather(*[client.post(f"/api/v1/activities/{a['id']}/signup", headers=world.headers(u))
                                     for u in people])
    assert sorted(r.status_code for r in results) == [200] * 4 + [409] * 6, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"activity_full"}
    async with app.state.db.session(write=False) as s:
        signed = (await s.execute(select(func.count()).select_from(ActivitySignup).where(
            ActivitySignup.activity_id == a["id"], ActivitySignup.status == "signed_up"))).scalar_one()
    seen = (await client.get(f"/api/v1/activities/{a['id']}", headers=world.headers("admin_c1"))).json()
    assert signed == seen["signed_up"] == 4


async def test_hours_confirmed_twice_at_once_credit_points_once(client, app, world):
    await client.put("/api/v1/points/rules", headers=world.headers("admin_c1"),
                     json={"community_id": world.c1.id, "points_per_hour": 10})
    a = await make_activity(client, world, volunteer=True)
    uid = world.users["resident_a"].id
    await client.post(f"/api/v1/activities/{a['id']}/signup", headers=world.headers("resident_a"))
    await client.post(f"/api/v1/activities/{a['id']}/signups/{uid}/check-in", headers=world.headers("admin_c1"))
    results = await asyncio.gather(*[
        client.post(f"/api/v1/activities/{a['id']}/signups/{uid}/hours", headers=world.headers("admin_c1"),
                    json={"hours": 2.5}) for _ in range(6)])
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sorted(r.json()["points_credited"] for r in results) == [0] * 5 + [25]
    async with app.state.db.session(write=False) as s:
        entries = (await s.execute(select(PointEntry.amount).where(PointEntry.user_id == uid))).scalars().all()
        balance = (await s.execute(select(PointAccount.balance).where(PointAccount.user_id == uid))).scalar_one()
    assert entries == [25] and balance == 25
    me = (await client.get("/api/v1/points/me", headers=world.headers("resident_a"))).json()
    assert me["balance"] == 25


async def test_member_count_stays_true_when_members_leave_while_others_join(client, app, world):
    g = await make_group(client, world, member_cap=5)
    members, newcomers = await residents(app, world, 5), await residents(app, world, 8)
    for u in members:
        assert (await client.post(f"/api/v1/groups/{g['id']}/join", headers=world.headers(u))).status_code == 200
    results = await asyncio.gather(
        *[client.post(f"/api/v1/groups/{g['id']}/leave", headers=world.headers(u)) for u in members],
        *[client.post(f"/api/v1/groups/{g['id']}/join", headers=world.headers(u)) for u in newcomers])
    assert all(r.status_code in (200, 409) for r in results), [r.text for r in results]
    assert all(r.status_code == 200 for r in results[:5])
    async with app.state.db.session(write=False) as s:
        active = (await s.execute(select(func.count()).select_from(Membership).where(
            Membership.group_id == g["id"], Membership.status == "active"))).scalar_one()
    count = (await client.get(f"/api/v1/groups/{g['id']}", headers=world.headers("admin_c1"))).json()["member_count"]
    assert active == count == sum(r.status_code == 200 for r in results[5:]) <= 5
