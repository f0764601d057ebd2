"""Shared route plumbing: the error responses every kind of route documents, and the app's router (PrefixRouter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import Match
from starlette.types import Scope

from app.core.errors import error_responses

# Every route may answer 422 (validation) and 500; authenticated routes add 401.
PUBLIC = error_responses(422, 500)
AUTHED = error_responses(401, 422, 500)
ADMIN_READ = error_responses(401, 403, 404, 422, 500)
ADMIN_WRITE = error_responses(400, 401, 403, 404, 409, 413, 422, 500)



def document_everywhere(app: FastAPI, codes: tuple[int, ...], applies: Callable[[str, dict[str, Any]], bool]) -> None:
    """Add error responses that the app's middleware or shared dependencies can answer (429 of the rate limits, 409
    and 422 of Idempotency-Key) to each operation of the generated OpenAPI document that `applies(method,
    operation)` picks, in the error envelope; a status the route documents already is kept as it is."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for item in schema.get("paths", {}).values():
            for method, op in item.items():
                if isinstance(op, dict) and "responses" in op and applies(method, op):
                    for code in codes:
                        op["responses"].setdefault(str(code), {
                            "description": error_responses(code)[code]["description"],
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                        })
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---- the app's router -----------------------------------------------------------------------------------------
# The project's router: FastAPI's APIRouter that turns a request away at once when its path is outside the
# router's prefix.
#
# FastAPI matches a request against the included routers in order, and every route of each router in turn (a regular
# expression and the scope's bookkeeping per route, twice per request: once to choose, once to handle). A request for
# the 13th router (the figures) tried ~50 routes first: ~8 % of a street's figures' CPU in process, 23 % of its
# route-handling samples in py-spy. Every route of a router lives under the router's prefix, so a path outside the
# prefix's literal part (up to its first parameter) matches none of them: `matches` answers Match.NONE without
# trying them. A path inside it is matched by FastAPI as before, so what matches (and 404, 405, the redirect of a
# trailing slash) is unchanged. Only public API: APIRouter's `prefix` and `matches`, and the ASGI scope.


def route_path(scope: Scope) -> str:
    """The path the routes see: the scope's path without the application's root_path (ASGI: `path` includes it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("/", ""):
        return path[len(root):]
    return path


class PrefixRouter(APIRouter):
    """Every router of the app (tests/core/test_routing.py checks): APIRouter, with a path outside its prefix refused
    before its routes are tried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.literal_prefix = self.prefix.split("{", 1)[0]  # up to the first parameter; once, not per request

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.literal_prefix and not route_path(scope).startswith(self.literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)

    def include_router(self, router: APIRouter, *args: Any, **kwargs: Any) -> None:
        """A router included by another is matched with its parent's prefix before its own: its own prefix is not
        where its routes are, so a PrefixRouter is included only by the application (`include`)."""
        if isinstance(router, PrefixRouter):
            raise TypeError("a PrefixRouter is included by the application only; include an APIRouter here")
        super().include_router(router, *args, **kwargs)


def include(app: FastAPI, router: PrefixRouter) -> None:
    """app.include_router, for the app's routers: each a PrefixRouter, included without a prefix of its own (the
    prefix its `matches` checks is its own)."""
    if not isinstance(router, PrefixRouter):
        raise TypeError(f"the app's routers are PrefixRouters: {router!r}")
    app.include_router(router)
