"""Registration, login, throttling, refresh rotation and reuse, logout, password change."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.auth.models import RefreshToken
from app.users.models import User
from tests.factories import PASSWORD
from tests.helpers import assert_error


async def _count_users(db) -> int:
    async with db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(User))).scalar_one()


async def _login(client, phone, password=PASSWORD, **kw):
    return await client.post("/api/v1/auth/token", data={"username": phone, "password": password}, **kw)


async def test_register_then_login_then_me(client, world):
    body = {"phone": "13512345678", "password": "a-good-pass-1", "display_name": " 新居民 ", "building_id": world.b1.id,
            "privacy_notice_version": world.settings.privacy_notice_version}
    resp = await client.post("/api/v1/auth/register", json=body)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"status": "accepted", "next": "login"}
    tokens = (await _login(client, "13512345678", "a-good-pass-1")).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    me = resp.json()
    assert me["phone"] == "13512345678" and me["role"] == "resident" and me["community_id"] == world.c1.id
    assert me["display_name"] == "新居民" and "password_hash" not in me


async def test_register_bad_input_writes_nothing(client, world, db):
    before = await _count_users(db)
    good = {"phone": "13512345678", "password": "a-good-pass-1", "display_name": "x", "building_id": world.b1.id,
            "privacy_notice_version": world.settings.privacy_notice_version}
    cases = [
        ({**good, "role": "admin"}, 422),                # unknown field (never applied)
        ({**good, "phone": "12345678901"}, 422),         # wrong phone format (second digit)
        ({**good, "phone": "1381234567"}, 422),          # too short
        ({k: v for k, v in good.items() if k != "password"}, 422),  # missing field
        ({**good, "password": "short"}, 422),
        ({**good, "building_id": world.g1.id}, 422),     # not a building
        ({**good, "building_id": 10**12}, 422),          # no such building
        ({**good, "building_id": 2**70}, 422),           # absurd id
    ]
    for body, status in cases:
        assert_error(await client.post("/api/v1/auth/register", json=body), status)
    assert await _count_users(db) == before


async def test_registration_does_not_reveal_who_has_an_account(client, world, db):
    """Issue 13, item 9: a taken number answers exactly like a new one, and its account is untouched."""
    taken, new = world.users["resident_a"].phone, "13512349999"
    answers = []
    for phone in (taken, new):
        body = {"phone": phone, "password": "a-good-pass-1", "display_name": "x", "building_id": world.b1.id,
                "privacy_notice_version": world.settings.privacy_notice_version}
        resp = await client.post("/api/v1/auth/register", json=body)
        answers.append((resp.status_code, resp.json(), sorted(k for k in resp.headers if k != "x-request-id")))
    assert answers[0][:2] == answers[1][:2] == (202, {"status": "accepted", "next": "login"})
    assert answers[0][2] == answers[1][2]
    assert (await _login(client, taken)).status_code == 200            # the owner's password still works
    assert (await _login(client, taken, "a-good-pass-1")).status_code == 401  # the newcomer's does not
    from sqlalchemy import select

    from app.audit.models import AuditEntry
    async with db.session(write=False) as s:
        actions = (await s.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert ("auth.register_existing", {"phone": taken[:3] + "****" + taken[-4:]}) in [tuple(a) for a in actions]


async def test_registration_is_limited_per_address(client, world, settings):
    limit = settings.register_max_per_address
    statuses = []
    for i in range(limit + 1):
        body = {"phone": f"1351111{i:04d}", "password": "a-good-pass-1", "display_name": "x",
                "building_id": world.b1.id, "privacy_notice_version": world.settings.privacy_notice_version}
        statuses.append((await client.post("/api/v1/auth/register", json=body)).status_code)
    assert statuses[:limit] == [202] * limit
    assert statuses[-1] == 429


async def test_login_wrong_password_and_unknown_phone_look_the_same(client, world):
    a = assert_error(await _login(client, world.users["resident_a"].phone, "wrong-password"), 401)
    b = assert_error(await _login(client, "13599999999", "wrong-password"), 401)
    assert a == b and a["code"] == "invalid_credentials"


async def test_login_bad_phone_format_is_422(client):
    assert_error(await _login(client, "not-a-phone"), 422, "validation_error")


async def test_login_throttled_per_phone_with_retry_after(client, world, settings):
    phone = world.users["resident_a"].phone
    for _ in range(settings.login_max_failures):
        assert_error(await _login(client, phone, "wrong-password"), 401)
    resp = await _login(client, phone)  # even the right password is refused while locked (a new address)
    assert_error(resp, 429, "too_many_requests")
    assert 0 < int(resp.headers["retry-after"]) <= settings.login_delay_seconds  # a short first delay
    # another account from the same address is not locked by this phone's failures
    assert (await _login(client, world.users["resident_b"].phone)).status_code == 200


async def test_success_resets_failure_count(client, world, settings):
    phone = world.users["resident_a"].phone
    for _ in range(settings.login_max_failures - 1):
        await _login(client, phone, "wrong-password")
    assert (await _login(client, phone)).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        await _login(client, phone, "wrong-password")
    assert (await _login(client, phone)).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(client, world):
    first = (await _login(client, world.users["resident_a"].phone)).json()
    second = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    # the old one again: refused, and the whole family (including the new one) is revoked
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}),
                 401, "invalid_refresh_token")
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}),
                 401, "invalid_refresh_token")


async def test_concurrent_refresh_with_one_token_wins_once(client, world):
    tokens = (await _login(client, world.users["resident_a"].phone)).json()
    results = await asyncio.gather(*[
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}) for _ in range(4)])
    assert sorted(r.status_code for r in results).count(200) == 1, [r.text for r in results]


async def test_access_token_is_not_a_refresh_token(client, world):
    tokens = (await _login(client, world.users["resident_a"].phone)).json()
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}), 401)


async def test_logout_revokes_refresh_and_access_at_once(client, world, db):
    tokens = (await _login(client, world.users["resident_a"].phone)).json()
    other_device = (await _login(client, world.users["resident_a"].phone)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    # the caller's own access token is needed (issue 13, item 8), and the refresh token must be theirs
    assert_error(await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}), 401)
    theirs = (await _login(client, world.users["resident_b"].phone)).json()
    assert_error(await client.post("/api/v1/auth/logout", headers=auth,
                                   json={"refresh_token": theirs["refresh_token"]}), 404)
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    resp = await client.post("/api/v1/auth/logout", headers=auth, json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 204
    assert_error(await client.get("/api/v1/me", headers=auth), 401)  # at once, not after 15 minutes
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
    # the other sign-in goes on
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_device['access_token']}"})
            ).status_code == 200
    await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {other_device['access_token']}"},
                      json={"refresh_token": other_device["refresh_token"]})
    await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {theirs['access_token']}"},
                      json={"refresh_token": theirs["refresh_token"]})
    async with db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(RefreshToken)
                                .where(RefreshToken.revoked_at.is_(None)))).scalar_one() == 0


async def test_change_password_ends_sessions(client, world):
    phone = world.users["resident_a"].phone
    tokens = (await _login(client, phone)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert_error(await client.post("/api/v1/me/password", headers=auth,
                                   json={"current_password": "nope-nope", "new_password": "new-pass-123"}),
                 422, "wrong_password")
    resp = await client.post("/api/v1/me/password", headers=auth,
                             json={"current_password": PASSWORD, "new_password": "new-pass-123"})
    assert resp.status_code == 204
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_error(await _login(client, phone), 401)
    assert (await _login(client, phone, "new-pass-123")).status_code == 200


async def test_update_me(client, world):
    h = world.headers("resident_a")
    resp = await client.patch("/api/v1/me", headers=h, json={"display_name": "张三", "building_id": world.b2.id})
    assert resp.status_code == 200, resp.text
    assert resp.json()["building_id"] == world.b2.id and resp.json()["display_name"] == "张三"
    # another community: its staff move the resident (issue 13, item 14); nothing changes meanwhile
    moved = await client.patch("/api/v1/me", headers=h, json={"building_id": world.b3.id})
    assert_error(moved, 409, "move_needs_staff")
    assert moved.json()["error"]["details"] == {"community_id": world.c1.id, "to_community_id": world.c2.id}
    assert (await client.get("/api/v1/me", headers=h)).json()["community_id"] == world.c1.id
    by_staff = await client.patch(f"/api/v1/admin/users/{world.users['resident_a'].id}",
                                  headers=world.headers("admin_street"), json={"building_id": world.b3.id})
    assert by_staff.status_code == 200 and by_staff.json()["community_id"] == world.c2.id
    assert_error(await client.patch("/api/v1/me", headers=h, json={"role": "admin"}), 422)
    assert_error(await client.patch("/api/v1/me", headers=world.headers("worker_in"),
                                    json={"building_id": world.b1.id}), 422)
    assert (await client.get("/api/v1/me", headers=h)).json()["role"] == "resident"


async def test_login_throttled_per_address_across_phones(client, world, settings):
    """Spraying many phone numbers from one address locks the address, not just each phone."""
    for i in range(settings.login_max_failures_per_address):
        assert_error(await _login(client, f"135{i:08d}", "wrong-password"), 401)
    resp = await _login(client, world.users["resident_a"].phone)  # right password, same address
    assert_error(resp, 429, "too_many_requests")
    assert int(resp.headers["retry-after"]) > 0


async def test_the_password_hash_runs_outside_any_transaction(client, world, app, monkeypatch):
    """argon2 takes ~30 ms: no connection (so no transaction, no SQLite write lock) may be held meanwhile."""
    import app.auth.service as auth_service

    held = []
    real = auth_service.verify_password

    def watching(*args):
        held.append(app.state.db.engine.pool.checkedout())
        return real(*args)

    monkeypatch.setattr(auth_service, "verify_password", watching)
    assert (await _login(client, world.users["resident_a"].phone)).status_code == 200
    assert_error(await _login(client, world.users["resident_a"].phone, "wrong-password"), 401)
    assert_error(await _login(client, "13599999999", "wrong-password"), 401)
    assert held == [0, 0, 0]


async def test_a_password_changed_during_the_check_does_not_log_in(client, world, app, monkeypatch):
    """The write transaction re-reads the hash it verified: the old password cannot win a race with a change."""
    from types import SimpleNamespace

    from sqlalchemy import update

    import app.auth.service as auth_service

    user = world.users["resident_a"]

    async def check_then_change(fn, *args):
        ok = fn(*args)
        async with app.state.db.session(write=True) as s:  # another request changes the password meanwhile
            await s.execute(update(User).where(User.id == user.id).values(password_hash="changed"))
        return ok

    monkeypatch.setattr(auth_service, "anyio", SimpleNamespace(to_thread=SimpleNamespace(run_sync=check_then_change)))
    assert_error(await _login(client, user.phone), 401, "invalid_credentials")


async def test_wrong_current_passwords_are_throttled_and_audited(client, world, settings, db):
    """Issue 13, item 7: guessing the current password is limited like logins, and each failure is audited."""
    from sqlalchemy import func, select

    from app.audit.models import AuditEntry

    auth = world.headers("resident_a")
    wrong = {"current_password": "nope-nope", "new_password": "new-pass-123"}
    codes = [(await client.post("/api/v1/me/password", headers=auth, json=wrong)).status_code
             for _ in range(settings.login_max_failures + 1)]
    assert codes == [422] * settings.login_max_failures + [429]
    # locked: even the right password waits now
    locked = await client.post("/api/v1/me/password", headers=auth,
                               json={"current_password": PASSWORD, "new_password": "new-pass-123"})
    assert_error(locked, 429, "too_many_requests")
    async with db.session(write=False) as s:
        failures = (await s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "auth.password_change_failed",
            AuditEntry.object_id == world.users["resident_a"].id))).scalar_one()
    assert failures == settings.login_max_failures



def test_phone_locks_grow_with_each_failure_past_the_limit(settings):
    """Issue 13, item 6: growing delays, not a quarter of an hour after five guesses."""
    from app.auth.throttle import lock_seconds

    limit = settings.login_max_failures
    waits = [lock_seconds(settings, "phone", n, limit) for n in range(limit - 1, limit + 30)]
    assert waits[0] == 0 and waits[1] == settings.login_delay_seconds
    assert waits[2] == 2 * settings.login_delay_seconds and waits[3] == 4 * settings.login_delay_seconds
    assert waits == sorted(waits) and waits[-1] == settings.login_lockout_seconds
    assert lock_seconds(settings, "addr", 10**6, 300) == settings.login_lockout_seconds


async def test_a_known_address_is_not_locked_out_by_others_failures(client, world, settings, app):
    """The owner signed in from this address before; then someone guesses their password until the number
    locks (and floods the address): the owner's correct password still works from here."""
    phone = world.users["resident_a"].phone
    assert (await _login(client, phone)).status_code == 200  # remembered
    for _ in range(settings.login_max_failures + 2):
        await _login(client, phone, "wrong-password")
    for i in range(settings.login_max_failures_per_address):
        await _login(client, f"135{i:08d}", "wrong-password")
    assert (await _login(client, phone)).status_code == 200
    # another account from the same (now locked) address, never seen here, is refused
    assert_error(await _login(client, world.users["resident_b"].phone), 429, "too_many_requests")


