"""WeChat mini-program sign-in through the HTTP API, against the fake WeChat server on loopback (issue 18)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.auth import bind_ticket
from app.auth.models import RefreshToken
from app.auth.wechat_models import WechatBinding
from app.core.security import decode_token
from app.users.models import User
from tests.auth.sms_helpers import all_logs, code_for, text_of, wrong
from tests.clients.factories import make_client
from tests.helpers import assert_error
from tests.support.fake_providers import WX_APPID, WX_SECRET

LOGIN, BIND = "/api/v1/auth/wechat/login", "/api/v1/auth/wechat/bind"
NEW = "13700000002"


async def _count(app, model, *where) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def _app(app, world, **kw):
    async with app.state.db.session(write=True) as s:
        client, _ = await make_client(s, world.c1.id, **{"wechat_appid": WX_APPID, "scopes": ["reports:write"],
                                                         **kw})
    return client


async def _bind_row(app, user, openid="openid-a"):
    async with app.state.db.session(write=True) as s:
        s.add(WechatBinding(user_id=user.id, appid=WX_APPID, openid=openid, unionid=None,
                            created_at=datetime.now(UTC)))


async def _not_bound(pclient, fake, headers, js_code="wx-code-new", openid="openid-new") -> str:
    fake.wx_codes[js_code] = (openid, "union-new")
    err = assert_error(await pclient.post(LOGIN, json={"code": js_code}, headers=headers), 401, "wechat_not_bound")
    assert err["details"]["expires_in"] == 600
    return err["details"]["bind_ticket"]


async def test_a_bound_wechat_user_signs_in_through_the_app(pclient, app, world, fake, settings):
    client = await _app(app, world)
    await _bind_row(app, world.users["resident_a"])
    fake.wx_codes["wx-code-1"] = ("openid-a", None)
    resp = await pclient.post(LOGIN, json={"code": "wx-code-1"}, headers={"X-Client-Id": client.client_id})
    assert resp.status_code == 200, resp.text
    claims = decode_token(settings, settings.jwt_secret, resp.json()["access_token"], expected="access")
    assert int(claims.sub) == world.users["resident_a"].id
    assert claims.cid == client.client_id and claims.scp == ("reports:write",)
    [asked] = fake.sessions
    assert asked == {"appid": WX_APPID, "secret": WX_SECRET, "js_code": "wx-code-1",
                     "grant_type": "authorization_code"}


async def test_an_unknown_wechat_user_binds_a_new_number_and_becomes_a_resident(pclient, app, world, fake, settings):
    client = await _app(app, world)
    headers = {"X-Client-Id": client.client_id}
    ticket = await _not_bound(pclient, fake, headers)
    assert await _count(app, WechatBinding) == 0 and await _count(app, RefreshToken) == 0
    code = await code_for(pclient, fake, NEW, "bind")
    body = {"bind_ticket": ticket, "phone": NEW, "code": code}
    err = assert_error(await pclient.post(BIND, json=body, headers=headers), 422, "validation_error")
    assert {tuple(i["loc"]) for i in err["details"]} == {("body", "display_name"), ("body", "building_id"),
                                                         ("body", "privacy_notice_version")}
    assert await _count(app, User, User.phone == NEW) == 0
    resp = await pclient.post(BIND, headers=headers, json={**body, "display_name": "微信居民",
                                                           "building_id": world.b1.id,
                                                           "privacy_notice_version":
                                                               world.settings.privacy_notice_version})
    assert resp.status_code == 200, resp.text  # the same code: the refusal above did not spend it
    claims = decode_token(settings, settings.jwt_secret, resp.json()["access_token"], expected="access")
    assert claims.cid == client.client_id
    async with app.state.db.session(write=False) as s:
        user = (await s.execute(select(User).where(User.phone == NEW))).scalar_one()
        binding = (await s.execute(select(WechatBinding))).scalar_one()
    assert user.role == "resident" and user.community_id == world.c1.id and int(claims.sub) == user.id
    assert (binding.user_id, binding.appid, binding.openid, binding.unionid) == (user.id, WX_APPID, "openid-new",
                                                                                 "union-new")
    fake.wx_codes["wx-code-again"] = ("openid-new", None)  # from now on the openid signs in directly
    again = await pclient.post(LOGIN, json={"code": "wx-code-again"}, headers=headers)
    assert again.status_code == 200
    assert int(decode_token(settings, settings.jwt_secret, again.json()["access_token"],
                            expected="access").sub) == user.id


async def test_binding_an_existing_account_signs_it_in(pclient, app, world, fake, settings):
    client = await _app(app, world)
    headers = {"X-Client-Id": client.client_id}
    ticket = await _not_bound(pclient, fake, headers)
    phone = world.users["resident_b"].phone
    code = await code_for(pclient, fake, phone, "bind")
    users = await _count(app, User)
    resp = await pclient.post(BIND, json={"bind_ticket": ticket, "phone": phone, "code": code}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert int(decode_token(settings, settings.jwt_secret, resp.json()["access_token"],
                            expected="access").sub) == world.users["resident_b"].id
    assert await _count(app, User) == users and await _count(app, WechatBinding) == 1


async def test_wechat_refusals_each_have_their_code_and_create_nothing(pclient, app, world, fake):
    client = await _app(app, world)
    suspended = await _app(app, world, wechat_appid="wx_other_1", status="suspended")
    no_wechat = await _app(app, world, wechat_appid=None)
    headers = {"X-Client-Id": client.client_id}
    fake.wx_codes.update({"limited": 45011, "busy": -1})
    users = await _count(app, User)

    assert_error(await pclient.post(LOGIN, json={"code": "rejected"}, headers=headers), 401, "wechat_code_invalid")
    err = assert_error(await pclient.post(LOGIN, json={"code": "limited"}, headers=headers), 503,
                       "wechat_unavailable")
    assert err["details"] == {"reason": "rate_limited"}
    err = assert_error(await pclient.post(LOGIN, json={"code": "busy"}, headers=headers), 503, "wechat_unavailable")
    assert err["details"] == {"reason": "busy"}
    fake.down = True
    err = assert_error(await pclient.post(LOGIN, json={"code": "any"}, headers=headers), 503, "wechat_unavailable")
    assert err["details"] == {"reason": "unreachable"}
    fake.down = False
    assert_error(await pclient.post(LOGIN, json={"code": "x"}, headers={"X-Client-Id": "wlc_unknown"}), 401,
                 "client_unknown")
    assert_error(await pclient.post(LOGIN, json={"code": "x"}, headers={"X-Client-Id": suspended.client_id}), 403,
                 "client_suspended")
    assert_error(await pclient.post(LOGIN, json={"code": "x"}, headers={"X-Client-Id": no_wechat.client_id}), 422,
                 "invalid_reference")
    assert_error(await pclient.post(LOGIN, json={"code": "x"}), 422, "validation_error")  # no app named
    assert len(fake.sessions) == 3  # the app was checked before WeChat was asked (and `down` records nothing)
    assert await _count(app, User) == users and await _count(app, WechatBinding) == 0
    assert await _count(app, RefreshToken) == 0


async def test_bind_refusals(pclient, app, world, fake, settings):
    client = await _app(app, world)
    other = await _app(app, world, wechat_appid="wx_other_2")
    headers = {"X-Client-Id": client.client_id}
    ticket = await _not_bound(pclient, fake, headers)
    code = await code_for(pclient, fake, NEW, "bind")
    base = {"bind_ticket": ticket, "phone": NEW, "code": code, "display_name": "x", "building_id": world.b1.id,
            "privacy_notice_version": world.settings.privacy_notice_version}
    expired = bind_ticket.issue(settings.jwt_secret, bind_ticket.Ticket(WX_APPID, "openid-x", None,
                                                                        int(time.time()) - 1))
    forged = bind_ticket.issue("another-secret", bind_ticket.Ticket(WX_APPID, "openid-x", None,
                                                                    int(time.time()) + 600))
    for bad in (expired, forged, ticket[:-2] + "xx", "not-a-ticket-at-all"):
        assert_error(await pclient.post(BIND, json={**base, "bind_ticket": bad}, headers=headers), 401,
                     "wechat_ticket_invalid")
    assert_error(await pclient.post(BIND, json=base, headers={"X-Client-Id": other.client_id}), 401,
                 "wechat_ticket_invalid")  # a ticket of another mini-program
    err = assert_error(await pclient.post(BIND, json={**base, "code": wrong(code)}, headers=headers), 401,
                       "sms_code_invalid")
    assert err["details"] == {"attempts_left": 4}
    assert await _count(app, User, User.phone == NEW) == 0 and await _count(app, WechatBinding) == 0
    # an account already bound to another WeChat user of this app
    await _bind_row(app, world.users["resident_a"], openid="openid-old")
    phone = world.users["resident_a"].phone
    code_a = await code_for(pclient, fake, phone, "bind")
    err = assert_error(await pclient.post(BIND, json={"bind_ticket": ticket, "phone": phone, "code": code_a},
                                          headers=headers), 409, "conflict")
    assert "another" in err["details"]["reason"]
    assert await _count(app, WechatBinding) == 1 and await _count(app, RefreshToken) == 0


async def test_one_openid_binds_once_under_concurrent_binds(pclient, app, world, fake):
    client = await _app(app, world)
    headers = {"X-Client-Id": client.client_id}
    ticket = await _not_bound(pclient, fake, headers)
    phones = [world.users[n].phone for n in ("resident_a", "resident_b", "resident_c")]
    codes = []
    for p in phones:
        codes.append(await code_for(pclient, fake, p, "bind"))
    results = await asyncio.gather(*[pclient.post(BIND, headers=headers, json={
        "bind_ticket": ticket, "phone": p, "code": c}) for p, c in zip(phones, codes, strict=True)])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    assert await _count(app, WechatBinding) == 1 and await _count(app, RefreshToken) == 1


async def test_no_wechat_code_secret_ticket_or_token_in_the_logs(pclient, app, world, fake, caplog):
    client = await _app(app, world)
    headers = {"X-Client-Id": client.client_id}
    with all_logs(caplog) as records:
        fake.wx_codes["busy-code"] = -1
        await pclient.post(LOGIN, json={"code": "busy-code"}, headers=headers)
        fake.down = True
        await pclient.post(LOGIN, json={"code": "down-code"}, headers=headers)
        fake.down = False
        ticket = await _not_bound(pclient, fake, headers, js_code="secret-js-code")
        code = await code_for(pclient, fake, NEW, "bind")
        tokens = (await pclient.post(BIND, headers=headers, json={
            "bind_ticket": ticket, "phone": NEW, "code": code, "display_name": "x", "building_id": world.b1.id,
            "privacy_notice_version": world.settings.privacy_notice_version})).json()
    logged = text_of(records)
    assert "WeChat" in logged  # the failures were logged, without what matters
    for secret in ("busy-code", "down-code", "secret-js-code", WX_SECRET, ticket, code,
                   tokens["access_token"], tokens["refresh_token"], "openid-new"):
        assert secret not in logged, secret
