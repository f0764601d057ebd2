from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict


async def flush_or_conflict(db: AsyncSession, code: str) -> None:
    """Flush; a unique-constraint race becomes a 409 with `code` instead of a 500."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(code) from exc
