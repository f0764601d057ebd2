"""Pure ASGI middleware: request id + access log, and the request body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics as metrics_mod
from app.core.i18n import english_var, message, wants_english
from app.core.logging import request_id_var

access_log = logging.getLogger("weilinli.access")
_RID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Give every request an id (or keep a sane incoming X-Request-ID), echo it, log one access line, and
    record the request in the app's metrics (by route template); business counters bumped while the request
    runs go to the same metrics."""

    def __init__(self, app: ASGIApp, metrics: metrics_mod.Metrics | None = None):
        self.app = app
        self.metrics = metrics or metrics_mod.Metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if incoming and _RID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        english_token = english_var.set(wants_english(_header(scope, b"accept-language")))
        metrics_token = metrics_mod.bind(self.metrics)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_id(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                scope["state"]["_response_started"] = True
                msg.setdefault("headers", [])
                msg["headers"] = [*msg["headers"], (b"x-request-id", rid.encode())]
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Inside the request-id middleware so even a 500 carries X-Request-ID; no trace reaches the client.
            access_log.exception("unhandled error", extra={"path": scope.get("path")})
            if status == 500 and not _started(scope):
                await _send_error(scope, send_with_id, 500, "internal_error")
            else:
                raise
        finally:
            elapsed = time.perf_counter() - started
            route = self.metrics.route_template(scope)
            method = scope.get("method", "")
            state = scope.get("state", {})
            access_log.info("request", extra={
                "method": method, "path": scope.get("path"), "route": route, "status": status,
                "duration_ms": round(elapsed * 1000, 2), "user_id": state.get("user_id"),
                "client": (scope.get("client") or (None,))[0],  # after uvicorn's proxy-headers handling
            })
            self.metrics.observe_request(method, route, status, elapsed)
            metrics_mod.unbind(metrics_token)
            request_id_var.reset(token)
            english_var.reset(english_token)


class RejectNulMiddleware:
    """422 for a NUL character in the path or the query string. PostgreSQL text cannot hold one (the driver
    fails the statement: a 500 on any search or filter), and no legitimate client sends one. JSON bodies are
    checked by app.core.schemas.InputModel."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            where = "path" if "\x00" in scope.get("path", "") else "query" if (
                b"%00" in query or b"\x00" in query) else None
            if where:
                await _send_error(scope, send, 422, "validation_error",
                                  [{"loc": [where], "type": "nul_character", "msg": "NUL characters are not allowed"}])
                return
        await self.app(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """An HTTPException, so FastAPI's body parsing re-raises it instead of turning it into a 400."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimitMiddleware:
    """413 in the error envelope when the body exceeds the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int, upload_prefix: str = "/api/v1/uploads"):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if scope["path"].startswith(self.upload_prefix) else self.max_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._reject(scope, send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send, limit)

    @staticmethod
    async def _reject(scope: Scope, send: Send, limit: int) -> None:
        await _send_error(scope, send, 413, "payload_too_large", {"max_bytes": limit})


def _started(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get("_response_started"))


async def _send_error(scope: Scope, send: Send, status: int, code: str, details: object = None) -> None:
    english = wants_english(_header(scope, b"accept-language"))
    body = json.dumps({"error": {"code": code, "message": message(code, english), "details": details}},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
