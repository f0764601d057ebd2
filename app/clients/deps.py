"""The app a sign-in request comes through (header X-Client-Id; absent: a first-party sign-in)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.models import ApiClient
from app.clients.service import active_client

CLIENT_HEADER = "X-Client-Id"


async def signing_in_client(request: Request, db: AsyncSession) -> ApiClient | None:
    """None without the header; else the active app it names (401 client_unknown, 403 client_suspended)."""
    client_id = request.headers.get(CLIENT_HEADER)
    if client_id is None:
        return None
    return await active_client(db, client_id.strip())
