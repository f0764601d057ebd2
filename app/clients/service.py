"""Registered apps: who is calling (by public client id or by secret) and what it may do.

`active_client`, `authenticate_secret` and `client_for_api_key` are the functions other domains call (sign-in
flows, the Open311 facade); their signatures are fixed by the platform contract."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients import secrets
from app.clients.errors import ClientScopeMissing, ClientSecretInvalid, ClientSuspended, ClientUnknown
from app.clients.models import ApiClient


async def _by_client_id(db: AsyncSession, client_id: str) -> ApiClient | None:
    if not client_id or len(client_id) > 40:
        return None
    return (await db.execute(select(ApiClient).where(ApiClient.client_id == client_id))).scalar_one_or_none()


async def active_client(db: AsyncSession, client_id: str) -> ApiClient:
    """The app with this public id: 401 `client_unknown` if none, 403 `client_suspended` if suspended."""
    client = await _by_client_id(db, client_id)
    if client is None:
        raise ClientUnknown()
    if client.status != "active":
        raise ClientSuspended()
    return client


async def authenticate_secret(db: AsyncSession, secret: str) -> ApiClient:
    """The app a secret belongs to. The secret is checked before the status, so only its holder learns that an app
    is suspended: 401 `client_unknown` (no such app), 401 `client_secret_invalid`, 403 `client_suspended`."""
    client_id = secrets.client_id_of(secret)
    client = await _by_client_id(db, client_id) if client_id else None
    if client is None:
        raise ClientUnknown()
    if not secrets.secret_matches(secret, client.secret_hash):
        raise ClientSecretInvalid()
    if client.status != "active":
        raise ClientSuspended()
    return client


async def client_for_api_key(db: AsyncSession, api_key: str, scope: str) -> ApiClient:
    """`authenticate_secret`, then 403 `client_scope_missing` unless the app holds `scope`."""
    client = await authenticate_secret(db, api_key)
    if scope not in client.scopes:
        raise ClientScopeMissing(scope)
    return client
