"""Reads: services, slots with remaining places, bookings (mine, a service's, the errand queue), events.

Visibility is one SQL condition per viewer (services_visible_sql, bookings_visible_sql) mirroring policies.py, so a
list and a detail agree; an object the caller may not see answers 404 like a missing one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.bookings import errands, policies
from app.bookings.models import Booking, BookingEvent, BookingService, BookingSlot
from app.bookings.policies import BookingFacts, ServiceFacts
from app.bookings.states import ACTIVE, BookingStatus, ServiceKind, ServiceStatus, SlotStatus, When
from app.core.errors import NotFound, NotPermitted
from app.core.pagination import keyset, keyset_params, keyset_sql, page_of
from app.db.reader import Prepared, Rows
from app.org.models import Grid
from app.privacy import policies as privacy
from app.users.models import User
from app.users.roles import Role

_SERVICE_ID = BookingService.__table__.c.id
_SLOT_T = BookingSlot.__table__
_BOOKING_T = Booking.__table__


def service_facts(s: BookingService) -> ServiceFacts:
    return ServiceFacts(community_id=s.community_id, grid_path=s.grid_path,
                        provider_department_id=s.provider_department_id, retired=s.status == ServiceStatus.retired)


def booking_facts(b: Booking) -> BookingFacts:
    return BookingFacts(resident_id=b.resident_id, grid_id=b.grid_id, errand=b.slot_id is None)


async def worker_communities(db: AsyncSession | Rows, p: Principal) -> frozenset[int]:
    """The communities of a grid worker's grids (their parents)."""
    if p.role is not Role.grid_worker or not p.grid_ids:
        return frozenset()
    stmt = select(Grid.parent_id).where(Grid.id.in_(sorted(p.grid_ids)))
    if isinstance(db, AsyncSession):
        return frozenset(x for x in (await db.execute(stmt)).scalars() if x is not None)
    return frozenset(r["parent_id"] for r in await db.all(stmt) if r["parent_id"] is not None)


def services_visible_sql(p: Principal) -> ColumnElement[bool]:
    """The services this viewer sees (policies.can_see_service in SQL)."""
    if p.role is Role.resident:
        return and_(BookingService.community_id == p.community_id, BookingService.status != ServiceStatus.retired)
    if p.role is Role.grid_worker:
        return BookingService.community_id.in_(select(Grid.parent_id).where(Grid.id.in_(sorted(p.grid_ids))))
    if p.role is Role.department and p.department_id is not None:
        return BookingService.provider_department_id == p.department_id
    if p.is_admin and p.scope_path:
        return BookingService.grid_path.startswith(p.scope_path, autoescape=True)
    return false()


def staff_services_sql(p: Principal) -> ColumnElement[bool]:
    """Services whose bookings this viewer may list (policies.is_service_staff in SQL)."""
    if p.role is Role.department and p.department_id is not None:
        return BookingService.provider_department_id == p.department_id
    if p.is_admin and p.scope_path:
        return BookingService.grid_path.startswith(p.scope_path, autoescape=True)
    return false()


async def visible_service(db: AsyncSession, p: Principal, service_id: int) -> BookingService:
    svc = await db.get(BookingService, service_id)
    if svc is None or not policies.can_see_service(p, service_facts(svc), await worker_communities(db, p)):
        raise NotFound()
    return svc


async def list_services(db: AsyncSession, p: Principal, *, community_id: int | None, limit: int,
                        cursor: str | None) -> tuple[list[BookingService], str | None]:
    stmt = select(BookingService).where(services_visible_sql(p))
    if community_id is not None:
        stmt = stmt.where(BookingService.community_id == community_id)
    stmt = keyset(stmt, [_SERVICE_ID], [int], cursor, limit)
    rows = list((await db.execute(stmt)).scalars())
    return page_of(rows, limit, lambda s: [s.id])


# ---- slots ----------------------------------------------------------------------------------------------------

_SLOT_COLUMNS = (BookingSlot.id, BookingSlot.service_id, BookingSlot.starts_at, BookingSlot.ends_at,
                 BookingSlot.capacity, BookingSlot.booked,
                 (BookingSlot.capacity - BookingSlot.booked).label("remaining"), BookingSlot.status,
                 BookingSlot.cancel_reason)