def test_production_refuses_a_proxy_without_its_addresses():
    from app.core.config import Env, Settings

    base = {"weilinli_env": Env.production, "jwt_secret": "s" * 40}
    assert any("FORWARDED_ALLOW_IPS" in p for p in Settings(**base, behind_proxy=True).problems())
    assert not Settings(**base, behind_proxy=True, forwarded_allow_ips="10.0.0.2").problems()
    from app.cli import proxy_options
    assert proxy_options(Settings(**base)) == {"proxy_headers": False}



async def test_refresh_reuse_ends_the_live_access_tokens_of_the_family(client, world):
    first = (await _login(client, world.users["resident_a"].phone)).json()
    second = (await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    auth = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    # the used refresh token again: stolen; the whole sign-in ends, its live access token included
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401)
    assert_error(await client.get("/api/v1/me", headers=auth), 401)


async def test_a_password_change_ends_access_tokens_within_the_same_second(client, world):
    """No whole-second iat comparison to rely on: the sessions are revoked."""
    phone = world.users["resident_a"].phone
    other = (await _login(client, phone)).json()
    mine = (await _login(client, phone)).json()
    resp = await client.post("/api/v1/me/password", headers={"Authorization": f"Bearer {mine['access_token']}"},
                             json={"current_password": PASSWORD, "new_password": "new-pass-123"})
    assert resp.status_code == 204
    for tokens in (other, mine):
        assert_error(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}),
                     401)
