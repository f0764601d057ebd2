"""Domain errors and the one error envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core import error_codes, metrics
from app.core.i18n import message, wants_english


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    # When True, get_db commits what the request wrote before the error (e.g. a counted login failure).
    keep_writes = False

    def __init__(self, code: str | None = None, details: Any = None, *, headers: dict[str, str] | None = None):
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.details = details
        self.headers = headers


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, code: str | None = None, details: Any = None):
        super().__init__(code, details, headers={"WWW-Authenticate": "Bearer"})


class NotPermitted(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class InvalidInput(AppError):
    """A semantic error in otherwise well-formed input (unknown reference, wrong level ...)."""

    status_code = 422
    code = "validation_error"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"
    keep_writes = True

    def __init__(self, retry_after: int):
        super().__init__(details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


# ---- the envelope, documented in OpenAPI -------------------------------------------------------


class ErrorBody(BaseModel):
    code: str = Field(description="What went wrong, for clients to act on: " + ", ".join(
        f"`{c}`" for c in sorted(error_codes.DETAILS)) + ".")
    message: str = Field(description="For people: Chinese, or English with `Accept-Language: en`.")
    details: Any = Field(default=None, description=error_codes.documentation())


class ErrorEnvelope(BaseModel):
    error: ErrorBody


_STATUS_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated: missing, expired or invalid token",
    403: "Authenticated but not permitted",
    404: "Not found, or not visible to the caller",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation error: unknown field, wrong type, missing field, bad format",
    429: "Too many attempts; see Retry-After",
    500: "Internal error",
    503: "Service unavailable",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the given statuses, all in the error envelope."""
    return {s: {"model": ErrorEnvelope, "description": _STATUS_DESCRIPTIONS[s]} for s in statuses}


def envelope(request: Request, status: int, code: str, details: Any = None,
             headers: dict[str, str] | None = None, fallback: str | None = None) -> JSONResponse:
    english = wants_english(request.headers.get("accept-language"))
    shaped = error_codes.normalize(code, details)
    if code == "validation_error":
        for issue in shaped:
            issue["msg"] = error_codes.validation_message(issue["type"], issue["msg"], english)
    body = {"error": {"code": code, "message": message(code, english, fallback), "details": shaped}}
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "too_many_requests", 503: "service_unavailable",
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        out.append({"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")})
    return out


# Error codes that are business events: counted here, so the domain that raises them needs no metrics code.
# invalid_credentials and account_disabled are raised only by the login (app/auth/service.login).
COUNTED_ERRORS: dict[str, str] = {"invalid_credentials": "logins_failed", "account_disabled": "logins_failed"}


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names only the first route's)."""
    methods: set[str] = set()
    for ctx in iter_route_contexts(list(request.app.router.routes)):
        route = ctx.route
        if ctx.methods and route is not None and route.matches(
                {**request.scope, "method": next(iter(ctx.methods))})[0] is Match.FULL:
            methods |= set(ctx.methods)
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.code in COUNTED_ERRORS:
            metrics.count(COUNTED_ERRORS[exc.code])
        return envelope(request, exc.status_code, exc.code, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope(request, 422, "validation_error", _validation_details(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # The framework's only 400: a body it could not parse (bytes that are not UTF-8, JSON nested past
            # the parser's limit, a broken multipart/form body). Syntactically bad JSON is already a 422
            # (json_invalid), and 422 is what every route documents for malformed input: answer the same.
            return envelope(request, 422, "validation_error",
                            [{"loc": ["body"], "type": "body_unparsable", "msg": str(exc.detail)}])
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return envelope(request, exc.status_code, code, None, headers, fallback=str(exc.detail))


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
