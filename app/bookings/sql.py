"""Two small SQL helpers of the bookings domain: the dialect's INSERT (for ON CONFLICT) and an UPDATE's rowcount."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(db: AsyncSession) -> Any:
    """`insert` of the session's dialect, which has on_conflict_do_nothing / on_conflict_do_update."""
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (db.execute of an UPDATE gives a CursorResult)."""
    assert isinstance(result, CursorResult)
    return result.rowcount
