"""Consent to the privacy notice through the HTTP API: registration records it, a changed notice stops residents
(403 privacy_consent_required) until they accept it, and the notice is served in Chinese and English."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.auth.principal_cache import principal_listener
from app.privacy.models import PrivacyConsent
from app.users.models import User
from tests.factories import PASSWORD
from tests.helpers import assert_error, has_cjk


async def _consents(app, user_id: int) -> list[tuple[str, str]]:
    async with app.state.db.session(write=False) as s:
        rows = await s.execute(select(PrivacyConsent.version, PrivacyConsent.via)
                               .where(PrivacyConsent.user_id == user_id).order_by(PrivacyConsent.id))
        return [tuple(r) for r in rows]


async def test_notice_is_public_in_both_languages(client, world):
    resp = await client.get("/api/v1/privacy/notice")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == world.settings.privacy_notice_version
    assert has_cjk(body["text_zh"]) and "匿名居民" in body["text_zh"]
    assert not has_cjk(body["text_en"]) and "Anonymous resident" in body["text_en"]


async def test_registration_records_the_accepted_version(app, client, world):
    body = {"phone": "13512345670", "password": "a-good-pass-1", "display_name": "新居民",
            "building_id": world.b1.id, "privacy_notice_version": world.settings.privacy_notice_version}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 202
    async with app.state.db.session(write=False) as s:
        user = (await s.execute(select(User).where(User.phone == body["phone"]))).scalar_one()
    assert user.privacy_version == world.settings.privacy_notice_version
    assert await _consents(app, user.id) == [(world.settings.privacy_notice_version, "register")]
    token = (await client.post("/api/v1/auth/token", data={"username": body["phone"],
                                                           "password": body["password"]})).json()["access_token"]
    resp = await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text  # accepted at registration: nothing more to do


async def test_registration_with_another_version_creates_nothing(app, client, world):
    async with app.state.db.session(write=False) as s:
        before = (await s.execute(select(func.count()).select_from(User))).scalar_one()
    for version in ("2020-01-01", None):
        body = {"phone": "13512345671", "password": "a-good-pass-1", "display_name": "新居民",
                "building_id": world.b1.id}
        if version:
            body["privacy_notice_version"] = version
            err = assert_error(await client.post("/api/v1/auth/register", json=body), 409, "privacy_notice_outdated")
            assert err["details"] == {"required_version": world.settings.privacy_notice_version,
                                      "accepted_version": version}
        else:
            assert_error(await client.post("/api/v1/auth/register", json=body), 422, "validation_error")
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(User))).scalar_one() == before


async def test_changed_notice_stops_residents_until_they_accept(app, client, world, monkeypatch):
    old = world.settings.privacy_notice_version
    monkeypatch.setattr(app.state.settings, "privacy_notice_version", "2099-01-01")
    h = world.headers("resident_a")
    err = assert_error(await client.get("/api/v1/reports", headers=h), 403, "privacy_consent_required")
    assert err["details"] == {"required_version": "2099-01-01", "accepted_version": old}
    en = assert_error(await client.get("/api/v1/reports", headers={**h, "Accept-Language": "en"}), 403)
    assert "privacy notice" in en["message"] and not has_cjk(en["message"])
    assert_error(await client.post("/api/v1/reports", headers=h, json={"category_id": world.cat.id,
                                                                        "title": "楼道堆放杂物"}),
                 403, "privacy_consent_required")
    # what stays open: the notice, one's profile, the consents, logout
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    assert (await client.get("/api/v1/privacy/notice")).json()["version"] == "2099-01-01"
    assert (await client.get("/api/v1/privacy/consents", headers=h)).status_code == 200
    # staff are not asked
    assert (await client.get("/api/v1/reports", headers=world.headers("worker_in"))).status_code == 200
    # accepting an older version than the current one is refused
    err = assert_error(await client.post("/api/v1/privacy/consents", headers=h, json={"version": old}), 409,
                       "privacy_notice_outdated")
    assert err["details"] == {"required_version": "2099-01-01", "accepted_version": old}
    resp = await client.post("/api/v1/privacy/consents", headers=h, json={"version": "2099-01-01"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["version"] == "2099-01-01" and resp.json()["via"] == "api"
    assert (await client.get("/api/v1/reports", headers=h)).status_code == 200
    listed = (await client.get("/api/v1/privacy/consents", headers=h)).json()
    assert [c["version"] for c in listed] == ["2099-01-01", old]  # newest first, the history kept
    # the neighbour who has not accepted is still stopped
    assert_error(await client.get("/api/v1/reports", headers=world.headers("resident_b")), 403,
                 "privacy_consent_required")


async def test_resident_created_by_staff_accepts_on_first_use(app, client, world):
    """An account made offline by an admin has no consent: its resident accepts the notice first."""
    resp = await client.post("/api/v1/admin/users", headers=world.headers("admin_c1"), json={
        "phone": "13512345672", "password": "a-good-pass-1", "display_name": "线下居民", "role": "resident",
        "building_id": world.b1.id})
    assert resp.status_code == 201, resp.text
    token = (await client.post("/api/v1/auth/token", data={"username": "13512345672",
                                                           "password": "a-good-pass-1"})).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    err = assert_error(await client.get("/api/v1/reports", headers=h), 403, "privacy_consent_required")
    assert err["details"]["accepted_version"] is None
    version = world.settings.privacy_notice_version
    assert (await client.post("/api/v1/privacy/consents", headers=h, json={"version": version})).status_code == 201
    assert (await client.get("/api/v1/reports", headers=h)).status_code == 200
    assert await _consents(app, resp.json()["id"]) == [(version, "api")]


async def test_an_acceptance_reaches_the_principal_cache_at_once(app, client, world, settings, monkeypatch):
    """PostgreSQL: the principal (with the accepted version) is cached per process; the trigger on
    users.privacy_version makes every process forget it at commit, so an acceptance is honoured on the next request."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite the principal is read on every request")
    listener = principal_listener(settings, app.state.principals)
    assert listener is not None
    listener.retry = listener.ping = 0.1
    await listener.start()
    try:
        await asyncio.wait_for(listener.listening.wait(), 5)
        monkeypatch.setattr(app.state.settings, "privacy_notice_version", "2099-01-01")
        h = world.headers("resident_a")
        user_id = world.users["resident_a"].id
        assert_error(await client.get("/api/v1/reports", headers=h), 403, "privacy_consent_required")
        assert app.state.principals.get(user_id) is not None  # cached, with the old version
        assert (await client.post("/api/v1/privacy/consents", headers=h,
                                  json={"version": "2099-01-01"})).status_code == 201
        for _ in range(250):  # the notice arrives at commit, asynchronously
            if app.state.principals.get(user_id) is None:
                break
            await asyncio.sleep(0.02)
        assert (await client.get("/api/v1/reports", headers=h)).status_code == 200
    finally:
        await listener.stop()


async def test_a_resident_who_has_not_accepted_can_still_log_out(app, client, world, monkeypatch):
    phone = world.users["resident_a"].phone
    tokens = (await client.post("/api/v1/auth/token", data={"username": phone, "password": PASSWORD})).json()
    monkeypatch.setattr(app.state.settings, "privacy_notice_version", "2099-01-01")
    h = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert_error(await client.get("/api/v1/notifications", headers=h), 403, "privacy_consent_required")
    resp = await client.post("/api/v1/auth/logout", headers=h, json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 204, resp.text
    assert_error(await client.get("/api/v1/me", headers=h), 401)  # the session ended
