"""Admin management of accounts through HTTP: bindings inside scope, visibility, self-protection, deactivation."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import RefreshToken
from app.users.models import User, UserGrid
from tests.factories import PASSWORD
from tests.helpers import assert_error

USERS = "/api/v1/admin/users"
NEW = {"phone": "13700000001", "password": "a-good-pass-1", "display_name": "新账号"}


async def _snapshot(db) -> tuple[int, int, int]:
    async with db.session(write=False) as s:
        return tuple([(await s.execute(select(func.count()).select_from(m))).scalar_one()
                      for m in (User, UserGrid, AuditEntry)])


async def _walk(client, headers: dict, limit: int = 2, **params) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        resp = await client.get(USERS, headers=headers,
                                params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        ids += [u["id"] for u in resp.json()["items"]]
        cursor = resp.json()["next_cursor"]
        if cursor is None:
            assert len(ids) == len(set(ids)), ids
            return ids


async def _login(client, phone: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/token", data={"username": phone, "password": password})


def _ids(world, *names: str) -> set[int]:
    return {world.users[n].id for n in names}


async def test_admin_creates_every_role_bound_inside_scope_with_audit(client, world, db):
    h = world.headers("admin_c1")
    dept = await client.post("/api/v1/admin/departments", headers=h,
                             json={"grid_id": world.c1.id, "name": "社区一物业", "code": "c1-pm"})
    assert dept.status_code == 201, dept.text
    plans = [
        ({"role": "grid_worker", "grid_ids": [world.g1.id, world.g1.id]},
         {"grid_ids": [world.g1.id], "building_id": None, "scope_grid_id": None}),
        ({"role": "department", "department_id": dept.json()["id"]}, {"department_id": dept.json()["id"]}),
        ({"role": "admin", "scope_grid_id": world.g1.id}, {"scope_grid_id": world.g1.id, "grid_ids": []}),
        ({"role": "resident", "building_id": world.b2.id, "is_building_lead": True},
         {"building_id": world.b2.id, "community_id": world.c1.id, "is_building_lead": True}),
    ]
    for i, (binding, expected) in enumerate(plans):
        phone = f"1370000000{i}"
        resp = await client.post(USERS, headers=h, json={**NEW, "phone": phone, **binding})
        assert resp.status_code == 201, resp.text
        user = resp.json()
        assert user["role"] == binding["role"] and user["phone"] == phone and user["is_active"] is True
        assert {k: user[k] for k in expected} == expected
        assert "password" not in resp.text and "hash" not in resp.text
        async with db.session(write=False) as s:
            [entry] = (await s.execute(select(AuditEntry).where(AuditEntry.action == "user.create",
                                                                AuditEntry.object_id == user["id"]))).scalars()
        assert entry.actor_id == world.users["admin_c1"].id and entry.details == {"role": binding["role"]}
        assert "a-good-pass-1" not in str(entry.details)
        # the new account can log in, and the creator can read it back
        assert (await _login(client, phone, "a-good-pass-1")).status_code == 200
        assert (await client.get(f"{USERS}/{user['id']}", headers=h)).json() == user


async def test_binding_outside_scope_is_422_and_writes_nothing(client, world, db):
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    for binding in (
        {"role": "grid_worker", "grid_ids": [world.g2.id]},
        {"role": "grid_worker", "grid_ids": [world.g1.id, world.g2.id]},  # partly outside
        {"role": "resident", "building_id": world.b3.id},
        {"role": "department", "department_id": world.d2.id},
        {"role": "department", "department_id": world.d1.id},             # owned by the street above
        {"role": "admin", "scope_grid_id": world.street.id},               # wider than its own scope
        {"role": "admin", "scope_grid_id": world.c2.id},
    ):
        assert_error(await client.post(USERS, headers=h, json={**NEW, **binding}), 422, "invalid_reference")
    assert await _snapshot(db) == before
    assert_error(await _login(client, NEW["phone"], NEW["password"]), 401)


async def test_wrong_binding_for_the_role_is_422(client, world, db):
    h = world.headers("admin_street")
    before = await _snapshot(db)
    cases = [
        ({"role": "grid_worker", "building_id": world.b1.id}, "validation_error"),     # a resident's binding
        ({"role": "grid_worker"}, "validation_error"),                                  # none at all
        ({"role": "grid_worker", "grid_ids": []}, "validation_error"),
        ({"role": "resident", "grid_ids": [world.g1.id]}, "validation_error"),
        ({"role": "resident", "building_id": world.b1.id, "scope_grid_id": world.c1.id}, "validation_error"),
        ({"role": "department", "scope_grid_id": world.street.id}, "validation_error"),
        ({"role": "admin", "department_id": world.d1.id}, "validation_error"),
        ({"role": "resident", "building_id": world.g1.id}, "invalid_reference"),       # not a building
        ({"role": "grid_worker", "grid_ids": [world.b1.id]}, "invalid_reference"),     # not a grid
        ({"role": "resident", "building_id": 2**53}, "invalid_reference"),
        ({"role": "superuser", "scope_grid_id": world.street.id}, "validation_error"),
        ({"role": "resident", "building_id": 2**70}, "validation_error"),
        ({"role": "resident", "building_id": world.b1.id, "is_active": False}, "validation_error"),  # unknown
    ]
    for binding, code in cases:
        assert_error(await client.post(USERS, headers=h, json={**NEW, **binding}), 422, code)
    for bad in ({"phone": "12345678901"}, {"password": "short"}, {"display_name": None}, {"phone": None}):
        body = {**NEW, "role": "resident", "building_id": world.b1.id, **bad}
        assert_error(await client.post(USERS, headers=h, json=body), 422, "validation_error")
    assert await _snapshot(db) == before


async def test_duplicate_phone_is_409(client, world, db):
    h = world.headers("admin_street")
    before = await _snapshot(db)
    body = {**NEW, "phone": world.users["resident_c"].phone, "role": "grid_worker", "grid_ids": [world.g1.id]}
    assert_error(await client.post(USERS, headers=h, json=body), 409, "phone_taken")
    assert await _snapshot(db) == before


async def test_admin_of_another_community_gets_404_but_the_street_admin_does_not(client, world, db):
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    for name in ("resident_c", "worker_out", "dept_out", "dept_in", "admin_c2", "admin_street"):
        uid = world.users[name].id
        assert_error(await client.get(f"{USERS}/{uid}", headers=h), 404, "not_found")
        assert_error(await client.patch(f"{USERS}/{uid}", headers=h, json={"display_name": "x"}), 404, "not_found")
        assert_error(await client.patch(f"{USERS}/{uid}", headers=h, json={"is_active": False}), 404, "not_found")
    assert_error(await client.get(f"{USERS}/{2**53}", headers=h), 404, "not_found")
    assert await _snapshot(db) == before
    hs = world.headers("admin_street")
    for name in ("resident_c", "worker_out", "dept_out", "admin_c2"):
        uid = world.users[name].id
        assert (await client.get(f"{USERS}/{uid}", headers=hs)).json()["id"] == uid
    resp = await client.patch(f"{USERS}/{world.users['resident_c'].id}", headers=hs, json={"display_name": "王五"})
    assert resp.status_code == 200 and resp.json()["display_name"] == "王五"
    for name in ("resident_a", "worker_in"):
        assert (await client.get(f"{USERS}/{world.users[name].id}", headers=h)).status_code == 200
    # an admin account of the same scope (here: their own) is not below them (issue 13, item 5)
    assert (await client.get(f"{USERS}/{world.users['admin_c1'].id}", headers=h)).status_code == 404


async def test_list_shows_only_accounts_in_scope_with_filters_and_pages(client, world):
    c1 = _ids(world, "resident_a", "resident_b", "worker_in")
    assert set(await _walk(client, world.headers("admin_c1"))) == c1
    assert set(await _walk(client, world.headers("admin_c2"))) == _ids(world, "resident_c", "worker_out", "dept_out")
    assert set(await _walk(client, world.headers("admin_street"), limit=3)) == \
        {u.id for u in world.users.values()} - {world.users["admin_street"].id}
    h = world.headers("admin_c1")
    assert set(await _walk(client, h, role="resident")) == _ids(world, "resident_a", "resident_b")
    assert set(await _walk(client, h, role="grid_worker")) == _ids(world, "worker_in")
    assert await _walk(client, h, role="department") == []
    assert set(await _walk(client, h, q="grid_worker")) == _ids(world, "worker_in")   # name substring
    assert set(await _walk(client, h, q=world.users["resident_b"].phone)) == _ids(world, "resident_b")  # phone
    assert await _walk(client, h, q=world.users["resident_c"].phone) == []              # outside scope
    assert set(await _walk(client, h, q="1390000000")) == c1                            # phone prefix
    assert set(await _walk(client, h, q="%")) == set()                                  # not a wildcard
    assert_error(await client.get(USERS, headers=h, params={"role": "root"}), 422, "validation_error")
    assert_error(await client.get(USERS, headers=h, params={"cursor": "garbage"}), 400, "invalid_cursor")


async def test_list_hides_inactive_unless_asked(client, world):
    h = world.headers("admin_c1")
    uid = world.users["resident_b"].id
    assert (await client.patch(f"{USERS}/{uid}", headers=h, json={"is_active": False})).status_code == 200
    assert uid not in await _walk(client, h)
    assert uid in await _walk(client, h, include_inactive=True)


async def test_admin_cannot_deactivate_or_rebind_itself(client, world, db):
    me = world.users["admin_c1"].id
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    # an admin is not below itself: through the admin API its own account is not found (issue 13, item 5)
    for body in ({"is_active": False}, {"is_active": True}, {"scope_grid_id": world.g1.id}, {"display_name": "x"}):
        assert_error(await client.patch(f"{USERS}/{me}", headers=h, json=body), 404, "not_found")
    assert await _snapshot(db) == before
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    # its own name is changed through /me
    resp = await client.patch("/api/v1/me", headers=h, json={"display_name": "管理员"})
    assert resp.status_code == 200 and resp.json()["display_name"] == "管理员"
    # and the street admin may deactivate it
    hs = world.headers("admin_street")
    assert (await client.patch(f"{USERS}/{me}", headers=hs, json={"is_active": False})).json()["is_active"] is False
    assert_error(await client.get("/api/v1/me", headers=h), 401)


async def test_deactivation_revokes_refresh_tokens(client, world, db):
    user = world.users["resident_a"]
    tokens = (await _login(client, user.phone)).json()
    h = world.headers("admin_c1")
    resp = await client.patch(f"{USERS}/{user.id}", headers=h, json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    async with db.session(write=False) as s:
        live = (await s.execute(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)))).scalar_one()
    assert live == 0
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_error(await _login(client, user.phone), 401, "account_disabled")
    # reactivated: the old refresh token stays dead (revoked, not merely refused while inactive); a new login works
    assert (await client.patch(f"{USERS}/{user.id}", headers=h, json={"is_active": True})).status_code == 200
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
                 401, "invalid_refresh_token")
    assert (await _login(client, user.phone)).status_code == 200


async def test_role_and_other_fields_cannot_be_changed_through_patch(client, world, db):
    uid = world.users["resident_a"].id
    h = world.headers("admin_street")
    before = await _snapshot(db)
    for body in ({"role": "admin"}, {"role": "admin", "scope_grid_id": world.street.id}, {"phone": "13700000009"},
                 {"password": "another-pass-1"}, {"community_id": world.c2.id}, {"id": 1},
                 {"display_name": None}, {"is_active": None}, {"building_id": None},
                 {"grid_ids": [world.g1.id]}, {"building_id": world.g1.id}):
        assert_error(await client.patch(f"{USERS}/{uid}", headers=h, json=body), 422)
    assert await _snapshot(db) == before
    me = (await client.get(f"{USERS}/{uid}", headers=h)).json()
    assert me["role"] == "resident" and me["building_id"] == world.b1.id and me["community_id"] == world.c1.id


async def test_rebinding_inside_scope_and_outside(client, world, db):
    h = world.headers("admin_c1")
    uid = world.users["resident_a"].id
    resp = await client.patch(f"{USERS}/{uid}", headers=h, json={"building_id": world.b2.id})
    assert resp.status_code == 200 and resp.json()["building_id"] == world.b2.id
    before = await _snapshot(db)
    assert_error(await client.patch(f"{USERS}/{uid}", headers=h, json={"building_id": world.b3.id}),
                 422, "invalid_reference")
    worker = world.users["worker_in"].id
    assert_error(await client.patch(f"{USERS}/{worker}", headers=h, json={"grid_ids": [world.g2.id]}),
                 422, "invalid_reference")
    assert await _snapshot(db) == before
    # the street admin moves the resident to the other community: community_id follows the building
    resp = await client.patch(f"{USERS}/{uid}", headers=world.headers("admin_street"),
                              json={"building_id": world.b3.id})
    assert resp.status_code == 200 and resp.json()["community_id"] == world.c2.id
    assert_error(await client.get(f"{USERS}/{uid}", headers=h), 404)   # now out of admin_c1's sight


async def test_staff_of_a_retired_department_stay_manageable(client, world):
    """Retiring a department must not lock its staff out of administration (they still need deactivating)."""
    hs = world.headers("admin_street")
    assert (await client.post(f"/api/v1/admin/departments/{world.d2.id}/retire", headers=hs)).status_code == 200
    uid = world.users["dept_out"].id
    resp = await client.get(f"{USERS}/{uid}", headers=hs)
    assert resp.status_code == 200, resp.text
    assert uid in await _walk(client, hs, role="department")   # list and detail agree
    resp = await client.patch(f"{USERS}/{uid}", headers=hs, json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert_error(await client.get(f"{USERS}/{uid}", headers=world.headers("admin_c1")), 404)