_SERVICE_FACTS = Prepared(select(BookingService.community_id, BookingService.grid_path,
                                  BookingService.provider_department_id, BookingService.status)
                           .where(BookingService.id == bindparam("service_id")))
_SLOT_KEY = [_SLOT_T.c.starts_at, _SLOT_T.c.id]


def _slots_page_sql(available_only: bool, after: bool) -> Prepared:
    stmt = select(*_SLOT_COLUMNS).where(BookingSlot.service_id == bindparam("service_id"),
                                        BookingSlot.status == SlotStatus.open,
                                        BookingSlot.starts_at >= bindparam("start"),
                                        BookingSlot.starts_at < bindparam("end"))
    if available_only:
        stmt = stmt.where(BookingSlot.booked < BookingSlot.capacity)
    return Prepared(keyset_sql(stmt, _SLOT_KEY, after=after))


# built once per shape: residents list slots far more often than anything else of the domain (a flash crowd)
_SLOTS_PAGE = {(avail, after): _slots_page_sql(avail, after) for avail in (False, True) for after in (False, True)}


async def list_slots(rows: Rows, p: Principal, service_id: int, *, start: datetime | None, end: datetime | None,
                     available_only: bool, now: datetime, limit: int,
                     cursor: str | None) -> tuple[list[Any], str | None]:
    """Open slots of a visible service in [start, end) (default: from now, 60 days), with remaining places, in
    start order. One query for the service's visibility, one for the page."""
    found = await rows.all(_SERVICE_FACTS, {"service_id": service_id})
    if not found:
        raise NotFound()
    s = found[0]
    facts = ServiceFacts(community_id=s["community_id"], grid_path=s["grid_path"],
                         provider_department_id=s["provider_department_id"], retired=s["status"] == "retired")
    if not policies.can_see_service(p, facts, await worker_communities(rows, p)):
        raise NotFound()
    start = start or now
    end = end or start + timedelta(days=60)
    params = {"service_id": service_id, "start": start, "end": end,
              **keyset_params(cursor, [datetime, int], limit)}
    page = await rows.all(_SLOTS_PAGE[(available_only, bool(cursor))], params)
    return page_of(list(page), limit, lambda r: [r["starts_at"], r["id"]])


# ---- bookings -------------------------------------------------------------------------------------------------

_BOOKING_COLUMNS = (*Booking.__table__.c, BookingService.title.label("service_title"),
                    BookingService.kind.label("service_kind"), BookingSlot.ends_at,
                    # a correlated subquery: the number is shown only as app/privacy/policies.py allows
                    select(User.phone).where(User.id == Booking.resident_id).scalar_subquery()
                    .label("resident_phone"))


def _booking_select():
    return (select(*_BOOKING_COLUMNS).join(BookingService, BookingService.id == Booking.service_id)
            .outerjoin(BookingSlot, BookingSlot.id == Booking.slot_id))


def booking_dict(row: Any, p: Principal) -> dict[str, Any]:
    """A BookingRead of a booking the caller may see (every caller checked that). Its organiser (the grid worker
    keeping an errand; the service's staff for a place) sees the resident's full number, other staff masked."""
    out = dict(row)
    facts = BookingFacts(resident_id=out["resident_id"], grid_id=out["grid_id"], errand=out["slot_id"] is None)
    organiser = policies.is_errand_keeper(p, facts) or (not facts.errand and p.role is not Role.resident)
    out["resident_phone"] = privacy.phone_for(p, facts.resident_id, out.get("resident_phone"), handles=organiser)
    out["errand_actions"] = errands.allowed_errand_actions(BookingStatus(out["status"])) \
        if policies.is_errand_keeper(p, facts) else []
    return out


async def load_booking(db: AsyncSession, p: Principal, booking_id: int) -> tuple[Booking, BookingService]:
    """The booking and its service, or 404 when missing or not visible to the caller."""
    found = (await db.execute(select(Booking, BookingService).join(BookingService, BookingService.id ==
                                                                   Booking.service_id)
                              .where(Booking.id == booking_id))).one_or_none()
    if found is None:
        raise NotFound()
    b, svc = found
    if not policies.can_see_booking(p, booking_facts(b), service_facts(svc)):
        raise NotFound()
    return b, svc


