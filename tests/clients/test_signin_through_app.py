"""Tokens issued through an app (X-Client-Id) carry its client id and scopes; refresh keeps them."""

from __future__ import annotations

from app.core.security import decode_token
from tests.clients.factories import make_client
from tests.factories import PASSWORD
from tests.helpers import assert_error


async def _login(client, phone, **headers):
    return await client.post("/api/v1/auth/token", data={"username": phone, "password": PASSWORD}, headers=headers)


async def test_login_through_an_app_carries_cid_and_scp(client, world, db, settings):
    async with db.session(write=True) as s:
        app_row, _ = await make_client(s, world.c1.id, scopes=["reports:write", "reports:read"])
    resp = await _login(client, world.users["resident_a"].phone, **{"X-Client-Id": app_row.client_id})
    assert resp.status_code == 200, resp.text
    tokens = resp.json()
    access = decode_token(settings, settings.jwt_secret, tokens["access_token"], expected="access")
    refresh = decode_token(settings, settings.jwt_secret, tokens["refresh_token"], expected="refresh")
    assert access.cid == refresh.cid == app_row.client_id
    assert access.scp == refresh.scp == ("reports:read", "reports:write")
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200, again.text
    renewed = decode_token(settings, settings.jwt_secret, again.json()["access_token"], expected="access")
    assert renewed.cid == app_row.client_id and renewed.scp == ("reports:read", "reports:write")


async def test_first_party_login_has_no_client_claims(client, world, settings):
    resp = await _login(client, world.users["resident_a"].phone)
    access = decode_token(settings, settings.jwt_secret, resp.json()["access_token"], expected="access")
    assert access.cid is None and access.scp is None


async def test_unknown_or_suspended_app_cannot_sign_in(client, world, db):
    async with db.session(write=True) as s:
        off, _ = await make_client(s, world.c1.id, status="suspended")
    phone = world.users["resident_a"].phone
    assert_error(await _login(client, phone, **{"X-Client-Id": "wlc_nosuchclient0000"}), 401, "client_unknown")
    assert_error(await _login(client, phone, **{"X-Client-Id": off.client_id}), 403, "client_suspended")


async def test_refresh_of_a_suspended_apps_sign_in_is_refused(client, world, db):
    async with db.session(write=True) as s:
        app_row, _ = await make_client(s, world.c1.id)
    tokens = (await _login(client, world.users["resident_a"].phone, **{"X-Client-Id": app_row.client_id})).json()
    async with db.session(write=True) as s:
        from sqlalchemy import update

        from app.clients.models import ApiClient
        await s.execute(update(ApiClient).where(ApiClient.id == app_row.id).values(status="suspended"))
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
                 403, "client_suspended")
