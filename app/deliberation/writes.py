"""Small write helpers of the domain."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase


async def rowcount(db: AsyncSession, stmt: UpdateBase) -> int:
    """Run an UPDATE/DELETE in the session's transaction; how many rows it changed (a conditional update won?)."""
    result = cast(CursorResult[Any], await db.execute(stmt))
    return result.rowcount
