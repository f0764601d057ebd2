"""Sign-in by SMS code (短信验证码, issue 18): ask for a code, then log in, register or reset the password with it.

A code is six digits from `secrets`, stored as an HMAC (app/auth/codes.py), valid for five minutes, for one
number and one purpose. Only the newest code of a (number, purpose) counts. It is won by ONE conditional UPDATE
(`used_at IS NULL AND attempts < 5 AND expires_at > now`), so two concurrent uses cannot both succeed; each wrong
try is counted by another conditional UPDATE, and the fifth kills the code. Refusals keep their writes (the
counted try stands) and write nothing else.

Accounts are not revealed by asking: a code is sent for any number and any purpose, with the same answer. Only
someone who holds a valid code for the number (its owner) learns whether it has an account, when using it."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import codes, sessions, sms_limits, throttle
from app.auth.schemas import TokenOut
from app.auth.service import _issue_pair
from app.auth.sms_models import SmsCode
from app.auth.sms_schemas import SmsRegisterIn
from app.auth.sms_sender import sender_for
from app.clients.models import ApiClient
from app.core.config import Settings
from app.core.errors import AppError, Conflict, NotFound, ServiceUnavailable, Unauthenticated
from app.core.security import hash_password
from app.core.validators import mask_phone
from app.db.session import Database
from app.notifications import provider_outbox
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role, User


class SmsCodeRefused(AppError):
    """The code does not prove the number: sms_code_invalid / _expired / _used / _attempts_exceeded."""

    status_code = 401
    code = "sms_code_invalid"
    keep_writes = True  # a counted wrong try must stand


class NoAccount(NotFound):
    """A valid code for a number without an account (told only to whoever holds the code)."""

    keep_writes = True  # the code is spent


async def request_code(database: Database, settings: Settings, key: str, *, phone: str, purpose: str,
                       address: str | None) -> int:
    """Count the request against the limits, store the code's hash and queue its SMS, in one transaction that
    commits before anything is sent. Returns the outbox row's id (the router sends it right after the commit)."""
    if sender_for(settings) is None:
        raise ServiceUnavailable()
    now = datetime.now(UTC)
    code = codes.new_code()
    expires = now + timedelta(seconds=codes.TTL_SECONDS)
    async with database.session(write=True) as db:
        await sms_limits.count_request(db, settings, key, phone, address, now)
        db.add(SmsCode(phone=phone, purpose=purpose, code_hash=codes.code_hash(key, phone, purpose, code),
                       attempts=0, created_at=now, expires_at=expires, address=(address or "")[:64] or None))
        return await provider_outbox.enqueue(db, "sms", phone, {"purpose": purpose, "code": code}, now,
                                             expires_at=expires)


_LATEST = select(SmsCode.id, SmsCode.code_hash, SmsCode.attempts, SmsCode.expires_at, SmsCode.used_at)


async def consume(db: AsyncSession, key: str, *, phone: str, purpose: str, code: str, now: datetime) -> None:
    """Win the newest code of (phone, purpose) with `code`, or raise SmsCodeRefused."""
    row = (await db.execute(_LATEST.where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                            .order_by(SmsCode.id.desc()).limit(1))).one_or_none()
    if row is None:
        raise SmsCodeRefused("sms_code_invalid", {"attempts_left": 0})
    _refuse_dead(row.used_at, row.attempts, row.expires_at, now)
    if not codes.matches(key, phone, purpose, code, row.code_hash):
        tried = (await db.execute(
            update(SmsCode).where(SmsCode.id == row.id, SmsCode.used_at.is_(None),
                                  SmsCode.attempts < codes.MAX_ATTEMPTS)
            .values(attempts=SmsCode.attempts + 1).returning(SmsCode.attempts)
            .execution_options(synchronize_session=False))).scalar_one_or_none()
        if tried is None:  # it changed meanwhile (used, or killed by concurrent tries): say what it is now
            now_row = (await db.execute(_LATEST.where(SmsCode.id == row.id))).one()
            _refuse_dead(now_row.used_at, now_row.attempts, now_row.expires_at, now)
            raise SmsCodeRefused("sms_code_used")
        if tried >= codes.MAX_ATTEMPTS:
            raise SmsCodeRefused("sms_code_attempts_exceeded")
        raise SmsCodeRefused("sms_code_invalid", {"attempts_left": codes.MAX_ATTEMPTS - tried})
    won = (await db.execute(
        update(SmsCode).where(SmsCode.id == row.id, SmsCode.used_at.is_(None), SmsCode.attempts < codes.MAX_ATTEMPTS,
                              SmsCode.expires_at > now)
        .values(used_at=now).returning(SmsCode.id).execution_options(synchronize_session=False))).scalar_one_or_none()
    if won is None:  # someone else used it a moment ago (or it died meanwhile)
        raise SmsCodeRefused("sms_code_used")


