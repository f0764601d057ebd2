"""Registration, login, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import anyio
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import sessions, throttle
from app.auth.models import RefreshToken
from app.auth.schemas import RegisterIn, TokenOut
from app.clients.models import ApiClient
from app.clients.service import active_client
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, Unauthenticated
from app.core.security import (
    InvalidToken,
    decode_token,
    dummy_hash,
    hash_password,
    issue_token,
    verify_password,
)
from app.core.validators import mask_phone
from app.db.session import Database
from app.privacy.consent import NoticeOutdated, record_consent
from app.users import service as users_service
from app.users.models import Role, User


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    keep_writes = True  # the counted failure must survive the error


class RefreshRefused(Unauthenticated):
    code = "invalid_refresh_token"
    keep_writes = True  # reuse revokes the whole family, and that must land


async def register_resident(database: Database, settings: Settings, data: RegisterIn, address: str | None) -> None:
    """Create the account unless the number has one; the caller cannot tell which (issue 13, item 9). The hash is
    computed in a thread before the write transaction (on SQLite a write holds the database's one write lock),
    and every attempt counts against the client address's registration limit."""
    if data.privacy_notice_version != settings.privacy_notice_version:  # before any work: the client re-reads it
        raise NoticeOutdated(details={"required_version": settings.privacy_notice_version,
                                      "accepted_version": data.privacy_notice_version})
    password_hash = await anyio.to_thread.run_sync(hash_password, settings, data.password)
    keys = [("reg", f"reg:{(address or 'unknown')[:60]}")]
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        await throttle.ensure_not_locked(db, keys, now)
        await throttle.record_failure(db, settings, keys, now)
    async with database.session(write=True) as db:
        existing = (await db.execute(select(User.id).where(User.phone == data.phone))).scalar_one_or_none()
        if existing is not None:  # told to nobody but the audit trail (the owner's SMS comes with issue 18)
            audit.record(db, None, "auth.register_existing", "user", existing, phone=mask_phone(data.phone))
            return
        user = await users_service.create_user(
            db, settings, phone=data.phone, password=None, password_hash=password_hash,
            display_name=data.display_name, role=Role.resident, building_id=data.building_id)
        await record_consent(db, user.id, data.privacy_notice_version, via="register", settings=settings)
        audit.record(db, user.id, "auth.register", "user", user.id, phone=mask_phone(data.phone))


async def _issue_pair(db: AsyncSession, settings: Settings, secret: str, user: User | Row, family: str,
                      now: datetime, client: ApiClient | None = None) -> TokenOut:
    """`user`: the account or a row of it with id and role. `client`: the registered app the sign-in came
    through; both tokens then carry its client id and scopes (claims `cid`, `scp`)."""
    cid = client.client_id if client is not None else None
    scp = tuple(client.scopes) if client is not None else None
    access = issue_token(settings, secret, user_id=user.id, role=user.role, typ="access", family=family, now=now,
                         client_id=cid, scopes=scp)
    refresh = issue_token(settings, secret, user_id=user.id, role=user.role, typ="refresh", family=family, now=now,
                          client_id=cid, scopes=scp)
    db.add(RefreshToken(jti=refresh.claims.jti, user_id=user.id, family=family, issued_at=refresh.claims.iat,
                        expires_at=refresh.claims.exp))
    await db.flush()
    return TokenOut(access_token=access.token, expires_in=settings.access_token_ttl_seconds,
                    refresh_token=refresh.token, refresh_expires_in=settings.refresh_token_ttl_seconds)


_LOGIN_ROW = select(User.id, User.role, User.is_active, User.password_hash)


async def login(database: Database, settings: Settings, secret: str, *, phone: str, password: str,
                address: str | None, client: ApiClient | None = None) -> TokenOut:
    """Check the password outside any write transaction, then record the outcome in a short one.

    argon2id takes ~30 ms of CPU. Inside a write transaction it would hold SQLite's single write lock for all
    that time (every login and every other write would queue behind each hash); on PostgreSQL it would hold a
    pooled connection idle in a transaction. The write transaction re-reads the hash it verified, so a password
    changed in between counts as a failure, never as a login with the old one."""
    now = datetime.now(UTC)
    keys = throttle.keys_for(secret, phone, address)
    async with database.session(write=False) as db:
        user = (await db.execute(_LOGIN_ROW.where(User.phone == phone))).one_or_none()
        # an address this account signed in from before is not locked out by other people's failures; its own
        # wrong guesses still count
        if user is None or not await throttle.is_known(db, user.id, address):
            await throttle.ensure_not_locked(db, keys, now)
    stored = user.password_hash if user is not None else dummy_hash(settings.password_time_cost,
                                                                    settings.password_memory_kib)
    # off the event loop (argon2-cffi releases the GIL, so a second core helps)
    ok = await anyio.to_thread.run_sync(verify_password, settings, stored, password) and user is not None
    async with database.session(write=True) as db:
        if ok:
            current = (await db.execute(_LOGIN_ROW.where(User.id == user.id))).one_or_none()
            ok = current is not None and current.password_hash == user.password_hash
            user = current
        if not ok:
            await throttle.record_failure(db, settings, keys, now)
            if user is not None:  # a failure against a real account is that account's business
                audit.record(db, user.id, "auth.login_failed", "user", user.id, address=address)
            raise InvalidCredentials()
        if not user.is_active:
            raise Unauthenticated("account_disabled")
        await throttle.clear(db, secret, phone)
        await throttle.remember(db, user.id, address, now)
        audit.record(db, user.id, "auth.login", "user", user.id, address=address)
        return await _issue_pair(db, settings, secret, user, uuid.uuid4().hex, now, client)


async def refresh(db: AsyncSession, settings: Settings, secret: str, token: str) -> TokenOut:
    """Rotate: the presented token is used up; presenting a used one revokes its whole family."""
    try:
        claims = decode_token(settings, secret, token, expected="refresh")
    except InvalidToken as exc:
        raise Unauthenticated("invalid_refresh_token") from exc
    now = datetime.now(UTC)
    won = (await db.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == claims.jti, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),
               RefreshToken.expires_at > now)
        .values(used_at=now)
        .returning(RefreshToken.family, RefreshToken.user_id))).one_or_none()
    if won is None:
        if await sessions.revoke_families(db, {claims.family}):  # a used token presented again: stolen or replayed
            audit.record(db, int(claims.sub), "auth.refresh_reuse", "user", int(claims.sub), family=claims.family)
        raise RefreshRefused()
    user = await db.get(User, won.user_id)
    if user is None or not user.is_active or user.role != claims.role:
        raise Unauthenticated("invalid_refresh_token")
    # a sign-in through an app stays with it: refused while it is suspended, and given its scopes of now
    client = await active_client(db, claims.cid) if claims.cid else None
    return await _issue_pair(db, settings, secret, user, won.family, now, client)


