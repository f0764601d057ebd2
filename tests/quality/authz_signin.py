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
                     "building_id": c.world.b1.id, "privacy_notice_version": "v1"})


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
