"""CORS for the origins in CORS_ORIGINS and those of active registered apps.

`OriginRegistry` answers "may this origin read our answers?": CORS_ORIGINS first (no I/O), then the origins of the
active apps, read in one query and remembered for CLIENT_ORIGINS_TTL_SECONDS. A change to an app (registration,
origins, suspension, reactivation) makes this process forget them when its transaction commits; other processes
follow within the TTL (0: read on every request that carries an unknown Origin). A read that started before a
change and finished after it is not remembered (`generation`).

`ClientCorsMiddleware` is pure ASGI: an allowed origin gets `Access-Control-Allow-Origin: <origin>` (never `*`, no
credentials: the API takes bearer tokens, not cookies) and its preflight is answered here; any other origin gets
no CORS header at all, and its preflight goes on to the app like any OPTIONS request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.clients.manage import CHANGED
from app.clients.models import ApiClient
from app.clients.origins import OriginInvalid, normalize_origin
from app.db.reader import Rows

ACTIVE_ORIGINS = select(ApiClient.origins).where(ApiClient.status == "active")
ALLOW_METHODS = b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
EXPOSE_HEADERS = b"X-Request-ID, Retry-After"
PREFLIGHT_MAX_AGE = b"600"


def _static(origins: Iterable[str]) -> frozenset[str]:
    out = set()
    for o in origins:
        try:
            out.add(normalize_origin(o))
        except OriginInvalid:
            out.add(o.strip().lower().rstrip("/"))
    return frozenset(out)


async def active_app_origins(rows: Rows) -> frozenset[str]:
    return frozenset(o for r in await rows.all(ACTIVE_ORIGINS) for o in (r["origins"] or ()))


class OriginRegistry:
    def __init__(self, configured: Iterable[str], ttl: float, load: Callable[[], Awaitable[frozenset[str]]],
                 clock: Callable[[], float] = time.monotonic):
        configured = list(configured)
        self.any = "*" in configured  # development only (refused in production by Settings.problems)
        self.configured = _static(o for o in configured if o != "*")
        self.ttl, self._load, self._clock = ttl, load, clock
        self.generation = 0
        self.loads = 0
        self._origins: frozenset[str] | None = None
        self._until = 0.0

    def forget(self) -> None:
        self.generation += 1
        self._origins = None

    def on_commit(self, info: dict) -> None:
        """Database.on_commit hook: a committed change to an app forgets the remembered origins."""
        if info.pop(CHANGED, False):
            self.forget()

    async def app_origins(self) -> frozenset[str]:
        if self._origins is not None and self._clock() < self._until:
            return self._origins
        generation = self.generation
        self.loads += 1
        origins = await self._load()
        if self.ttl > 0 and generation == self.generation:
            self._origins, self._until = origins, self._clock() + self.ttl
        return origins

    async def allows(self, origin: str) -> bool:
        if self.any or origin in self.configured:
            return True
        return origin in await self.app_origins()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v
    return None


class ClientCorsMiddleware:
    def __init__(self, app: ASGIApp, registry: OriginRegistry):
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _header(scope, b"origin")
        origin = raw.decode("latin-1").strip().lower() if raw else ""
        if not origin or len(origin) > 300 or not await self.registry.allows(origin):
            await self.app(scope, receive, send)
            return
        allow = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
        requested = _header(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and requested is not None:
            headers = [*allow, (b"access-control-allow-methods", ALLOW_METHODS),
                       (b"access-control-max-age", PREFLIGHT_MAX_AGE), (b"content-length", b"0")]
            asked = _header(scope, b"access-control-request-headers")
            if asked:
                headers.append((b"access-control-allow-headers", asked))
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                kept = [(k, v) for k, v in msg.get("headers", ()) if k.lower() not in (
                    b"access-control-allow-origin", b"access-control-expose-headers")]
                msg["headers"] = [*kept, *allow, (b"access-control-expose-headers", EXPOSE_HEADERS)]
            await send(msg)

        await self.app(scope, receive, send_with_cors)
