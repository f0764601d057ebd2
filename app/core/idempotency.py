"""Idempotent retries of creating POSTs (issue 18): the `Idempotency-Key` header.

A route opts in with `dependencies=[Idempotent]` (its router: `APIRouter(route_class=IdempotentRoute)`). With a
key, the request's FIRST write, in its own transaction, is the claim: an INSERT of (caller, key, hash of method +
path + raw body) under a unique constraint. The route runs, and its response (status, body, Content-Type and
Location) is written to that row before the transaction commits (the handler is wrapped by IdempotentRoute; get_db
commits after it, before the response is sent). So the record and the effect commit together or not at all: a
crash leaves neither, an error rolls both back (the retry runs again), and a replay returns what the first answered.

A second request with the key:
- the first has committed: its stored response is replayed (header `Idempotent-Replayed: true`);
- the first is still running: PostgreSQL makes the second INSERT wait on the first's uncommitted row, for at most
  IDEMPOTENCY_WAIT_SECONDS (then 409 `idempotency_in_progress`), and replays once the first commits; on SQLite
  every write transaction already waits its turn (BEGIN IMMEDIATE), so the second starts after the first commits;
- another method, path or body under the same key: 422 `idempotency_key_reused`.
Keys are per caller: the user of the bearer token, or, without a valid token, the app (X-Client-Id) and address.
Records live IDEMPOTENCY_TTL_HOURS (24 h); the worker job `purge_expired` deletes older ones.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import AppError, Conflict, InvalidInput
from app.core.idempotency_models import IdempotencyRecord
from app.core.routing import document_everywhere
from app.core.security import InvalidToken, decode_token
from app.db.base import utcnow
from app.db.session import DbSession

log = logging.getLogger("weilinli.idempotency")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")  # printable ASCII
_KEPT_HEADERS = ("content-type", "location")
_HASHER = "idempotency_hasher"
_CLAIM = "idempotency_claim"
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired
# the claim's wait on a running first request, for this transaction only; the previous value comes back first
_SET_LOCK_TIMEOUT = text("SELECT current_setting('lock_timeout'), set_config('lock_timeout', :v, true)")
_TABLE = cast(Table, IdempotencyRecord.__table__)


class _BodyHasher:
    """sha256 of a body as it streams by. A multipart body's boundary is replaced by a fixed token first: a client
    that retries by encoding the same form again picks a new random boundary, and it is still the same request."""

    def __init__(self, seed: bytes, boundary: bytes | None):
        self.hasher = hashlib.sha256(seed)
        self.boundary = boundary
        self.pending = b""
        self.done = False

    def feed(self, chunk: bytes, final: bool) -> None:
        if not self.boundary:
            self.hasher.update(chunk)
        else:
            data, b, pos = self.pending + chunk, self.boundary, 0
            while (i := data.find(b, pos)) >= 0:
                self.hasher.update(data[pos:i] + b"<boundary>")
                pos = i + len(b)
            keep = 0 if final else min(len(data) - pos, len(b) - 1)  # may start a boundary the next chunk ends
            self.hasher.update(data[pos:len(data) - keep])
            self.pending = data[len(data) - keep:]
        self.done = final

    def hexdigest(self) -> str:
        return self.hasher.hexdigest()


def _boundary(content_type: str | None) -> bytes | None:
    if not content_type or not content_type.lower().startswith("multipart/"):
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode("latin-1")
    return None


class BodyHashMiddleware:
    """For a POST with an Idempotency-Key: hash the raw body as it streams to the app (JSON or multipart alike,
    nothing buffered), seeded with the method, path and query string. The dependency reads the digest."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # the headers as a dict only for a POST (every other request passes straight through)
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" and scope["method"] == "POST" else {}
        if b"idempotency-key" not in headers:
            await self.app(scope, receive, send)
            return
        seed = f"{scope['method']} {scope['path']}?".encode() + scope.get("query_string", b"") + b"\n"
        content_type = headers.get(b"content-type")
        hasher = _BodyHasher(seed, _boundary(content_type.decode("latin-1") if content_type else None))
        scope.setdefault("state", {})[_HASHER] = hasher

        async def hashing_receive() -> Message:
            msg = await receive()
            if msg["type"] == "http.request":
                hasher.feed(msg.get("body", b""), not msg.get("more_body", False))
            return msg

        await self.app(scope, hashing_receive, send)


@dataclass(slots=True)
class _Claim:
    session: AsyncSession
    record_id: int


class _Replay(Exception):  # noqa: N818 - not an error: answered with the stored response
    def __init__(self, status_code: int, headers: dict[str, str] | None, body: bytes | None):
        super().__init__("idempotent replay")
        self.status_code, self.headers, self.body = status_code, headers or {}, body or b""


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


