"""Tokens issued through an app: its scopes limit what they may call (403 client_scope_missing); suspending the
app refuses them on their next request (403 client_suspended); first-party tokens are unrestricted."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from app.auth.principal_cache import principal_listener
from app.clients.models import ApiClient
from app.core.security import issue_token
from tests.clients.factories import make_client
from tests.factories import PASSWORD
from tests.helpers import assert_error

BASE = "/api/v1/admin/clients"


async def _sign_in(client, user, client_id: str | None) -> dict[str, str]:
    headers = {"X-Client-Id": client_id} if client_id else {}
    resp = await client.post("/api/v1/auth/token", data={"username": user.phone, "password": PASSWORD},
                             headers=headers)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def _app(db, world, scopes):
    async with db.session(write=True) as s:
        row, _ = await make_client(s, world.c1.id, scopes=scopes)
    return row


def _report(world):
    return {"category_id": world.cat.id, "title": "路灯坏了", "description": "晚上很黑"}


async def test_out_of_scope_is_403_and_in_scope_works(client, world, db):
    app_row = await _app(db, world, ["reports:read"])
    h = await _sign_in(client, world.users["resident_a"], app_row.client_id)
    assert (await client.get("/api/v1/reports", headers=h)).status_code == 200
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200          # needs no scope
    assert (await client.get("/api/v1/announcements", headers=h)).status_code == 200
    err = assert_error(await client.post("/api/v1/reports", json=_report(world), headers=h), 403,
                       "client_scope_missing")
    assert err["details"] == {"scope": "reports:write"}
    err = assert_error(await client.get("/api/v1/bookings/mine", headers=h), 403, "client_scope_missing")
    assert err["details"] == {"scope": "bookings:read | bookings:write"}
    assert_error(await client.get("/api/v1/notifications", headers=h), 403, "client_scope_missing")


async def test_a_first_party_token_is_unrestricted(client, world):
    h = await _sign_in(client, world.users["resident_a"], None)
    for path in ("/api/v1/reports", "/api/v1/bookings/mine", "/api/v1/notifications", "/api/v1/groups"):
        assert (await client.get(path, headers=h)).status_code == 200, path


async def test_admin_routes_are_first_party_only(client, world, db):
    app_row = await _app(db, world, sorted(["reports:read", "reports:write", "bookings:read", "bookings:write",
                                            "groups:write", "deliberation:write", "notifications:read", "open311"]))
    h = await _sign_in(client, world.users["admin_c1"], app_row.client_id)
    err = assert_error(await client.get(BASE, headers=h), 403, "client_scope_missing")
    assert err["details"] == {"scope": "first_party"}
    assert_error(await client.get("/api/v1/stats/figures", headers=h), 403, "client_scope_missing")
    first = await _sign_in(client, world.users["admin_c1"], None)
    assert (await client.get(BASE, headers=first)).status_code == 200


async def test_suspension_refuses_the_apps_tokens_at_once_and_reactivation_restores(client, world, db):
    admin = world.headers("admin_c1")
    made = (await client.post(BASE, headers=admin, json={
        "grid_id": world.c1.id, "name": "x", "kind": "web", "scopes": ["reports:read"]})).json()
    h = await _sign_in(client, world.users["resident_a"], made["client_id"])
    other = await _sign_in(client, world.users["resident_b"], None)
    assert (await client.get("/api/v1/reports", headers=h)).status_code == 200
    assert (await client.post(f"{BASE}/{made['id']}/suspend", json={"expected_version": 1},
                              headers=admin)).status_code == 200
    assert_error(await client.get("/api/v1/reports", headers=h), 403, "client_suspended")
    assert_error(await client.get("/api/v1/me", headers=h), 403, "client_suspended")
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200  # first party: untouched
    assert (await client.post(f"{BASE}/{made['id']}/reactivate", json={"expected_version": 2},
                              headers=admin)).status_code == 200
    assert (await client.get("/api/v1/reports", headers=h)).status_code == 200


async def test_narrowing_scopes_applies_to_issued_tokens(client, world, db):
    admin = world.headers("admin_c1")
    made = (await client.post(BASE, headers=admin, json={
        "grid_id": world.c1.id, "name": "x", "kind": "web", "scopes": ["reports:read", "bookings:read"]})).json()
    h = await _sign_in(client, world.users["resident_a"], made["client_id"])
    assert (await client.get("/api/v1/bookings/mine", headers=h)).status_code == 200
    assert (await client.patch(f"{BASE}/{made['id']}", json={"expected_version": 1, "scopes": ["reports:read"]},
                               headers=admin)).status_code == 200
    assert_error(await client.get("/api/v1/bookings/mine", headers=h), 403, "client_scope_missing")
    # widening does not reach a token issued with fewer scopes
    assert (await client.patch(f"{BASE}/{made['id']}", headers=admin, json={
        "expected_version": 2, "scopes": ["reports:read", "bookings:read", "groups:write"]})).status_code == 200
    assert_error(await client.get("/api/v1/groups", headers=h), 403, "client_scope_missing")


async def test_token_of_an_unknown_app_is_refused(client, world, settings):
    user = world.users["resident_a"]
    token = issue_token(settings, settings.jwt_secret, user_id=user.id, role=user.role, typ="access",
                        client_id="wlc_nosuchclient0000", scopes=("reports:read",)).token
    assert_error(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401,
                 "client_unknown")


# ---- PostgreSQL: the principal cache hears of a suspension made by another process ----------------------


@pytest.fixture
async def listening(app, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite the principal is read on every request")
    listener = principal_listener(settings, app.state.principals)
    listener.retry = listener.ping = 0.1
    await listener.start()
    await asyncio.wait_for(listener.listening.wait(), 5)
    yield listener
    await listener.stop()


async def test_suspension_elsewhere_reaches_a_cached_principal(app, client, world, db, listening):
    app_row = await _app(db, world, ["reports:read"])
    h = await _sign_in(client, world.users["resident_a"], app_row.client_id)
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    assert len(app.state.principals) >= 1  # cached: the next request would not read the rows
    async with db.session(write=True) as s:  # as another API process would
        await s.execute(update(ApiClient).where(ApiClient.id == app_row.id).values(status="suspended"))
    for _ in range(100):
        resp = await client.get("/api/v1/me", headers=h)
        if resp.status_code == 403:
            break
        await asyncio.sleep(0.02)
    assert_error(resp, 403, "client_suspended")


async def test_in_scope_write_works(client, world, db):
    app_row = await _app(db, world, ["reports:write"])
    h = await _sign_in(client, world.users["resident_a"], app_row.client_id)
    resp = await client.post("/api/v1/reports", json=_report(world), headers=h)
    assert resp.status_code == 201, resp.text
    assert (await client.get(f"/api/v1/reports/{resp.json()['id']}", headers=h)).status_code == 200


async def test_a_malformed_client_header_is_refused(client, world):
    resp = await client.post("/api/v1/auth/token", headers={"X-Client-Id": "w" * 41},
                             data={"username": world.users["resident_a"].phone, "password": PASSWORD})
    assert_error(resp, 422, "validation_error")


@pytest.mark.parametrize("change", ["suspended", "scope withdrawn"])
async def test_a_live_stream_of_an_app_token_ends(app, client, world, db, change):
    from tests.support.asgi_stream import AsgiStream

    app_row = await _app(db, world, ["notifications:read", "reports:read"])
    h = await _sign_in(client, world.users["resident_a"], app_row.client_id)
    before = app.state.settings
    app.state.settings = before.model_copy(update={"stream_heartbeat_seconds": 0.2})
    try:
        async with AsgiStream(app, "/api/v1/notifications/stream", h) as stream:
            assert stream.status == 200
            await stream.read_until(b"retry: ")
            values = {"status": "suspended"} if change == "suspended" else {"scopes": ["reports:read"]}
            async with db.session(write=True) as s:
                await s.execute(update(ApiClient).where(ApiClient.id == app_row.id).values(**values))
            app.state.principals.forget("*")  # what the PostgreSQL listener does on that commit
            rest = await stream.rest(within=3)
    finally:
        app.state.settings = before
    assert b"event: end" in rest