async def logout(db: AsyncSession, settings: Settings, secret: str, token: str, *, user_id: int,
                 session_id: str | None) -> None:
    """End this sign-in: the refresh token's whole family and the session of the caller's access token (normally
    the same), whose access tokens stop at once. The refresh token must be the caller's own."""
    try:
        claims = decode_token(settings, secret, token, expected="refresh")
    except InvalidToken as exc:
        raise Unauthenticated("invalid_refresh_token") from exc
    if int(claims.sub) != user_id:  # someone else's sign-in: not yours to see or end
        raise NotFound()
    await sessions.revoke_families(db, {f for f in (claims.family, session_id) if f}, user_id=user_id)
    audit.record(db, int(claims.sub), "auth.logout", "user", int(claims.sub))


async def change_password(database: Database, settings: Settings, user_id: int, current: str, new: str) -> None:
    """Verify the current password, store the new one, and end every session (refresh and access tokens).

    Both argon2 computations run in a thread outside any write transaction; wrong current passwords count like
    failed logins (locked after LOGIN_MAX_FAILURES: 429) and each is audited."""
    keys = [("phone", f"pwd:{user_id}")]
    now = datetime.now(UTC)
    async with database.session(write=False) as db:
        await throttle.ensure_not_locked(db, keys, now)
        stored = (await db.execute(select(User.password_hash).where(User.id == user_id))).scalar_one_or_none()
    if stored is None or not await anyio.to_thread.run_sync(verify_password, settings, stored, current):
        async with database.session(write=True) as db:
            await throttle.record_failure(db, settings, keys, now)
            audit.record(db, user_id, "auth.password_change_failed", "user", user_id)
        raise InvalidInput("wrong_password")
    new_hash = await anyio.to_thread.run_sync(hash_password, settings, new)
    async with database.session(write=True) as db:
        # conditional on the hash verified above: of two concurrent changes, the second must verify again
        done = await db.execute(update(User).where(User.id == user_id, User.password_hash == stored)
                                .values(password_hash=new_hash, password_changed_at=datetime.now(UTC)))
        if done.rowcount != 1:
            raise InvalidInput("wrong_password")
        await sessions.revoke_all(db, user_id)
        await throttle.clear_key(db, keys[0][1])
        audit.record(db, user_id, "auth.password_changed", "user", user_id)
