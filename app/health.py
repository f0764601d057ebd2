from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import text

from app.core.errors import ServiceUnavailable, error_responses
from app.core.routing import PrefixRouter

router = PrefixRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="Liveness: the process answers", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: the database answers", response_model=Health,
            responses=error_responses(503))
async def readyz(request: Request) -> Health:
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        raise ServiceUnavailable() from exc
    return Health(status="ok")