async def booking_detail(db: AsyncSession, p: Principal, booking_id: int) -> dict[str, Any]:
    await load_booking(db, p, booking_id)
    return await own_booking_detail(db, p, booking_id)


async def own_booking_detail(db: AsyncSession, p: Principal, booking_id: int) -> dict[str, Any]:
    """The detail of a booking the caller may see (checked by the caller: e.g. the one they just made)."""
    row = (await db.execute(_booking_select().where(Booking.id == booking_id))).mappings().one()
    return booking_dict(row, p)


def _upcoming(now: datetime) -> ColumnElement[bool]:
    return and_(Booking.status.in_([s.value for s in ACTIVE]),
                or_(Booking.slot_id.is_(None), Booking.starts_at >= now))


async def my_bookings(db: AsyncSession, p: Principal, *, when: When, now: datetime, limit: int,
                      cursor: str | None) -> tuple[list[dict], str | None]:
    """Upcoming (active places from now on and open errands), soonest first; or past, latest first."""
    stmt = _booking_select().where(Booking.resident_id == p.user_id)
    stmt = stmt.where(_upcoming(now) if when is When.upcoming else ~_upcoming(now))
    stmt = keyset(stmt, [_BOOKING_T.c.starts_at, _BOOKING_T.c.id], [datetime, int], cursor, limit,
                  descending=when is When.past)
    rows = (await db.execute(stmt)).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: [r["starts_at"], r["id"]])
    return [booking_dict(r, p) for r in items], nxt


async def service_bookings(db: AsyncSession, p: Principal, service_id: int, *, statuses: list[BookingStatus] | None,
                           slot_id: int | None, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """A service's bookings for its staff, in start order."""
    svc = await visible_service(db, p, service_id)
    if not policies.is_service_staff(p, service_facts(svc)):
        raise NotPermitted()
    stmt = _booking_select().where(Booking.service_id == service_id)
    if statuses:
        stmt = stmt.where(Booking.status.in_([s.value for s in statuses]))
    if slot_id is not None:
        stmt = stmt.where(Booking.slot_id == slot_id)
    stmt = keyset(stmt, [_BOOKING_T.c.starts_at, _BOOKING_T.c.id], [datetime, int], cursor, limit)
    rows = (await db.execute(stmt)).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: [r["starts_at"], r["id"]])
    return [booking_dict(r, p) for r in items], nxt


def errand_queue_sql(p: Principal) -> ColumnElement[bool]:
    """Errands a staff member works on: a grid worker's grids; an admin's scope."""
    if p.role is Role.grid_worker and p.grid_ids:
        return Booking.grid_id.in_(sorted(p.grid_ids))
    if p.is_admin and p.scope_path:
        return BookingService.grid_path.startswith(p.scope_path, autoescape=True)
    return false()


async def errand_queue(db: AsyncSession, p: Principal, *, statuses: list[BookingStatus] | None, limit: int,
                       cursor: str | None) -> tuple[list[dict], str | None]:
    """The errand queue, newest first (like the reports queue); by default the open ones."""
    wanted = statuses or [BookingStatus.booked, BookingStatus.received, BookingStatus.processing]
    stmt = _booking_select().where(errand_queue_sql(p), BookingService.kind == ServiceKind.errand,
                                   Booking.slot_id.is_(None), Booking.status.in_([s.value for s in wanted]))
    stmt = keyset(stmt, [_BOOKING_T.c.created_at, _BOOKING_T.c.id], [datetime, int], cursor, limit, descending=True)
    rows = (await db.execute(stmt)).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: [r["created_at"], r["id"]])
    return [booking_dict(r, p) for r in items], nxt


async def events(db: AsyncSession, p: Principal, booking_id: int) -> list[BookingEvent]:
    await load_booking(db, p, booking_id)
    return list((await db.execute(select(BookingEvent).where(BookingEvent.booking_id == booking_id)
                                  .order_by(BookingEvent.id))).scalars())
