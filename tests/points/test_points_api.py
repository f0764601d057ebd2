"""Points through the HTTP API: earning rules, pact awards, adjustments, the history, the published ranking and
opting out of it. The balance always equals the sum of the entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.points.enums import Period
from app.points.models import PointAccount, PointEntry
from app.points.ranking import CHINA, period_bounds, ranks
from tests.helpers import assert_error
from tests.points.factories import give_points

P = "/api/v1/points"


async def _pact_item(client, world, points: int = 5) -> dict:
    resp = await client.post(f"{P}/pact-items", headers=world.headers("admin_c1"),
                             json={"community_id": world.c1.id, "name": "垃圾分类示范户", "points": points})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_pact_awards_and_adjustments_keep_balance_equal_to_the_ledger(client, app, world):
    item = await _pact_item(client, world)
    uid = world.users["resident_a"].id
    resp = await client.post(f"{P}/pact-awards", headers=world.headers("admin_c1"),
                             json={"pact_item_id": item["id"], "user_id": uid, "note": "连续三个月分类准确"})
    assert resp.status_code == 201 and resp.json()["balance_after"] == 5
    assert_error(await client.post(f"{P}/adjustments", headers=world.headers("admin_c1"), json={
        "user_id": uid, "community_id": world.c1.id, "amount": -6, "reason": "误发"}), 409, "insufficient_points")
    await give_points(client, world, "resident_a", -2)
    await give_points(client, world, "resident_a", 7)
    me = (await client.get(f"{P}/me", headers=world.headers("resident_a"))).json()
    entries = (await client.get(f"{P}/me/entries", headers=world.headers("resident_a"), params={"limit": 2})).json()
    rest = (await client.get(f"{P}/me/entries", headers=world.headers("resident_a"),
                             params={"cursor": entries["next_cursor"]})).json()
    amounts = [e["amount"] for e in entries["items"] + rest["items"]]
    assert amounts == [7, -2, 5] and me["balance"] == sum(amounts) == 10
    assert entries["items"][0]["balance_after"] == 10
    async with app.state.db.session(write=False) as s:
        total = (await s.execute(select(func.sum(PointEntry.amount)).where(PointEntry.user_id == uid))).scalar_one()
        balance = (await s.execute(select(PointAccount.balance).where(PointAccount.user_id == uid))).scalar_one()
    assert total == balance == 10


async def test_staff_act_on_residents_of_their_scope_only(client, world):
    item = await _pact_item(client, world)
    assert_error(await client.post(f"{P}/pact-awards", headers=world.headers("admin_c2"), json={
        "pact_item_id": item["id"], "user_id": world.users["resident_a"].id, "note": "x"}), 422, "invalid_reference")
    assert_error(await client.post(f"{P}/adjustments", headers=world.headers("admin_c1"), json={
        "user_id": world.users["resident_c"].id, "community_id": world.c1.id, "amount": 5, "reason": "x"}), 422,
        "invalid_reference")
    assert_error(await client.post(f"{P}/adjustments", headers=world.headers("resident_a"), json={
        "user_id": world.users["resident_a"].id, "community_id": world.c1.id, "amount": 5, "reason": "x"}), 403)


async def test_rules_are_read_by_the_community_and_set_by_its_admins(client, world):
    resp = await client.put(f"{P}/rules", headers=world.headers("admin_c1"),
                            json={"community_id": world.c1.id, "points_per_hour": 12})
    assert resp.json()["points_per_hour"] == 12
    await _pact_item(client, world, points=3)
    rules = (await client.get(f"{P}/rules", params={"community_id": world.c1.id},
                              headers=world.headers("resident_b"))).json()
    assert rules["points_per_hour"] == 12 and [i["points"] for i in rules["pact_items"]] == [3]
    assert_error(await client.get(f"{P}/rules", params={"community_id": world.c1.id},
                                  headers=world.headers("resident_c")), 404)


async def test_ranking_by_display_name_and_opting_out_through_http(client, world):
    await give_points(client, world, "resident_a", 1)  # adjustments do not rank
    item = await _pact_item(client, world, points=5)
    for who in ("resident_a", "resident_b", "resident_b"):
        await client.post(f"{P}/pact-awards", headers=world.headers("admin_c1"), json={
            "pact_item_id": item["id"], "user_id": world.users[who].id, "note": "示范"})
    now = datetime.now(CHINA)
    month = {"period": "month", "year": now.year, "number": now.month}
    rows = (await client.get(f"{P}/ranking", params=month, headers=world.headers("resident_a"))).json()["rows"]
    names = [world.users[x].display_name for x in ("resident_b", "resident_a")]
    assert [(r["rank"], r["display_name"], r["points"]) for r in rows] == [(1, names[0], 10), (2, names[1], 5)]
    assert all(set(r) == {"rank", "display_name", "points"} for r in rows)
    quarter = {"period": "quarter", "year": now.year, "number": (now.month - 1) // 3 + 1}
    assert len((await client.get(f"{P}/ranking", params=quarter, headers=world.headers("resident_a")))
               .json()["rows"]) == 2
    resp = await client.put(f"{P}/me/publication", headers=world.headers("resident_b"),
                            json={"hide_from_ranking": True})
    assert resp.json()["hide_from_ranking"] is True
    rows = (await client.get(f"{P}/ranking", params=month, headers=world.headers("resident_a"))).json()["rows"]
    assert [r["display_name"] for r in rows] == [names[1]]
    # a resident reads their own community's ranking; another community's is not found
    other = await client.get(f"{P}/ranking", params=month, headers=world.headers("resident_c"))
    assert other.json()["community_id"] == world.c2.id and other.json()["rows"] == []
    assert_error(await client.get(f"{P}/ranking", params={**month, "community_id": world.c1.id},
                                  headers=world.headers("resident_c")), 404)
    assert (await client.get(f"{P}/ranking", params={**month, "community_id": world.c1.id},
                             headers=world.headers("admin_c1"))).json()["rows"][0]["display_name"] == names[1]
    assert_error(await client.get(f"{P}/ranking", params={**month, "community_id": world.c1.id},
                                  headers=world.headers("admin_c2")), 404)


def test_periods_are_calendar_months_and_quarters_in_china_time():
    start, end = period_bounds(Period.quarter, 2026, 4)
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC) and end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    start, end = period_bounds(Period.month, 2026, 12)
    assert (start.month, end.year, end.month) == (11, 2026, 12)
    assert ranks([10, 7, 7, 3]) == [1, 2, 2, 4]


async def test_the_ledger_is_insert_only_on_postgresql(client, app, world, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite, the embedded single-user default, has no database-level guard")
    await give_points(client, world, "resident_a", 5)
    for statement in ("UPDATE point_entries SET amount = 500", "DELETE FROM point_entries",
                      "TRUNCATE point_entries CASCADE"):
        with pytest.raises(DBAPIError, match="insert-only"):
            async with app.state.db.engine.begin() as conn:
                await conn.execute(text(statement))
