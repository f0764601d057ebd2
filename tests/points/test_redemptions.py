"""Rewards and redemptions: neither stock nor balance ever goes negative, even under concurrent redemptions;
cancelling refunds; the per-resident limit holds."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.points.models import PointAccount, PointEntry, Reward
from tests.helpers import assert_error
from tests.points.factories import give_points, make_reward

P = "/api/v1/points"


async def _ledger(app, user_id: int) -> tuple[int, int]:
    """(balance, sum of the ledger's entries) of a resident in community 1."""
    async with app.state.db.session(write=False) as s:
        balance = (await s.execute(select(PointAccount.balance).where(PointAccount.user_id == user_id))).scalar_one()
        total = (await s.execute(select(func.coalesce(func.sum(PointEntry.amount), 0))
                                 .where(PointEntry.user_id == user_id))).scalar_one()
    return balance, total


async def test_twenty_concurrent_redemptions_with_points_for_three(client, app, world):
    reward = await make_reward(client, world, cost=10, stock=5)
    await give_points(client, world, "resident_a", 30)
    results = await asyncio.gather(*[client.post(f"{P}/rewards/{reward['id']}/redeem",
                                                 headers=world.headers("resident_a")) for _ in range(20)])
    assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 17, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"insufficient_points"}
    async with app.state.db.session(write=False) as s:
        stock = (await s.execute(select(Reward.stock).where(Reward.id == reward["id"]))).scalar_one()
        redeemed = (await s.execute(select(func.sum(PointEntry.amount)).where(PointEntry.kind == "redeem")))\
            .scalar_one()
    balance, total = await _ledger(app, world.users["resident_a"].id)
    assert (balance, total, stock, redeemed) == (0, 0, 2, -30)
    assert (await client.get(f"{P}/me", headers=world.headers("resident_a"))).json()["balance"] == 0


async def test_stock_holds_under_concurrent_redemptions_of_many_residents(client, app, world):
    from tests.groups.factories import residents

    reward = await make_reward(client, world, cost=5, stock=3)
    people = await residents(app, world, 8)
    for u in people:
        world.users[f"r{u.id}"] = u
        await give_points(client, world, f"r{u.id}", 5)
    results = await asyncio.gather(*[client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers(u))
                                     for u in people])
    assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 5
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"out_of_stock"}
    for u in people:  # a refused redemption wrote nothing: the points are still there
        balance, total = await _ledger(app, u.id)
        assert balance == total and balance in (0, 5)


async def test_the_per_resident_limit_holds_and_cancelling_gives_it_back(client, app, world):
    reward = await make_reward(client, world, cost=1, stock=10, limit=2)
    await give_points(client, world, "resident_a", 10)
    results = await asyncio.gather(*[client.post(f"{P}/rewards/{reward['id']}/redeem",
                                                 headers=world.headers("resident_a")) for _ in range(5)])
    assert sorted(r.status_code for r in results) == [201, 201, 409, 409, 409]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"reward_limit_reached"}
    first = next(r.json() for r in results if r.status_code == 201)
    resp = await client.post(f"{P}/redemptions/{first['id']}/steps", headers=world.headers("resident_a"),
                             json={"action": "cancel", "expected_version": first["version"]})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert (await client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers("resident_a"))
            ).status_code == 201
    assert await _ledger(app, world.users["resident_a"].id) == (8, 8)


async def test_fulfil_by_staff_cancel_refunds_and_steps_check_the_version(client, app, world):
    reward = await make_reward(client, world, cost=10, stock=2)
    await give_points(client, world, "resident_a", 20)
    one = (await client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers("resident_a"))).json()
    two = (await client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers("resident_a"))).json()
    assert_error(await client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers("resident_a")), 409,
                 "insufficient_points")
    steps = f"{P}/redemptions/{one['id']}/steps"
    assert_error(await client.post(steps, headers=world.headers("resident_a"),
                                   json={"action": "fulfil", "expected_version": 1}), 403)
    assert_error(await client.post(steps, headers=world.headers("admin_c2"),
                                   json={"action": "fulfil", "expected_version": 1}), 404)
    resp = await client.post(steps, headers=world.headers("admin_c1"), json={"action": "fulfil",
                                                                              "expected_version": 1})
    assert resp.json()["status"] == "fulfilled"
    assert_error(await client.post(steps, headers=world.headers("admin_c1"),
                                   json={"action": "cancel", "expected_version": 1}), 409, "stale_version")
    assert_error(await client.post(steps, headers=world.headers("admin_c1"),
                                   json={"action": "cancel", "expected_version": 2}), 409, "invalid_transition")
    resp = await client.post(f"{P}/redemptions/{two['id']}/steps", headers=world.headers("admin_c1"),
                             json={"action": "cancel", "expected_version": 1, "note": "暂停发放"})
    assert resp.json()["status"] == "cancelled"
    assert await _ledger(app, world.users["resident_a"].id) == (10, 10)
    stock = (await client.get(f"{P}/rewards/{reward['id']}", headers=world.headers("admin_c1"))).json()["stock"]
    assert stock == 1
    kinds = [e["kind"] for e in (await client.get(f"{P}/me/entries", headers=world.headers("resident_a")))
             .json()["items"]]
    assert kinds == ["refund", "redeem", "redeem", "adjust"]
    mine = (await client.get(f"{P}/redemptions", headers=world.headers("resident_a"))).json()["items"]
    assert {r["status"] for r in mine} == {"fulfilled", "cancelled"}


async def test_another_community_gets_404_for_rewards(client, world):
    reward = await make_reward(client, world)
    assert_error(await client.get(f"{P}/rewards/{reward['id']}", headers=world.headers("resident_c")), 404)
    assert_error(await client.post(f"{P}/rewards/{reward['id']}/redeem", headers=world.headers("resident_c")), 404)
    assert (await client.get(f"{P}/rewards", headers=world.headers("resident_c"))).json()["items"] == []
    assert len((await client.get(f"{P}/rewards", headers=world.headers("resident_b"))).json()["items"]) == 1


async def test_stock_changes_by_delta_never_below_zero(client, world):
    reward = await make_reward(client, world, stock=2)
    url = f"{P}/rewards/{reward['id']}"
    assert_error(await client.patch(url, headers=world.headers("admin_c1"),
                                    json={"expected_version": 1, "add_stock": -3}), 409, "out_of_stock")
    resp = await client.patch(url, headers=world.headers("admin_c1"), json={"expected_version": 1, "add_stock": 5})
    assert resp.json()["stock"] == 7 and resp.json()["version"] == 2
