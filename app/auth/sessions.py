"""Refresh-token storage: ending a user's sessions. Its own module, below both auth.service (sign-in) and
users.service (an admin disabling an account), so neither imports the other."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import RefreshToken


async def revoke_all(db: AsyncSession, user_id: int) -> None:
    """Revoke every live refresh token of the user (their access tokens stop through the principal's checks)."""
    await db.execute(update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC)))


async def revoke_families(db: AsyncSession, families: set[str], *, user_id: int | None = None) -> int:
    """End these sign-ins (refresh families, which are also the access tokens' sessions); `user_id` limits it to
    that user's. Returns how many live tokens were revoked."""
    stmt = update(RefreshToken).where(RefreshToken.family.in_(families), RefreshToken.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(RefreshToken.user_id == user_id)
    return len((await db.execute(stmt.values(revoked_at=datetime.now(UTC)).returning(RefreshToken.jti))).all())
