"""Points factories through the HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import World


async def give_points(client: httpx.AsyncClient, world: World, who: str, amount: int, admin: str = "admin_c1",
                      community_id: int | None = None) -> dict[str, Any]:
    resp = await client.post("/api/v1/points/adjustments", headers=world.headers(admin), json={
        "user_id": world.users[who].id, "community_id": community_id or world.c1.id, "amount": amount,
        "reason": "测试发放"})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def make_reward(client: httpx.AsyncClient, world: World, *, cost: int = 10, stock: int = 5,
                      limit: int | None = None, admin: str = "admin_c1", community_id: int | None = None
                      ) -> dict[str, Any]:
    resp = await client.post("/api/v1/points/rewards", headers=world.headers(admin), json={
        "community_id": community_id or world.c1.id, "name": "早餐券", "cost": cost, "stock": stock,
        "per_resident_limit": limit})
    assert resp.status_code == 201, resp.text
    return resp.json()