def caller_of(request: Request) -> str:
    """The user of a valid bearer token; otherwise the app (X-Client-Id) and the client address."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        state = request.app.state
        try:
            return f"u:{int(decode_token(state.settings, state.jwt_secret, auth[7:].strip(), expected='access').sub)}"
        except (InvalidToken, ValueError):
            pass
    client_id = (request.headers.get("x-client-id") or "")[:40]
    address = request.client.host if request.client else ""
    return f"a:{client_id}:{address[:64]}"


async def _digest(request: Request) -> str:
    hasher: _BodyHasher | None = request.scope.get("state", {}).get(_HASHER)
    if hasher is None:  # not through the middleware (an app built without it): hash what the route read
        body = await request.body()
        return hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode() + body).hexdigest()
    if not hasher.done:  # a route without a body parameter: read (and hash) the rest
        try:
            await request.body()
        except RuntimeError:  # the stream was consumed already: it was hashed on the way
            pass
    return hasher.hexdigest()


async def _insert_claim(db: AsyncSession, caller: str, key: str, digest: str, now: datetime,
                        wait_seconds: float) -> int | None:
    t = _TABLE
    postgres = db.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    stmt = (insert(t).values(caller=caller, key=key, request_hash=digest, created_at=now)
            .on_conflict_do_nothing(index_elements=[t.c.caller, t.c.key]).returning(t.c.id))
    if not postgres:
        return (await db.execute(stmt)).scalar_one_or_none()
    previous: str = (await db.execute(_SET_LOCK_TIMEOUT, {"v": f"{max(1, int(wait_seconds * 1000))}ms"})).scalar_one()
    try:
        row_id = (await db.execute(stmt)).scalar_one_or_none()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise Conflict("idempotency_in_progress") from None
        raise
    await db.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})
    return row_id


async def claim(db: AsyncSession, settings: Settings, caller: str, key: str, digest: str, now: datetime) -> int:
    """Claim the key for this request (the row id), or raise: _Replay with the first response,
    idempotency_key_reused, idempotency_in_progress."""
    for _ in range(2):
        row_id = await _insert_claim(db, caller, key, digest, now, settings.idempotency_wait_seconds)
        if row_id is not None:
            return row_id
        t = _TABLE
        record = (await db.execute(select(t.c.id, t.c.created_at, t.c.request_hash, t.c.status_code, t.c.headers,
                                          t.c.body).where(t.c.caller == caller, t.c.key == key))).first()
        if record is None:  # its request rolled back between our two statements: claim again
            continue
        if record.created_at < now - timedelta(hours=settings.idempotency_ttl_hours):
            await db.execute(delete(t).where(t.c.id == record.id))
            continue
        if record.request_hash != digest:
            raise InvalidInput("idempotency_key_reused")
        if record.status_code is None:  # committed without a response: cannot happen (see `_completing`)
            raise Conflict("idempotency_in_progress")
        raise _Replay(record.status_code, record.headers, record.body)
    raise Conflict("idempotency_in_progress")


async def idempotency(
    request: Request, db: DbSession,
    key: Annotated[str | None, Header(
        alias=HEADER, description="Makes a retried POST safe: the same key with the same body returns the first "
        "response (1–255 printable ASCII characters; kept 24 hours; a UUID is a good choice).")] = None,
) -> None:
    if key is None:
        return
    if not valid_key(key):
        raise InvalidInput("idempotency_key_invalid")
    settings: Settings = request.app.state.settings
    digest = await _digest(request)
    record_id = await claim(db, settings, caller_of(request), key, digest, utcnow())
    request.state.idempotency_claim = _Claim(db, record_id)


# Creating POSTs declare `dependencies=[Idempotent]`.
Idempotent = Depends(idempotency)


async def _store(claim_: _Claim, response: Response) -> None:
    t = _TABLE
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):  # a streamed answer cannot be replayed: forget the key instead
        await claim_.session.execute(delete(t).where(t.c.id == claim_.record_id))
        return
    headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    await claim_.session.execute(update(t).where(t.c.id == claim_.record_id).values(
        status_code=response.status_code, headers=headers, body=body))


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _completing(handler: Handler) -> Handler:
    """The route's handler, then the response stored in the claim: inside the request's unit of work (get_db
    commits when the handler's exit stack closes, after this returns)."""

    async def completing(request: Request) -> Response:
        try:
            response = await handler(request)
        except AppError as exc:
            found = getattr(request.state, _CLAIM, None)
            if exc.keep_writes and found is not None:  # the error's writes commit: not the claim
                await found.session.execute(delete(_TABLE).where(
                    _TABLE.c.id == found.record_id))
            raise
        found = getattr(request.state, _CLAIM, None)
        if found is not None:
            await _store(found, response)
        return response

    return completing


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Replay)
    return Response(content=exc.body, status_code=exc.status_code, headers={**exc.headers, REPLAYED: "true"})


def uses_idempotency(route: APIRoute) -> bool:
    return any(d.call is idempotency for d in route.dependant.dependencies)


class IdempotentRoute(APIRoute):
    """The route class of routers with idempotent routes (`APIRouter(route_class=IdempotentRoute)`, FastAPI's way to
    act on a route's response): their handler stores the response in the claim before get_db commits."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        return _completing(handler) if uses_idempotency(self) else handler


def install(app: FastAPI) -> None:
    """After the routers are included: answer replays, hash bodies, document 409 and 422; refuse to start when a
    route takes Idempotency-Key without the route class that stores its responses."""
    wrong = [ctx.route.path for ctx in iter_route_contexts(list(app.routes)) if isinstance(ctx.route, APIRoute)
             and uses_idempotency(ctx.route) and not isinstance(ctx.route, IdempotentRoute)]
    if wrong:
        raise RuntimeError(f"dependencies=[Idempotent] needs APIRouter(route_class=IdempotentRoute): {wrong}")
    app.add_exception_handler(_Replay, _replay)
    document_everywhere(app, (409, 422), lambda _, op: any(
        p.get("name") == HEADER and p.get("in") == "header" for p in op.get("parameters", ())))
    app.add_middleware(BodyHashMiddleware)


async def purge_expired(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Worker job: delete records older than IDEMPOTENCY_TTL_HOURS, 1000 at a time."""
    cutoff = now - timedelta(hours=settings.idempotency_ttl_hours)
    ids = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff).limit(1000).scalar_subquery()
    result = await db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)
