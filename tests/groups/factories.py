"""Group and activity factories through the HTTP API, and extra residents made directly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.org.models import Grid
from app.users.models import Role, User
from tests.factories import World, make_user

_n = itertools.count(1000)


async def residents(app, world: World, count: int, building: Grid | None = None) -> list[User]:
    """`count` new residents of one building (b1: community 1 by default)."""
    b = building or world.b1
    async with app.state.db.session(write=True) as s:
        return [await make_user(s, world.settings, Role.resident, next(_n), building_id=b.id) for _ in range(count)]


async def make_group(client: httpx.AsyncClient, world: World, *, admin: str = "admin_c1", community: Grid | None = None,
                     join_policy: str = "open", member_cap: int | None = None, leaders: tuple[str, ...] = (),
                     kind: str = "interest", name: str | None = None) -> dict[str, Any]:
    body = {"community_id": (community or world.c1).id, "kind": kind, "name": name or f"合唱团{next(_n)}",
            "join_policy": join_policy, "member_cap": member_cap,
            "leader_ids": [world.users[x].id for x in leaders]}
    resp = await client.post("/api/v1/groups", headers=world.headers(admin), json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def soon(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def make_activity(client: httpx.AsyncClient, world: World, *, by: str = "admin_c1", group_id: int | None = None,
                        community: Grid | None = None, capacity: int = 10, visibility: str = "public",
                        volunteer: bool = False, starts_in_hours: float = 48,
                        deadline_in_hours: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": f"社区活动{next(_n)}", "place": "活动室", "starts_at": soon(starts_in_hours),
                            "ends_at": soon(starts_in_hours + 2), "capacity": capacity, "visibility": visibility,
                            "is_volunteer_service": volunteer}
    if deadline_in_hours is not None:
        body["signup_deadline"] = soon(deadline_in_hours)
    if group_id is not None:
        body["group_id"] = group_id
    else:
        body["community_id"] = (community or world.c1).id
    resp = await client.post("/api/v1/activities", headers=world.headers(by), json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()
