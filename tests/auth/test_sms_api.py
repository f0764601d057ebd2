"""Sign-in by SMS code through the HTTP API, against the fake SMS gateway on loopback (issue 18, item 2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from app.auth.models import RefreshToken
from app.auth.sms_models import SmsCode
from app.auth.throttle import phone_key
from app.notifications.provider_models import ProviderMessage
from app.users.models import User
from app.worker.runner import run_once
from tests.auth.sms_helpers import CODES, all_logs, ask, code_for, text_of, wrong
from tests.factories import PASSWORD
from tests.helpers import assert_error

NEW = "13700000001"


async def _count(app, model, *where) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


def _bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_code_is_sent_through_the_gateway_and_signs_in_once(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    resp = await ask(pclient, phone)
    assert resp.status_code == 202 and resp.json() == {"status": "sent", "expires_in": 300, "resend_after": 60}
    [sent] = fake.sms
    assert sent["authorization"] == "Bearer gw-token-1"
    body = sent["body"]
    assert body["phone"] == phone and body["template"] == "login" and body["message_id"].startswith("pm_")
    code = body["params"]["code"]
    assert len(code) == 6 and code.isdigit()
    async with app.state.db.session(write=False) as s:  # stored hashed, and the outbox forgot it once sent
        row = (await s.execute(select(SmsCode))).scalar_one()
        msg = (await s.execute(select(ProviderMessage))).scalar_one()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert msg.status == "delivered" and msg.payload is None and msg.attempts == 1

    resp = await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})
    assert resp.status_code == 200, resp.text
    me = await pclient.get("/api/v1/me", headers=_bearer(resp.json()))
    assert me.json()["id"] == world.users["resident_a"].id
    # single use
    err = assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code}), 401,
                       "sms_code_used")
    assert err["details"] is None


async def test_five_wrong_tries_kill_the_code(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone)
    for left in (4, 3, 2, 1):
        err = assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": wrong(code)}),
                           401, "sms_code_invalid")
        assert err["details"] == {"attempts_left": left}
    assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": wrong(code)}), 401,
                 "sms_code_attempts_exceeded")
    # dead: even the right code is refused now, and nothing was issued
    assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code}), 401,
                 "sms_code_attempts_exceeded")
    assert await _count(app, RefreshToken) == 0


async def test_an_expired_code_is_refused(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone)
    async with app.state.db.session(write=True) as s:
        await s.execute(update(SmsCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    err = assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code}), 401,
                       "sms_code_expired")
    assert "过期" in err["message"]
    assert await _count(app, RefreshToken) == 0


async def test_a_code_works_for_its_own_purpose_only(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone, "reset_password")
    err = assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code}), 401,
                       "sms_code_invalid")
    assert err["details"] == {"attempts_left": 0}
    assert await _count(app, RefreshToken) == 0


async def test_only_the_newest_code_counts(pclient, app, world, fake, settings):
    phone = world.users["resident_a"].phone
    first = await code_for(pclient, fake, phone)
    async with app.state.db.session(write=True) as s:  # as if the resend interval had passed
        await s.execute(update(SmsCode).values(created_at=datetime.now(UTC) - timedelta(seconds=61)))
        from app.auth.models import LoginThrottle
        await s.execute(update(LoginThrottle).where(
            LoginThrottle.key == phone_key(app.state.jwt_secret, phone, "smsr")).values(
            window_start=datetime.now(UTC) - timedelta(seconds=61)))
    second = await code_for(pclient, fake, phone)
    if first != second:
        assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": first}), 401,
                     "sms_code_invalid")
    assert (await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": second})).status_code == 200


async def test_concurrent_uses_of_one_code_sign_in_once(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone)
    results = await asyncio.gather(*[pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})
                                     for _ in range(6)])
    assert sorted(r.status_code for r in results) == [200] + [401] * 5, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 401} == {"sms_code_used"}
    assert await _count(app, RefreshToken) == 1


async def test_concurrent_wrong_tries_never_exceed_five(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone)
    results = await asyncio.gather(*[pclient.post("/api/v1/auth/sms/login",
                                                  json={"phone": phone, "code": wrong(code)}) for _ in range(9)])
    codes = sorted(r.json()["error"]["code"] for r in results)
    assert codes.count("sms_code_invalid") == 4 and codes.count("sms_code_attempts_exceeded") == 5, codes
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(SmsCode.attempts))).scalar_one() == 5


async def test_codes_are_rate_limited_per_number(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    assert (await ask(pclient, phone)).status_code == 202
    resp = await ask(pclient, phone, "reset_password")  # another purpose: the same number still waits
    err = assert_error(resp, 429, "sms_rate_limited")
    assert err["details"]["per"] == "phone" and 1 <= err["details"]["retry_after"] <= 60
    assert resp.headers["retry-after"] == str(err["details"]["retry_after"])
    assert len(fake.sms) == 1 and await _count(app, SmsCode) == 1 and await _count(app, ProviderMessage) == 1


async def test_codes_are_rate_limited_per_number_per_window(pclient, app, world, fake, provider_settings):
    phone = world.users["resident_a"].phone
    for n in range(provider_settings.sms_max_per_phone):
        assert (await ask(pclient, phone)).status_code == 202, n
        async with app.state.db.session(write=True) as s:  # the resend interval passes
            from app.auth.models import LoginThrottle
            await s.execute(update(LoginThrottle).where(
            LoginThrottle.key == phone_key(app.state.jwt_secret, phone, "smsr")).values(
                window_start=datetime.now(UTC) - timedelta(seconds=61)))
    err = assert_error(await ask(pclient, phone), 429, "sms_rate_limited")
    assert err["details"]["per"] == "phone" and err["details"]["retry_after"] > 60
    assert len(fake.sms) == provider_settings.sms_max_per_phone


async def test_codes_are_rate_limited_per_address(papp, app, world, fake, provider_settings):
    transport = httpx.ASGITransport(app=papp, client=("10.9.8.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        for n in range(provider_settings.sms_max_per_address):
            assert (await ask(c, f"1370000{n:04d}")).status_code == 202
        err = assert_error(await ask(c, "13711112222"), 429, "sms_rate_limited")
    assert err["details"]["per"] == "address"
    assert not fake.sms_codes_to("13711112222") and len(fake.sms) == provider_settings.sms_max_per_address
    other = httpx.ASGITransport(app=papp, client=("10.9.8.8", 5000))  # another address is not held up
    async with httpx.AsyncClient(transport=other, base_url="http://test") as c:
        assert (await ask(c, "13711112222")).status_code == 202


async def test_asking_reveals_nothing_about_accounts(pclient, world, fake):
    taken = world.users["resident_a"].phone
    answers = [await ask(pclient, p, "register") for p in (taken, NEW)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert len(fake.sms_codes_to(taken)) == len(fake.sms_codes_to(NEW)) == 1


async def test_register_by_code_signs_in_and_the_password_works(pclient, app, world, fake):
    code = await code_for(pclient, fake, NEW, "register")
    resp = await pclient.post("/api/v1/auth/sms/register", json={
        "phone": NEW, "code": code, "display_name": "短信居民", "building_id": world.b1.id,
        "password": "a-good-pass-1", "privacy_notice_version": world.settings.privacy_notice_version})
    assert resp.status_code == 201, resp.text
    me = (await pclient.get("/api/v1/me", headers=_bearer(resp.json()))).json()
    assert me["phone"] == NEW and me["role"] == "resident" and me["community_id"] == world.c1.id
    login = await pclient.post("/api/v1/auth/token", data={"username": NEW, "password": "a-good-pass-1"})
    assert login.status_code == 200


async def test_register_without_password_has_no_usable_password(pclient, app, world, fake):
    code = await code_for(pclient, fake, NEW, "register")
    resp = await pclient.post("/api/v1/auth/sms/register", json={
        "phone": NEW, "code": code, "display_name": "短信居民", "building_id": world.b2.id,
        "privacy_notice_version": world.settings.privacy_notice_version})
    assert resp.status_code == 201, resp.text
    for guess in ("", "None", PASSWORD):
        r = await pclient.post("/api/v1/auth/token", data={"username": NEW, "password": guess or "x"})
        assert r.status_code in (401, 422)


async def test_register_refusals_create_nothing(pclient, app, world, fake):
    taken = world.users["resident_a"].phone
    users = await _count(app, User)
    code = await code_for(pclient, fake, taken, "register")
    body = {"phone": taken, "code": code, "display_name": "x", "building_id": world.b1.id,
            "privacy_notice_version": world.settings.privacy_notice_version}
    assert_error(await pclient.post("/api/v1/auth/sms/register", json=body), 409, "phone_taken")
    code = await _fresh_code(pclient, app, fake, NEW, "register")
    body = {**body, "phone": NEW, "code": code}
    assert_error(await pclient.post("/api/v1/auth/sms/register", json={**body, "building_id": world.g1.id}), 422)
    assert_error(await pclient.post("/api/v1/auth/sms/register", json={**body, "code": wrong(code)}), 401,
                 "sms_code_invalid")
    assert_error(await pclient.post("/api/v1/auth/sms/register",
                                    json={k: v for k, v in body.items() if k != "privacy_notice_version"}), 422)
    assert_error(await pclient.post("/api/v1/auth/sms/register", json={**body, "role": "admin"}), 422)
    assert await _count(app, User) == users and await _count(app, RefreshToken) == 0


async def _fresh_code(client, app, fake, phone, purpose):
    async with app.state.db.session(write=True) as s:  # the resend interval passes
        from app.auth.models import LoginThrottle
        await s.execute(update(LoginThrottle).values(window_start=datetime.now(UTC) - timedelta(hours=2)))
    return await code_for(client, fake, phone, purpose)


async def test_login_for_a_number_without_account_is_404_and_spends_the_code(pclient, app, world, fake):
    code = await code_for(pclient, fake, NEW)
    assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": NEW, "code": code}), 404, "not_found")
    assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": NEW, "code": code}), 401,
                 "sms_code_used")
    assert await _count(app, User, User.phone == NEW) == 0


async def test_reset_password_by_code_ends_every_session(pclient, app, world, fake):
    phone = world.users["resident_a"].phone
    old = (await pclient.post("/api/v1/auth/token", data={"username": phone, "password": PASSWORD})).json()
    code = await code_for(pclient, fake, phone, "reset_password")
    await asyncio.sleep(1.01)  # the old tokens' iat lies in an earlier second than the change
    resp = await pclient.post("/api/v1/auth/sms/reset-password",
                              json={"phone": phone, "code": code, "new_password": "brand-new-pass-2"})
    assert resp.status_code == 204, resp.text
    assert_error(await pclient.get("/api/v1/me", headers=_bearer(old)), 401)
    assert_error(await pclient.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}), 401)
    assert (await pclient.post("/api/v1/auth/token",
                               data={"username": phone, "password": PASSWORD})).status_code == 401
    assert (await pclient.post("/api/v1/auth/token",
                               data={"username": phone, "password": "brand-new-pass-2"})).status_code == 200
    assert_error(await pclient.post("/api/v1/auth/sms/reset-password",
                                    json={"phone": phone, "code": code, "new_password": "another-pass-3"}),
                 401, "sms_code_used")


async def test_a_failed_send_is_retried_by_the_worker_until_the_code_expires(pclient, papp, app, world, fake,
                                                                            provider_settings):
    phone = world.users["resident_a"].phone
    fake.sms_statuses[:] = [500, 500]
    assert (await ask(pclient, phone)).status_code == 202
    assert len(fake.sms) == 1
    async with app.state.db.session(write=False) as s:
        msg = (await s.execute(select(ProviderMessage))).scalar_one()
    assert msg.status == "pending" and msg.payload is not None and msg.last_status_code == 500
    t0 = datetime.now(UTC)
    db = papp.state.db
    assert (await run_once(db, provider_settings, now=t0))["sms_sent"] == 0  # not due yet (5 s)
    assert (await run_once(db, provider_settings, now=t0 + timedelta(seconds=7)))["sms_sent"] == 1
    assert len(fake.sms) == 2  # 500 again
    assert (await run_once(db, provider_settings, now=t0 + timedelta(seconds=30)))["sms_sent"] == 1
    assert len(fake.sms) == 3
    assert len({m["body"]["message_id"] for m in fake.sms}) == 1  # the gateway can drop duplicates
    async with app.state.db.session(write=False) as s:
        msg = (await s.execute(select(ProviderMessage))).scalar_one()
    assert msg.status == "delivered" and msg.payload is None


async def test_a_code_that_expired_before_sending_is_never_sent(pclient, papp, app, world, fake,
                                                                provider_settings):
    phone = world.users["resident_a"].phone
    fake.sms_statuses[:] = [503]
    assert (await ask(pclient, phone)).status_code == 202
    done = await run_once(papp.state.db, provider_settings, now=datetime.now(UTC) + timedelta(minutes=6))
    assert done["sms_sent"] == 1 and len(fake.sms) == 1
    async with app.state.db.session(write=False) as s:
        msg = (await s.execute(select(ProviderMessage))).scalar_one()
    assert msg.status == "expired" and msg.payload is None


async def test_a_gateway_refusal_is_not_retried(pclient, app, world, fake):
    fake.sms_statuses[:] = [400]
    assert (await ask(pclient, world.users["resident_a"].phone)).status_code == 202
    async with app.state.db.session(write=False) as s:
        msg = (await s.execute(select(ProviderMessage))).scalar_one()
    assert msg.status == "failed" and msg.payload is None and msg.last_status_code == 400


async def test_no_code_or_token_in_the_logs(pclient, app, world, fake, caplog):
    phone = world.users["resident_a"].phone
    with all_logs(caplog) as records:
        fake.sms_statuses[:] = [500]
        code = await code_for(pclient, fake, phone)
        for _ in range(2):
            await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": wrong(code)})
        tokens = (await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})).json()
        await pclient.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})
        await pclient.post("/api/v1/auth/sms/login", json={"phone": "13799998888", "code": code})
    logged = text_of(records)
    assert records, "the failed send is logged"
    assert code not in logged and wrong(code) not in logged
    assert tokens["access_token"] not in logged and tokens["refresh_token"] not in logged
    assert phone not in logged


async def test_the_development_sender_logs_the_code_in_its_own_line_only(client, app, world, caplog):
    """The default test app has no SMS_PROVIDER_URL: outside production the code goes to the log."""
    phone = world.users["resident_a"].phone
    with all_logs(caplog) as records:
        assert (await client.post(CODES, json={"phone": phone, "purpose": "login"})).status_code == 202
        lines = [r.getMessage() for r in records]
        [line] = [m for m in lines if "development SMS" in m]
        code = line.rsplit(" ", 1)[1]
        assert (await client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})).status_code == 200
    assert phone not in line and phone[:3] + "****" + phone[-4:] in line
    assert [m for m in (r.getMessage() for r in records) if code in m] == [line]


async def test_an_sms_sign_in_through_an_app_carries_its_client_id_and_scopes(pclient, app, world, fake, settings):
    from app.core.security import decode_token
    from tests.clients.factories import make_client

    async with app.state.db.session(write=True) as s:
        good, _ = await make_client(s, world.c1.id, scopes=["reports:read"])
        bad, _ = await make_client(s, world.c1.id, status="suspended")
    phone = world.users["resident_a"].phone
    code = await code_for(pclient, fake, phone)
    body = {"phone": phone, "code": code}
    assert_error(await pclient.post("/api/v1/auth/sms/login", json=body, headers={"X-Client-Id": bad.client_id}),
                 403, "client_suspended")
    assert_error(await pclient.post("/api/v1/auth/sms/login", json=body, headers={"X-Client-Id": "wlc_nope"}),
                 401, "client_unknown")
    assert await _count(app, RefreshToken) == 0  # refused before the code was used: it still works
    resp = await pclient.post("/api/v1/auth/sms/login", json=body, headers={"X-Client-Id": good.client_id})
    assert resp.status_code == 200, resp.text
    claims = decode_token(settings, settings.jwt_secret, resp.json()["access_token"], expected="access")
    assert claims.cid == good.client_id and claims.scp == ("reports:read",)


async def test_codes_a_day_past_expiry_are_removed_by_the_worker(pclient, papp, app, world, fake, provider_settings):
    await code_for(pclient, fake, world.users["resident_a"].phone)
    assert await _count(app, SmsCode) == 1
    await run_once(papp.state.db, provider_settings, now=datetime.now(UTC) + timedelta(hours=2))
    assert await _count(app, SmsCode) == 1  # expired, but kept a day
    await run_once(papp.state.db, provider_settings, now=datetime.now(UTC) + timedelta(days=1, minutes=6))
    assert await _count(app, SmsCode) == 0


async def test_the_code_is_committed_before_its_sms_leaves(pclient, app, world, fake):
    """When the gateway receives the SMS, another connection already sees the code and its outbox row."""
    loop = asyncio.get_running_loop()
    seen: list[tuple[int, int]] = []

    async def committed() -> tuple[int, int]:
        return await _count(app, SmsCode), await _count(app, ProviderMessage)

    fake.on_sms = lambda body: seen.append(asyncio.run_coroutine_threadsafe(committed(), loop).result(10))
    assert (await ask(pclient, world.users["resident_a"].phone)).status_code == 202
    assert seen == [(1, 1)]


async def test_the_throttle_counters_hold_no_phone_number(pclient, app, world, fake):
    """PIPL data minimisation: the counters of code requests and failed logins are keyed by an HMAC of the
    number, never the number itself."""
    from app.auth.models import LoginThrottle
    phone = world.users["resident_a"].phone
    assert (await ask(pclient, phone)).status_code == 202
    bad = await pclient.post("/api/v1/auth/token", data={"username": phone, "password": "wrong-password"})
    assert bad.status_code == 401
    async with app.state.db.session(write=False) as s:
        keys = set((await s.execute(select(LoginThrottle.key))).scalars())
    assert {phone_key(app.state.jwt_secret, phone, p) for p in ("smsr", "smsp", "phone")} <= keys
    assert not any(phone in k for k in keys), keys
