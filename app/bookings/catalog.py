"""The catalog: a community's services (admins in scope), their slots one by one or from a weekly timetable, and
cancelling a slot (its bookings are cancelled and each resident is told why)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.bookings import notices, policies, queries, timetable
from app.bookings.models import Booking, BookingEvent, BookingService, BookingSlot
from app.bookings.schemas import ServiceCreate, ServiceUpdate, SlotCancel, SlotCreate, TimetableIn
from app.bookings.sql import rowcount, upsert_insert
from app.bookings.states import BookingStatus, ServiceKind, ServiceStatus, SlotStatus
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.db.helpers import flush_or_conflict
from app.org.models import Department, Grid, GridLevel


async def _community(db: AsyncSession, p: Principal, community_id: int) -> Grid:
    """An active community in the admin's scope (else 422 invalid_reference: out of scope answers like missing)."""
    grid = await db.get(Grid, community_id)
    if grid is None or grid.level != GridLevel.community or grid.retired_at is not None or not p.in_scope(grid.path):
        raise InvalidInput("invalid_reference", {"field": "community_id", "value": community_id})
    return grid


async def _check_references(db: AsyncSession, community: Grid, department_id: int | None,
                            grid_ids: list[int] | None) -> None:
    if department_id is not None:
        dept = await db.get(Department, department_id)
        owner = await db.get(Grid, dept.grid_id) if dept is not None else None
        if dept is None or dept.retired_at is not None or owner is None or not community.path.startswith(owner.path):
            raise InvalidInput("invalid_reference", {"field": "provider_department_id", "value": department_id})
    if grid_ids:
        found = set((await db.execute(select(Grid.id).where(Grid.id.in_(grid_ids), Grid.parent_id == community.id,
                                                            Grid.level == GridLevel.grid))).scalars())
        if found != set(grid_ids):
            raise InvalidInput("invalid_reference", {"field": "eligible_grid_ids",
                                                     "value": sorted(set(grid_ids) - found),
                                                     "reason": "grids of the service's community"})


async def create_service(db: AsyncSession, p: Principal, body: ServiceCreate) -> BookingService:
    ensure_admin(p)
    community = await _community(db, p, body.community_id)
    await _check_references(db, community, body.provider_department_id, body.eligible_grid_ids)
    now = datetime.now(UTC)
    data = body.model_dump()
    data["eligible_grid_ids"] = sorted(set(body.eligible_grid_ids)) if body.eligible_grid_ids is not None else None
    svc = BookingService(**data, grid_path=community.path, status=ServiceStatus.active.value, version=1,
                         created_at=now, updated_at=now)
    db.add(svc)
    await db.flush()
    return svc


async def _managed(db: AsyncSession, p: Principal, service_id: int) -> BookingService:
    """The service if the caller manages it: 404 when they cannot see it, 403 when they see but do not manage."""
    svc = await queries.visible_service(db, p, service_id)
    if not policies.can_manage(p, queries.service_facts(svc)):
        raise NotPermitted()
    return svc


async def update_service(db: AsyncSession, p: Principal, service_id: int, body: ServiceUpdate) -> BookingService:
    svc = await _managed(db, p, service_id)
    if svc.version != body.expected_version:
        raise Conflict("stale_version", {"current_version": svc.version, "state": svc.status})
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    if svc.status == ServiceStatus.retired and changes:
        raise Conflict("invalid_transition", {"state": svc.status, "action": "update",
                                              "reason": "a retired service keeps its history unchanged"})
    if "eligible_grid_ids" in changes:
        grids = changes["eligible_grid_ids"]
        community = await db.get(Grid, svc.community_id)
        assert community is not None  # a foreign key
        await _check_references(db, community, None, grids)
        changes["eligible_grid_ids"] = sorted(set(grids)) if grids is not None else None
    if "status" in changes:
        changes["status"] = changes["status"].value
    done = await db.execute(update(BookingService).where(BookingService.id == svc.id,
                                                         BookingService.version == body.expected_version)
                            .values(**changes, version=BookingService.version + 1, updated_at=datetime.now(UTC))
                            .execution_options(synchronize_session=False))
    if rowcount(done) != 1:
        raise Conflict("stale_version", {"current_version": svc.version + 1, "state": svc.status})
    await db.refresh(svc)
    return svc


