"""The community a points object belongs to: its node's materialised path, for the admin-scope checks."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.org.models import Grid, GridLevel


async def community_path(db: AsyncSession, community_id: int) -> str | None:
    return (await db.execute(select(Grid.path).where(Grid.id == community_id,
                                                     Grid.level == GridLevel.community.value))).scalar()


async def community_in_scope(db: AsyncSession, community_id: int, allowed: Callable[[str], bool]) -> str:
    """The path of a community named in a body; unknown or refused by `allowed(path)` answers like unknown:
    422 invalid_reference (a body's reference out of scope is indistinguishable from a missing one)."""
    path = await community_path(db, community_id)
    if path is None or not allowed(path):
        raise InvalidInput("invalid_reference", {"field": "community_id", "value": community_id})
    return path
