"""Request-rate limits (issue 18): per key, at most N requests in a window of RATE_LIMIT_WINDOW_SECONDS that starts
at the key's first request (a fixed window, not aligned to the clock).

- writes (POST, PUT, PATCH, DELETE) outside /api/v1/auth: per user (the bearer token's subject; without a valid
  token, per client address) RATE_LIMIT_USER_WRITES, and per app RATE_LIMIT_CLIENT_WRITES (the `cid` claim of a
  token issued through an app, else the X-Client-Id header);
- every write to /api/v1/auth (sign-in, registration, codes, refresh): per client address RATE_LIMIT_AUTH_PER_ADDRESS;
  and per phone number RATE_LIMIT_AUTH_PER_PHONE where a route names one (`check_phone`).
Over a limit: 429 `too_many_requests`, `Retry-After` and details {"retry_after"} (the seconds left in the window).
The login lockout of app/auth/throttle.py (failures, not requests) is separate and stays.

The counters live in Redis when REDIS_URL is set (INCR + EXPIRE in one MULTI: every worker process and machine shares
them), else in this process's memory. A Redis error lets the request through (logged): limits protect the service,
they are not worth refusing every write for while Redis is away.

The client address is the peer's, or, when BEHIND_PROXY and the peer is one of FORWARDED_ALLOW_IPS, the one it
names in X-Forwarded-For (uvicorn's ProxyHeadersMiddleware, installed by `install`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.core.middleware import _header, _send_error
from app.core.routing import document_everywhere
from app.core.security import InvalidToken, decode_token

log = logging.getLogger("weilinli.ratelimit")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTH_PREFIX = "/api/v1/auth/"


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends (when refused)


class Backend(Protocol):
    async def hit(self, key: str, window: int, now: float) -> tuple[int, float]:
        """Count one request for `key` in the window containing `now`: (count so far, seconds the window has left)."""
        ...


class MemoryBackend:
    """One process's counters: key -> (window start, count); ended windows dropped as the dict grows."""

    def __init__(self, max_keys: int = 100_000):
        self.counts: dict[str, tuple[float, int]] = {}
        self.max_keys = max_keys

    async def hit(self, key: str, window: int, now: float) -> tuple[int, float]:
        start, count = self.counts.get(key, (now, 0))
        if now >= start + window:
            start, count = now, 0
        elif key not in self.counts and len(self.counts) >= self.max_keys:
            self.counts = {k: v for k, v in self.counts.items() if now < v[0] + window}
            if len(self.counts) >= self.max_keys:  # all current: forget the lot rather than grow without bound
                self.counts.clear()
        self.counts[key] = (start, count + 1)
        return count + 1, start + window - now


class RedisBackend:
    """Shared counters: `<prefix><key>` created with the window as its expiry (SET NX EX), then INCR and PTTL, all in
    one MULTI: the window starts at the key's first request and ends when Redis expires it."""

    def __init__(self, url: str, prefix: str):
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    async def hit(self, key: str, window: int, now: float) -> tuple[int, float]:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=window, nx=True)
            pipe.incr(name)
            pipe.pttl(name)
            _, count, pttl = await pipe.execute()
        return int(count), max(int(pttl), 0) / 1000

    async def close(self) -> None:
        await self.redis.aclose()


class Limiter:
    def __init__(self, backend: Backend, window: int, clock: Callable[[], float] = time.time):
        self.backend = backend
        self.window = window
        self.clock = clock

    async def check(self, keys: list[tuple[str, int]]) -> Verdict:
        """Count the request against each (key, limit); refused when any is over its limit."""
        now = self.clock()
        worst = 0.0
        for key, limit in keys:
            try:
                count, left = await self.backend.hit(key, self.window, now)
            except Exception:  # noqa: BLE001 - Redis away: let the request through
                log.warning("rate limit backend unavailable", exc_info=True)
                return Verdict(True, 0)
            if count > limit:
                worst = max(worst, left)
        if worst:
            return Verdict(False, max(1, math.ceil(worst)))
        return Verdict(True, 0)

    async def close(self) -> None:
        if isinstance(self.backend, RedisBackend):
            await self.backend.close()


def make_limiter(settings: Settings) -> Limiter:
    backend: Backend = (RedisBackend(settings.redis_url, settings.rate_limit_key_prefix) if settings.redis_url
                        else MemoryBackend())
    return Limiter(backend, settings.rate_limit_window_seconds)


def _token_of(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization") or ""
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def keys_for(scope: Scope, settings: Settings, jwt_secret: str) -> list[tuple[str, int]]:
    """The (key, limit) pairs a request counts against; none for reads."""
    if scope.get("method") not in WRITE_METHODS:
        return []
    address = (scope.get("client") or ("",))[0] or ""
    if scope.get("path", "").startswith(AUTH_PREFIX):
        return [(f"auth-addr:{address[:64]}", settings.rate_limit_auth_per_address)]
    user, client_id = None, None
    token = _token_of(scope)
    if token:
        try:
            claims = decode_token(settings, jwt_secret, token, expected="access")
            user, client_id = claims.sub, claims.cid
        except InvalidToken:
            pass
    client_id = client_id or _header(scope, b"x-client-id")
    keys = [(f"user:{user}" if user else f"addr:{address[:64]}", settings.rate_limit_user_writes)]
    if client_id:
        keys.append((f"client:{client_id[:64]}", settings.rate_limit_client_writes))
    return keys


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: Limiter, settings: Settings, jwt_secret: str):
        self.app = app
        self.limiter = limiter
        self.settings = settings
        self.jwt_secret = jwt_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            keys = keys_for(scope, self.settings, self.jwt_secret)
            if keys:
                verdict = await self.limiter.check(keys)
                if not verdict.allowed:
                    await _send_error(scope, send, 429, "too_many_requests", {"retry_after": verdict.retry_after},
                                      headers={"Retry-After": str(verdict.retry_after)})
                    return
        await self.app(scope, receive, send)


async def check_phone(request: Request, phone: str) -> None:
    """Count a sign-in or code request for this phone number: 429 over RATE_LIMIT_AUTH_PER_PHONE."""
    settings: Settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    verdict = await request.app.state.limiter.check([(f"phone:{phone}", settings.rate_limit_auth_per_phone)])
    if not verdict.allowed:
        raise TooManyRequests(retry_after=verdict.retry_after)


def install(app: FastAPI, settings: Settings) -> None:
    """Call where the limits should sit in the middleware stack (inside the request-id middleware). Also trusts
    X-Forwarded-For from FORWARDED_ALLOW_IPS when BEHIND_PROXY (outside the limits, so they see the real address)."""
    app.state.limiter = make_limiter(settings)
    document_everywhere(app, (429,), lambda method, _: method.upper() in WRITE_METHODS)
    if settings.rate_limits_enabled:
        app.add_middleware(RateLimitMiddleware, limiter=app.state.limiter, settings=settings,
                           jwt_secret=app.state.jwt_secret)
    if settings.behind_proxy:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips or "127.0.0.1")
