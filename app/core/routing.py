"""Shared route plumbing: the error responses every kind of route documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

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
