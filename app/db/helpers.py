from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict


async def flush_or_conflict(db: AsyncSession, code: str) -> None:
    """Flush; a unique-constraint race becomes a 409 with `code` instead of a 500."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(code) from exc


async def insert_ignore(db: AsyncSession, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    """INSERT ... ON CONFLICT (conflict) DO NOTHING, on PostgreSQL and SQLite alike. True when a row was written;
    a concurrent insert of the same key waits for the other transaction, then writes nothing."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await db.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def table_of(model: Any) -> Table:
    """A mapped class's Table, typed as one (Core UPDATE/INSERT on it, outside the ORM's unit of work)."""
    return cast(Table, model.__table__)
