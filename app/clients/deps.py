"""The app a sign-in request comes through (header X-Client-Id; absent: a first-party sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.models import ApiClient
from app.clients.service import active_client
from app.db.session import get_database

CLIENT_HEADER = "X-Client-Id"
# Declare it on a sign-in route (`x_client_id: ClientIdHeader = None`) so openapi.json and generated clients show it;
# signing_in_client reads the header itself.
ClientIdHeader = Annotated[str | None, Header(
    alias=CLIENT_HEADER, max_length=40,
    description="A registered app signing its user in: its public client id. The tokens then carry the app's id "
                "and scopes (claims `cid`, `scp`). Unknown: 401 `client_unknown`; suspended: 403 "
                "`client_suspended`. Leave it out for a first-party sign-in.")]


async def signing_in_client(request: Request, db: AsyncSession) -> ApiClient | None:
    """None without the header; else the active app it names (401 client_unknown, 403 client_suspended)."""
    client_id = request.headers.get(CLIENT_HEADER)
    if client_id is None:
        return None
    return await active_client(db, client_id.strip())


async def app_signing_in(request: Request) -> ApiClient | None:
    """The same, read in its own short read-only session before the sign-in's transaction."""
    async with get_database(request).session(write=False) as db:
        return await signing_in_client(request, db)


def client_address(request: Request) -> str | None:
    """The caller's address: the socket's peer, or X-Forwarded-For's when BEHIND_PROXY (the proxy-headers middleware
    rewrites the scope's client before the rate limiter and the routes read it)."""
    return request.client.host if request.client else None