def _slot_bookable_service(svc: BookingService) -> None:
    if svc.kind == ServiceKind.errand:
        raise InvalidInput("invalid_reference", {"field": "service_id", "value": svc.id,
                                                 "reason": "errands have no slots"})
    if svc.status == ServiceStatus.retired:
        raise Conflict("invalid_transition", {"state": svc.status, "action": "add_slots"})


async def _insert_slots(db: AsyncSession, service_id: int, rows: list[tuple[datetime, datetime]],
                        capacity: int) -> int:
    """Insert the slots that do not exist yet (UNIQUE(service_id, starts_at)); returns how many were added."""
    if not rows:
        return 0
    ins = upsert_insert(db)
    now = datetime.now(UTC)
    added = 0
    for i in range(0, len(rows), 500):
        chunk = [{"service_id": service_id, "starts_at": s, "ends_at": e, "capacity": capacity, "booked": 0,
                  "status": SlotStatus.open.value, "cancel_reason": None, "created_at": now}
                 for s, e in rows[i:i + 500]]
        res = await db.execute(ins(BookingSlot).values(chunk).on_conflict_do_nothing(
            index_elements=["service_id", "starts_at"]).returning(BookingSlot.id))
        added += len(res.all())
    return added


async def create_slot(db: AsyncSession, p: Principal, service_id: int, body: SlotCreate) -> dict:
    svc = await _managed(db, p, service_id)
    _slot_bookable_service(svc)
    slot = BookingSlot(service_id=svc.id, starts_at=body.starts_at, ends_at=body.ends_at, capacity=body.capacity,
                       booked=0, status=SlotStatus.open.value, created_at=datetime.now(UTC))
    db.add(slot)
    await flush_or_conflict(db, "conflict")
    return _slot_dict(slot)


def _slot_dict(slot: BookingSlot) -> dict:
    return {"id": slot.id, "service_id": slot.service_id, "starts_at": slot.starts_at, "ends_at": slot.ends_at,
            "capacity": slot.capacity, "booked": slot.booked, "remaining": slot.capacity - slot.booked,
            "status": slot.status, "cancel_reason": slot.cancel_reason}


async def apply_timetable(db: AsyncSession, p: Principal, service_id: int, body: TimetableIn) -> dict:
    svc = await _managed(db, p, service_id)
    _slot_bookable_service(svc)
    plan = timetable.Timetable(from_date=body.from_date, to_date=body.to_date, weekdays=frozenset(body.weekdays),
                               start=body.start_time, end=body.end_time, slot_minutes=body.slot_minutes)
    try:
        rows = list(timetable.slots(plan))
    except timetable.TimetableError as exc:
        raise InvalidInput("validation_error", {"timetable": str(exc)}) from exc
    added = await _insert_slots(db, svc.id, rows, body.capacity)
    return {"created": added, "existing": len(rows) - added}


async def cancel_slot(db: AsyncSession, p: Principal, slot_id: int, body: SlotCancel) -> dict:
    """Cancel a slot: every place and waitlist entry in it is cancelled, and each resident is told the reason."""
    slot = await db.get(BookingSlot, slot_id)
    if slot is None:
        raise NotFound()
    svc = await _managed(db, p, slot.service_id)
    now = datetime.now(UTC)
    done = await db.execute(update(BookingSlot).where(BookingSlot.id == slot.id, BookingSlot.status == SlotStatus.open)
                            .values(status=SlotStatus.cancelled.value, cancel_reason=body.reason, booked=0)
                            .execution_options(synchronize_session=False))
    if rowcount(done) != 1:
        raise Conflict("invalid_transition", {"state": SlotStatus.cancelled.value, "action": "cancel"})
    active = [BookingStatus.booked.value, BookingStatus.waitlisted.value]
    gone = (await db.execute(update(Booking).where(Booking.slot_id == slot.id, Booking.status.in_(active))
                             .values(status=BookingStatus.cancelled.value, cancel_reason=body.reason,
                                     version=Booking.version + 1, updated_at=now)
                             .returning(Booking.id, Booking.resident_id)
                             .execution_options(synchronize_session=False))).all()
    for booking_id, resident_id in gone:
        db.add(BookingEvent(booking_id=booking_id, action="slot_cancelled", actor_id=p.user_id,
                            actor_role=p.role.value, from_status=None, to_status=BookingStatus.cancelled.value,
                            note=body.reason, created_at=now))
        await notices.tell(db, [resident_id], "booking.slot_cancelled", booking_id, title=svc.title,
                           starts_at=notices.local(slot.starts_at), reason=body.reason)
    await db.refresh(slot)
    return _slot_dict(slot)
