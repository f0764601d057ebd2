"""Passwords (argon2id) and JWTs. All JWT code lives here so the library can be swapped in one file."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jwt.exceptions import PyJWTError

from app.core.config import Settings

TokenType = Literal["access", "refresh"]


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hash_password(settings: Settings, password: str) -> str:
    return _hasher(settings.password_time_cost, settings.password_memory_kib).hash(password)


def verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    try:
        return _hasher(settings.password_time_cost, settings.password_memory_kib).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the account does not exist, so timing does not reveal which phones exist.
@lru_cache(maxsize=4)
def dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash("weilinli-no-such-user")


@dataclass(frozen=True, slots=True)
class TokenClaims:
    sub: str
    role: str
    typ: TokenType
    jti: str
    iat: datetime
    exp: datetime
    family: str | None = None  # refresh tokens: their rotation family (one sign-in)
    sid: str | None = None     # access tokens: the sign-in session (the refresh family) they belong to
    cid: str | None = None     # tokens issued through a registered app: its client id (None: first party)
    scp: tuple[str, ...] | None = None  # ... and the scopes it held then (None: first party, unrestricted)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    claims: TokenClaims


def issue_token(settings: Settings, secret: str, *, user_id: int, role: str, typ: TokenType,
                family: str | None = None, now: datetime | None = None, client_id: str | None = None,
                scopes: tuple[str, ...] | None = None) -> IssuedToken:
    """client_id/scopes: a token issued through a registered app carries claims `cid` and `scp`."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    ttl = settings.access_token_ttl_seconds if typ == "access" else settings.refresh_token_ttl_seconds
    claims = TokenClaims(sub=str(user_id), role=role, typ=typ, jti=uuid.uuid4().hex, iat=now,
                         exp=now + timedelta(seconds=ttl), family=family if typ == "refresh" else None,
                         sid=family if typ == "access" else None, cid=client_id,
                         scp=tuple(sorted(scopes or ())) if client_id else None)
    payload = {
        "sub": claims.sub, "role": role, "typ": typ, "jti": claims.jti,
        "iat": int(now.timestamp()), "exp": int(claims.exp.timestamp()),
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
    }
    if family:
        payload["fam" if typ == "refresh" else "sid"] = family
    if client_id:
        payload["cid"] = client_id
        payload["scp"] = list(claims.scp or ())
    return IssuedToken(jwt.encode(payload, secret, algorithm=settings.jwt_algorithm), claims)


class InvalidToken(Exception):
    pass


def decode_token(settings: Settings, secret: str, token: str, *, expected: TokenType) -> TokenClaims:
    """Verify signature (pinned algorithm), exp, iat, iss, aud, sub, jti and the token type.

    A client sends the same access token with every request for its lifetime: the checks that cannot change
    (signature, claims, type) are remembered per token string, and only expiry is checked again on each use."""
    claims = _verified(token, secret, settings.jwt_algorithm, settings.jwt_audience, settings.jwt_issuer, expected)
    if claims.exp.timestamp() < int(time.time()):  # what the library checks, with no leeway
        raise InvalidToken("expired")
    return claims


@lru_cache(maxsize=8192)
def _verified(token: str, secret: str, algorithm: str, audience: str, issuer: str,
              expected: TokenType) -> TokenClaims:
    """Raises InvalidToken (never cached) unless the token is one we signed, of the expected type."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise InvalidToken("algorithm")
        data = jwt.decode(
            token, secret, algorithms=[algorithm], audience=audience, issuer=issuer,
            options={"require": ["exp", "aud", "iss", "iat", "sub", "jti"]},
        )
    except PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if data.get("typ") != expected or not isinstance(data.get("role"), str):
        raise InvalidToken("type")
    try:
        int(data["sub"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("sub") from exc
    cid, scp = data.get("cid"), data.get("scp")
    if cid is not None and (not isinstance(cid, str) or not isinstance(scp, list)
                            or not all(isinstance(x, str) for x in scp)):
        raise InvalidToken("client")
    return TokenClaims(
        sub=data["sub"], role=data["role"], typ=expected, jti=str(data["jti"]),
        iat=datetime.fromtimestamp(data["iat"], UTC), exp=datetime.fromtimestamp(data["exp"], UTC),
        family=data.get("fam"), sid=data.get("sid") if isinstance(data.get("sid"), str) else None,
        cid=cid, scp=tuple(scp) if cid is not None and isinstance(scp, list) else None,
    )
