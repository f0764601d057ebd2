"""SQL helpers of the bookings domain: the dialect's INSERT (for ON CONFLICT), an UPDATE's rowcount, and a new
booking's INSERT (with its first event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import AlreadyBooked
from app.bookings.models import Booking, BookingEvent
from app.db.helpers import table_of

_B = table_of(Booking)
_E = table_of(BookingEvent)
BOOKING_VALUES = ("service_id", "slot_id", "resident_id", "community_id", "grid_id", "starts_at", "for_family_member",
                  "status", "version", "created_at", "updated_at")
EVENT_VALUES = ("action", "actor_id", "actor_role", "from_status", "to_status", "note", "created_at")


def upsert_insert(db: AsyncSession) -> Any:
    """`insert` of the session's dialect, which has on_conflict_do_nothing / on_conflict_do_update."""
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (db.execute of an UPDATE gives a CursorResult)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


# built once: a flash crowd runs them thousands of times a minute
_BOOKING_SQL = insert(_B).values({c: bindparam(c, type_=_B.c[c].type) for c in BOOKING_VALUES}).returning(_B.c.id)
_EVENT_SQL = insert(_E).values({"booking_id": bindparam("booking_id", type_=_E.c.booking_id.type),
                                **{c: bindparam(f"e_{c}", type_=_E.c[c].type) for c in EVENT_VALUES}})
# PostgreSQL: the booking and its first event in one statement (a data-modifying CTE), RETURNING the id
_NEW_BOOKING = _BOOKING_SQL.cte("booking")
_BOOKING_WITH_EVENT_PG = insert(_E).from_select(
    ["booking_id", *EVENT_VALUES],
    select(_NEW_BOOKING.c.id, *(bindparam(f"e_{c}", type_=_E.c[c].type).label(c) for c in EVENT_VALUES)),
).add_cte(_NEW_BOOKING).returning(_E.c.booking_id)


async def insert_booking(db: AsyncSession, values: dict[str, Any], event: dict[str, Any] | None) -> int:
    """Insert a booking (BOOKING_VALUES) and, when given, its first event (EVENT_VALUES); the new id. Core
    statements: the ORM's unit of work cost more CPU than the statements. A second active place of the resident
    in the slot (the partial unique index) is `already_booked`; nothing is written then."""
    conn = await db.connection()
    params = dict(values)
    if event is not None:
        params.update({f"e_{c}": event[c] for c in EVENT_VALUES})
    try:
        if event is not None and conn.dialect.name == "postgresql":
            return int((await conn.execute(_BOOKING_WITH_EVENT_PG, params)).scalar_one())
        booking_id = int((await conn.execute(_BOOKING_SQL, params)).scalar_one())
        if event is not None:
            await conn.execute(_EVENT_SQL, {**params, "booking_id": booking_id})
        return booking_id
    except IntegrityError as exc:
        raise AlreadyBooked(details={"slot_id": values["slot_id"]}) from exc
