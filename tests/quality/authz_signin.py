"""Authorization-matrix entries of sign-in by SMS code and WeChat (issue 18), merged into MATRIX by
tests/quality/authz_matrix.py. Every one is public: the code (or the WeChat login code) is the credential, so each
call gets a fresh valid one, planted in the database the way a sent SMS would leave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.auth import codes
from app.auth.sms_models import SmsCode
from app.users import service as users_service
from app.users.models import Role
from tests.quality.authz_matrix import PUBLIC, Ctx, Entry, Req

CODE = "246810"


async def plant(c: Ctx, phone: str, purpose: str) -> str:
    now = datetime.now(UTC)
    async with c.app.state.db.session(write=True) as s:
        s.add(SmsCode(phone=phone, purpose=purpose, attempts=0, created_at=now,
                      expires_at=now + timedelta(minutes=5),
                      code_hash=codes.code_hash(c.app.state.jwt_secret, phone, purpose, CODE)))
    return CODE


async def _login(c: Ctx) -> Req:
    phone = c.world.users["resident_a"].phone
    return Req(json={"phone": phone, "code": await plant(c, phone, "login")})


async def _register(c: Ctx) -> Req:
    phone = c.phone()
    return Req(json={"phone": phone, "code": await plant(c, phone, "register"), "display_name": "新居民",
                     "building_id": c.world.b1.id, "privacy_notice_version": c.world.settings.privacy_notice_version})


async def _reset(c: Ctx) -> Req:
    phone = c.phone()
    async with c.app.state.db.session(write=True) as s:  # a fresh account: the world's passwords stay
        await users_service.create_user(s, c.world.settings, phone=phone, password="old-pass-123",
                                        display_name="x", role=Role.resident, building_id=c.world.b1.id)
    return Req(json={"phone": phone, "code": await plant(c, phone, "reset_password"),
                     "new_password": "new-pass-123"})


ENTRIES: dict[tuple[str, str], Entry] = {
    ("POST", "/api/v1/auth/sms/codes"): Entry(
        PUBLIC, lambda c: Req(json={"phone": c.phone(), "purpose": "login"}),
        why="anyone may ask for a code; it goes to the number"),
    ("POST", "/api/v1/auth/sms/login"): Entry(PUBLIC, _login, why="the code is the credential"),
    ("POST", "/api/v1/auth/sms/register"): Entry(PUBLIC, _register, why="self-registration with a code"),
    ("POST", "/api/v1/auth/sms/reset-password"): Entry(PUBLIC, _reset, why="the code is the credential"),
}


async def _wechat_app(c: Ctx) -> str:
    from tests.clients.factories import make_client
    from tests.support.fake_providers import WX_APPID

    async def make() -> str:
        async with c.app.state.db.session(write=True) as s:
            client, _ = await make_client(s, c.world.c1.id, wechat_appid=WX_APPID)
            return client.client_id
    return await c.once("wechat_app", make)


async def _wechat_login(c: Ctx) -> Req:
    """A fresh wx.login code of resident_a's WeChat identity, bound once."""
    from app.auth.wechat_models import WechatBinding
    from tests.support.fake_providers import WX_APPID, shared

    client_id = await _wechat_app(c)

    async def bind() -> bool:
        async with c.app.state.db.session(write=True) as s:
            s.add(WechatBinding(user_id=c.world.users["resident_a"].id, appid=WX_APPID, openid="openid-matrix",
                                created_at=datetime.now(UTC)))
        return True
    await c.once("wechat_bound", bind)
    js_code = c.unique("wxcode")
    shared().wx_codes[js_code] = ("openid-matrix", None)
    return Req(json={"code": js_code}, headers={"X-Client-Id": client_id})


async def _wechat_bind(c: Ctx) -> Req:
    """A fresh unbound WeChat identity's ticket and a fresh number with its bind code (registers a resident)."""
    import time

    from app.auth import bind_ticket
    from tests.support.fake_providers import WX_APPID

    client_id = await _wechat_app(c)
    ticket = bind_ticket.issue(c.app.state.jwt_secret, bind_ticket.Ticket(
        WX_APPID, c.unique("openid-"), None, int(time.time()) + 600))
    phone = c.phone()
    return Req(json={"bind_ticket": ticket, "phone": phone, "code": await plant(c, phone, "bind"),
                     "display_name": "微信居民", "building_id": c.world.b1.id,
                     "privacy_notice_version": c.world.settings.privacy_notice_version},
               headers={"X-Client-Id": client_id})


ENTRIES.update({
    ("POST", "/api/v1/auth/wechat/login"): Entry(PUBLIC, _wechat_login, why="the wx.login code is the credential"),
    ("POST", "/api/v1/auth/wechat/bind"): Entry(PUBLIC, _wechat_bind,
                                                why="the bind ticket and the SMS code are the credentials"),
})


async def _subscriptions(c: Ctx) -> Req:
    """resident_a bound to the shared mini-program; the app named by X-Client-Id."""
    from app.auth.wechat_models import WechatBinding
    from tests.support.fake_providers import WX_APPID

    client_id = await _wechat_app(c)

    async def bind() -> bool:
        async with c.app.state.db.session(write=True) as s:
            s.add(WechatBinding(user_id=c.world.users["resident_a"].id, appid=WX_APPID, openid="openid-subs",
                                created_at=datetime.now(UTC)))
        return True
    await c.once("wechat_bound", bind)
    return Req(json={"accepted": [{"type": "report.accepted", "template_id": "TPL1"}]},
               headers={"X-Client-Id": client_id})


ENTRIES.update({
    ("POST", "/api/v1/notifications/wechat-subscriptions"): Entry(
        {"resident_a"}, _subscriptions, why="one's own subscriptions, in an app one is bound to"),
    ("GET", "/api/v1/notifications/wechat-subscriptions"): Entry(
        {"resident_a"}, _subscriptions, why="one's own subscriptions, in an app one is bound to"),
})