def _refuse_dead(used_at: datetime | None, attempts: int, expires_at: datetime, now: datetime) -> None:
    if used_at is not None:
        raise SmsCodeRefused("sms_code_used")
    if attempts >= codes.MAX_ATTEMPTS:
        raise SmsCodeRefused("sms_code_attempts_exceeded")
    if expires_at <= now:
        raise SmsCodeRefused("sms_code_expired")


_USER = select(User.id, User.role, User.is_active)


async def login(database: Database, settings: Settings, secret: str, key: str, *, phone: str, code: str,
                address: str | None, client: ApiClient | None = None) -> TokenOut:
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        await consume(db, key, phone=phone, purpose="login", code=code, now=now)
        user = (await db.execute(_USER.where(User.phone == phone))).one_or_none()
        if user is None:
            raise NoAccount()
        if not user.is_active:
            raise Unauthenticated("account_disabled")
        audit.record(db, user.id, "auth.login", "user", user.id, address=address, via="sms")
        return await _issue_pair(db, settings, secret, user, uuid.uuid4().hex, now, client)


async def register(database: Database, settings: Settings, secret: str, key: str, data: SmsRegisterIn, *,
                   address: str | None, client: ApiClient | None = None) -> TokenOut:
    """A resident account for a number proved by its code, signed in at once. Without a password the account
    gets an unusable random one (sign in by code; set one through the reset). A number that has an account
    answers 409 phone_taken: only the holder of a valid code gets that far."""
    password = data.password or secrets.token_urlsafe(32)
    password_hash = await anyio.to_thread.run_sync(hash_password, settings, password)
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        await consume(db, key, phone=data.phone, purpose="register", code=data.code, now=now)
        if (await db.execute(select(User.id).where(User.phone == data.phone))).first() is not None:
            raise Conflict("phone_taken")
        user = await users_service.create_user(
            db, settings, phone=data.phone, password=None, password_hash=password_hash,
            display_name=data.display_name, role=Role.resident, building_id=data.building_id)
        # issue 18 × privacy: the consent is recorded here, in this transaction, once app.privacy lands:
        await record_consent(db, user.id, data.privacy_notice_version, via="sms", settings=settings)
        audit.record(db, user.id, "auth.register", "user", user.id, phone=mask_phone(data.phone), via="sms",
                     privacy_notice_version=data.privacy_notice_version)
        return await _issue_pair(db, settings, secret, user, uuid.uuid4().hex, now, client)


async def reset_password(database: Database, settings: Settings, key: str, *, phone: str, code: str,
                         new_password: str) -> None:
    """A new password for the number's account; every session of the account ends."""
    new_hash = await anyio.to_thread.run_sync(hash_password, settings, new_password)
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        await consume(db, key, phone=phone, purpose="reset_password", code=code, now=now)
        user_id = (await db.execute(select(User.id).where(User.phone == phone))).scalar_one_or_none()
        if user_id is None:
            raise NoAccount()
        await db.execute(update(User).where(User.id == user_id)
                         .values(password_hash=new_hash, password_changed_at=now)
                         .execution_options(synchronize_session=False))
        await sessions.revoke_all(db, user_id)
        await throttle.clear(db, key, phone)  # the owner proved the number: the password lock is lifted
        audit.record(db, user_id, "auth.password_reset", "user", user_id, via="sms")
