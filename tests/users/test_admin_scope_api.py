"""Admins manage only accounts strictly below their scope; a grid worker of two communities is the street's
(issue 13, item 5)."""

from __future__ import annotations

from tests.factories import PASSWORD
from tests.helpers import assert_error

USERS = "/api/v1/admin/users"


async def _new_admin(client, headers, phone: str, scope_grid_id: int):
    return await client.post(USERS, headers=headers, json={
        "phone": phone, "password": PASSWORD, "display_name": "新管理员", "role": "admin",
        "scope_grid_id": scope_grid_id})


async def test_an_admin_cannot_create_an_equal_who_could_then_disable_them(client, world):
    h = world.headers("admin_c1")
    assert_error(await _new_admin(client, h, "13500000001", world.c1.id), 422, "invalid_reference")
    below = await _new_admin(client, h, "13500000002", world.g1.id)
    assert below.status_code == 201, below.text
    # and the street admin may create a community admin (strictly below the street)
    assert (await _new_admin(client, world.headers("admin_street"), "13500000003", world.c1.id)).status_code == 201


async def test_a_community_admin_cannot_disable_another_community_admin_of_equal_level(client, world):
    resp = await client.patch(f"{USERS}/{world.users['admin_c2'].id}", headers=world.headers("admin_c1"),
                              json={"is_active": False})
    assert_error(resp, 404, "not_found")


async def _worker_of_two_communities(client, world) -> int:
    resp = await client.post(USERS, headers=world.headers("admin_street"), json={
        "phone": "13500000009", "password": PASSWORD, "display_name": "双社区网格员", "role": "grid_worker",
        "grid_ids": [world.g1.id, world.g2.id]})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def test_a_worker_bound_in_two_communities_is_not_disabled_by_one_community(client, world):
    uid = await _worker_of_two_communities(client, world)
    for who in ("admin_c1", "admin_c2"):
        assert_error(await client.patch(f"{USERS}/{uid}", headers=world.headers(who), json={"is_active": False}),
                     404, "not_found")
        assert_error(await client.get(f"{USERS}/{uid}", headers=world.headers(who)), 404, "not_found")
    resp = await client.patch(f"{USERS}/{uid}", headers=world.headers("admin_street"), json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False


async def test_a_community_admin_changes_only_the_bindings_inside_its_scope(client, world, app, settings):
    uid = await _worker_of_two_communities(client, world)
    async with app.state.db.session(write=True) as s:
        from app.org import service as org_service
        from app.org.models import GridLevel

        g1b = await org_service.add_node(s, parent=world.c1, level=GridLevel.grid, name="第二网格", code="g1b")
    h = world.headers("admin_c1")
    resp = await client.patch(f"{USERS}/{uid}", headers=h, json={"grid_ids": [g1b.id]})
    assert resp.status_code == 200, resp.text
    assert sorted(resp.json()["grid_ids"]) == sorted([g1b.id, world.g2.id])  # g2 (community 2) kept
    # a grid outside its scope cannot be added by it
    assert_error(await client.patch(f"{USERS}/{uid}", headers=h, json={"grid_ids": [world.g2.id]}),
                 422, "invalid_reference")
    # removing all of its own: the worker keeps community 2's grid
    resp = await client.patch(f"{USERS}/{uid}", headers=h, json={"grid_ids": []})
    assert resp.status_code == 200 and resp.json()["grid_ids"] == [world.g2.id]
