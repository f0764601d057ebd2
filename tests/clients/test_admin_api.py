"""The admin API of registered apps through HTTP: register (secret once), list, read, change, rotate, suspend,
reactivate; scope of admins; validation; audit."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.clients import service
from app.clients.errors import ClientSecretInvalid
from app.clients.models import ApiClient
from tests.helpers import assert_error

BASE = "/api/v1/admin/clients"


def _body(world, **over):
    return {"grid_id": world.c1.id, "name": "社区小程序", "kind": "mini_program",
            "origins": ["https://App.Example.com:443", "http://localhost:5173"], "scopes": ["reports:write",
                                                                                         "reports:read"],
            "wechat_appid": "wx0123456789abcdef", **over}


async def register(client, world, who="admin_c1", **over):
    resp = await client.post(BASE, json=_body(world, **over), headers=world.headers(who))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_register_shows_the_secret_once_and_stores_its_hash(client, world, db):
    created = await register(client, world)
    assert created["client_id"].startswith("wlc_") and created["secret"].startswith(created["client_id"] + ".")
    assert created["origins"] == ["https://app.example.com", "http://localhost:5173"]
    assert created["scopes"] == ["reports:read", "reports:write"] and created["status"] == "active"
    assert created["version"] == 1 and created["grid_id"] == world.c1.id
    assert created["created_by"] == world.users["admin_c1"].id
    got = await client.get(f"{BASE}/{created['id']}", headers=world.headers("admin_c1"))
    assert got.status_code == 200 and "secret" not in got.json() and "secret_hash" not in got.json()
    listed = (await client.get(BASE, headers=world.headers("admin_c1"))).json()["items"]
    assert [c["id"] for c in listed] == [created["id"]] and "secret" not in listed[0]
    async with db.session(write=False) as s:
        row = (await s.execute(select(ApiClient).where(ApiClient.id == created["id"]))).scalar_one()
        assert created["secret"] not in row.secret_hash and len(row.secret_hash) == 64
        assert (await service.authenticate_secret(s, created["secret"])).id == created["id"]
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.object_type == "api_client"))).scalars().all()
    assert [a.action for a in audit] == ["api_client.register"]
    assert created["secret"] not in str(audit[0].details)


async def test_validation(client, world, db):
    cases = [
        ({"origins": ["https://*.example.com"]}, "client_origin_invalid"),
        ({"origins": ["https://a.example/path"]}, "client_origin_invalid"),
        ({"origins": ["ftp://a.example"]}, "client_origin_invalid"),
        ({"scopes": ["reports:read", "admin"]}, "validation_error"),
        ({"scopes": []}, "validation_error"),
        ({"kind": "desktop"}, "validation_error"),
        ({"wechat_appid": "not-an-appid"}, "validation_error"),
        ({"secret_hash": "x"}, "validation_error"),
        ({"status": "suspended"}, "validation_error"),
        ({"name": ""}, "validation_error"),
        ({"grid_id": world.g1.id}, "invalid_reference"),    # a grid, not a community or street
        ({"grid_id": world.c2.id}, "invalid_reference"),    # out of scope
        ({"grid_id": 10**12}, "invalid_reference"),
    ]
    for over, code in cases:
        err = assert_error(await client.post(BASE, json=_body(world, **over), headers=world.headers("admin_c1")),
                           422, code)
        if code == "client_origin_invalid":
            assert err["details"]["field"] == "origins" and err["details"]["reason"]
    async with db.session(write=False) as s:
        assert (await s.execute(select(ApiClient))).first() is None


async def test_who_may_manage(client, world):
    mine = await register(client, world)
    street = await register(client, world, who="admin_street", grid_id=world.street.id, wechat_appid=None)
    # the street admin sees both; the other community's admin neither; non-admins are refused early
    ids = {c["id"] for c in (await client.get(BASE, headers=world.headers("admin_street"))).json()["items"]}
    assert ids == {mine["id"], street["id"]}
    assert (await client.get(BASE, headers=world.headers("admin_c2"))).json()["items"] == []
    for path in (f"{BASE}/{mine['id']}", f"{BASE}/{street['id']}"):
        assert_error(await client.get(path, headers=world.headers("admin_c2")), 404, "not_found")
    assert_error(await client.get(f"{BASE}/{street['id']}", headers=world.headers("admin_c1")), 404, "not_found")
    assert_error(await client.post(f"{BASE}/{mine['id']}/rotate-secret", headers=world.headers("admin_c2")), 404)
    for who in ("resident_a", "worker_in", "dept_in"):
        assert_error(await client.get(BASE, headers=world.headers(who)), 403, "forbidden")
        assert_error(await client.post(BASE, json=_body(world), headers=world.headers(who)), 403, "forbidden")
    assert_error(await client.get(BASE), 401)


async def test_list_filters_and_pagination(client, world):
    made = [await register(client, world, name=f"app{i}", wechat_appid=None,
                           kind="web" if i % 2 else "mini_program") for i in range(5)]
    await client.post(f"{BASE}/{made[0]['id']}/suspend", json={"expected_version": 1},
                      headers=world.headers("admin_c1"))
    seen, cursor = [], None
    while True:
        page = (await client.get(BASE, params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                 headers=world.headers("admin_c1"))).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [m["id"] for m in made]
    web = (await client.get(BASE, params={"kind": "web"}, headers=world.headers("admin_c1"))).json()["items"]
    assert [c["id"] for c in web] == [made[1]["id"], made[3]["id"]]
    off = (await client.get(BASE, params={"status": "suspended"}, headers=world.headers("admin_c1"))).json()
    assert [c["id"] for c in off["items"]] == [made[0]["id"]]
    by_grid = (await client.get(BASE, params={"grid_id": world.street.id}, headers=world.headers("admin_c1"))).json()
    assert by_grid["items"] == []
    assert_error(await client.get(BASE, params={"status": "gone"}, headers=world.headers("admin_c1")), 422)
    assert_error(await client.get(BASE, params={"cursor": "garbage"}, headers=world.headers("admin_c1")), 400)


async def test_update(client, world, db):
    made = await register(client, world)
    url, h = f"{BASE}/{made['id']}", world.headers("admin_c1")
    resp = await client.patch(url, json={"expected_version": 1, "name": "新名字", "origins": ["https://b.example"],
                                         "scopes": ["bookings:write"], "wechat_appid": None}, headers=h)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert (got["name"], got["origins"], got["scopes"], got["wechat_appid"], got["version"]) == \
        ("新名字", ["https://b.example"], ["bookings:write"], None, 2)
    err = assert_error(await client.patch(url, json={"expected_version": 1, "name": "x"}, headers=h), 409,
                       "stale_version")
    assert err["details"] == {"current_version": 2, "state": "active"}
    # a stale version is reported before a bad origin
    assert_error(await client.patch(url, json={"expected_version": 1, "origins": ["*"]}, headers=h), 409)
    assert_error(await client.patch(url, json={"expected_version": 2, "origins": ["*"]}, headers=h), 422,
                 "client_origin_invalid")
    assert_error(await client.patch(url, json={"expected_version": 2, "scopes": ["nope"]}, headers=h), 422,
                 "validation_error")
    assert_error(await client.patch(url, json={"expected_version": 2, "client_id": "wlc_x"}, headers=h), 422)
    async with db.session(write=False) as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.object_type == "api_client")
                                   .order_by(AuditEntry.id))).scalars().all()
    assert actions == ["api_client.register", "api_client.update"]


async def test_wechat_appid_is_unique(client, world):
    await register(client, world)
    assert_error(await client.post(BASE, json=_body(world), headers=world.headers("admin_c1")), 409, "conflict")
    other = await register(client, world, wechat_appid="wx00000000000000aa")
    assert_error(await client.patch(f"{BASE}/{other['id']}", json={"expected_version": 1,
                                                                   "wechat_appid": "wx0123456789abcdef"},
                                    headers=world.headers("admin_c1")), 409, "conflict")


async def test_rotate_secret_stops_the_old_one_at_once(client, world, db):
    made = await register(client, world)
    resp = await client.post(f"{BASE}/{made['id']}/rotate-secret", headers=world.headers("admin_c1"))
    assert resp.status_code == 200, resp.text
    rotated = resp.json()
    assert rotated["secret"] != made["secret"] and rotated["secret"].startswith(made["client_id"] + ".")
    assert rotated["version"] == 2 and rotated["client_id"] == made["client_id"]
    async with db.session(write=False) as s:
        assert (await service.authenticate_secret(s, rotated["secret"])).id == made["id"]
        try:
            await service.authenticate_secret(s, made["secret"])
            raise AssertionError("the old secret still works")
        except ClientSecretInvalid:
            pass


async def test_suspend_and_reactivate(client, world, db):
    made = await register(client, world)
    url, h = f"{BASE}/{made['id']}", world.headers("admin_c1")
    assert_error(await client.post(f"{url}/suspend", json={"expected_version": 7}, headers=h), 409, "stale_version")
    resp = await client.post(f"{url}/suspend", json={"expected_version": 1}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "suspended" and resp.json()["version"] == 2
    assert_error(await client.post(f"{url}/suspend", json={"expected_version": 2}, headers=h), 409, "conflict")
    resp = await client.post(f"{url}/reactivate", json={"expected_version": 2}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "active"
    async with db.session(write=False) as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.object_type == "api_client")
                                   .order_by(AuditEntry.id))).scalars().all()
    assert actions == ["api_client.register", "api_client.suspend", "api_client.reactivate"]


async def test_concurrent_suspensions_one_wins(client, world, app):
    """Two admins suspend with the same version at once: one 200, one 409 stale_version (both databases)."""
    made = await register(client, world)
    import httpx

    async def one():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.post(f"{BASE}/{made['id']}/suspend", json={"expected_version": 1},
                                headers=world.headers("admin_c1"))

    answers = sorted(r.status_code for r in await asyncio.gather(one(), one()))
    assert answers == [200, 409]


async def test_concurrent_registrations_of_one_wechat_appid_one_wins(client, world, app, db):
    """The unique constraint decides: one 201, one 409 conflict, one row (both databases)."""
    import httpx

    async def one(name):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.post(BASE, json=_body(world, name=name), headers=world.headers("admin_c1"))

    answers = await asyncio.gather(one("甲"), one("乙"))
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    assert [r.json()["error"]["details"] for r in answers if r.status_code == 409] == [{"reason": "wechat_appid_taken"}]
    async with db.session(write=False) as s:
        assert len((await s.execute(select(ApiClient.id))).all()) == 1
