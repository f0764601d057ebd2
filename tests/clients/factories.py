"""Registered apps in one line, for any domain's tests (signin, open311 ...)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.clients import secrets
from app.clients.models import ApiClient


async def make_client(db: AsyncSession, grid_id: int, *, scopes: list[str] | None = None, status: str = "active",
                      kind: str = "mini_program", origins: list[str] | None = None, name: str = "测试小程序",
                      wechat_appid: str | None = None, created_by: int | None = None) -> tuple[ApiClient, str]:
    """A flushed app and its secret."""
    client_id = secrets.new_client_id()
    secret = secrets.new_secret(client_id)
    client = ApiClient(client_id=client_id, name=name, kind=kind, origins=origins or [],
                       scopes=scopes if scopes is not None else ["reports:read", "reports:write"],
                       wechat_appid=wechat_appid, secret_hash=secrets.hash_secret(secret), status=status,
                       grid_id=grid_id, created_by=created_by, version=1)
    db.add(client)
    await db.flush()
    return client, secret
