"""Booking: take a place (or join the waitlist, or ask for an errand), cancel, waitlist promotion, attendance,
rating, errand steps. One transaction per request; the invariants are held by the database:

- capacity: `UPDATE booking_slots SET booked = booked + 1 WHERE id = :id AND booked < capacity AND status = 'open'`
  and its rowcount (PostgreSQL re-checks the WHERE after the row lock; SQLite writers queue on BEGIN IMMEDIATE);
- one place per resident per slot: the partial unique index uq_bookings_slot_resident_active;
- the per-resident limit: the booking first upserts its (service, resident) row in booking_holds, which locks it to
  COMMIT, and counts the resident's active bookings of the service under that lock, so two bookings of one resident
  for one service run one after the other (a READ COMMITTED statement after the lock sees the other's commit).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.bookings import errands, notices, policies, queries, rules
from app.bookings.errors import AlreadyBooked, LimitReached, ServicePaused, SlotCancelled, SlotFull
from app.bookings.models import Booking, BookingEvent, BookingHold, BookingService, BookingSlot
from app.bookings.rules import ServiceRules
from app.bookings.schemas import AttendanceIn, BookingCreate, CancelIn, ErrandStepIn, RatingIn
from app.bookings.sql import insert_booking, rowcount, upsert_insert
from app.bookings.states import ACTIVE, RATEABLE, BookingStatus, ServiceKind, ServiceStatus, SlotStatus
from app.bookings.timetable import CHINA
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.db.session import run_before_commit
from app.org.models import Grid
from app.users.models import User

S = BookingStatus
CHECK_IN_EARLY = timedelta(minutes=60)  # attendance may be marked from an hour before the start


class InvalidStep(Conflict):
    code = "invalid_transition"


def service_rules(s: BookingService) -> ServiceRules:
    return ServiceRules(status=ServiceStatus(s.status), opens_days_ahead=s.opens_days_ahead,
                        closes_minutes_before=s.closes_minutes_before, cancel_minutes_before=s.cancel_minutes_before,
                        max_active_per_resident=s.max_active_per_resident, min_age=s.min_age,
                        eligible_grid_ids=tuple(s.eligible_grid_ids) if s.eligible_grid_ids is not None else None,
                        no_show_limit=s.no_show_limit, no_show_block_days=s.no_show_block_days)


def _event_values(p: Principal | None, action: str, frm: str | None, to: str, note: str | None,
                  now: datetime) -> dict[str, Any]:
    return {"action": action, "actor_id": p.user_id if p else None, "actor_role": p.role.value if p else "system",
            "from_status": frm, "to_status": to, "note": note, "created_at": now}


def _event(booking_id: int, p: Principal | None, action: str, frm: str | None, to: str, note: str | None,
           now: datetime) -> BookingEvent:
    return BookingEvent(booking_id=booking_id, **_event_values(p, action, frm, to, note, now))


def _check_bookable(svc: BookingService) -> None:
    if svc.status != ServiceStatus.active:
        raise ServicePaused(details={"service_id": svc.id, "status": svc.status})


# The booking path's statements are built once (a flash crowd runs them thousands of times a minute: building a
# statement and its cache key cost more CPU than running it); the values come as bind parameters.
_ACTIVE = [s.value for s in ACTIVE]
_HOME = select(Grid.parent_id, User.birth_date).select_from(User).join(Grid, Grid.id == User.building_id)\
    .where(User.id == bindparam("user_id"))
_HOME_ROW = select(Grid.parent_id.label("grid_id"), User.birth_date, User.phone).select_from(User)\
    .outerjoin(Grid, Grid.id == User.building_id).where(User.id == bindparam("user_id")).subquery("home")
_RECENT_NO_SHOWS = (Booking.service_id == BookingSlot.service_id, Booking.resident_id == bindparam("user_id"),
                    Booking.status == S.no_show, Booking.starts_at > bindparam("since"),
                    Booking.starts_at <= bindparam("now"))
# Everything a booking checks before it locks anything, in one round trip: the slot and its service, the
# resident's home (grid, birth date, phone for the answer), whether they already hold a place in the slot, and
# their recent no-shows of the service (how many, the latest).
_BOOK_READ = select(
    BookingSlot, BookingService, _HOME_ROW.c.grid_id, _HOME_ROW.c.birth_date, _HOME_ROW.c.phone,
    select(Booking.id).where(Booking.slot_id == BookingSlot.id, Booking.resident_id == bindparam("user_id"),
                             Booking.status.in_(_ACTIVE)).exists().label("holds_place"),
    select(func.count()).select_from(Booking).where(*_RECENT_NO_SHOWS).scalar_subquery().label("no_shows"),
    select(func.max(Booking.starts_at)).where(*_RECENT_NO_SHOWS).scalar_subquery().label("last_no_show"),
).join(BookingService, BookingService.id == BookingSlot.service_id).outerjoin(_HOME_ROW, true())\
    .where(BookingSlot.id == bindparam("slot_id"))
_UPCOMING = or_(Booking.slot_id.is_(None), Booking.starts_at >= bindparam("now"))
_ACTIVE_COUNT = select(func.count()).select_from(Booking).where(
    Booking.service_id == bindparam("service_id"), Booking.resident_id == bindparam("resident_id"),
    Booking.status.in_(_ACTIVE), _UPCOMING)
# Under the hold lock, one round trip: the resident's active bookings of the service, and how many of them are in
# this slot (a place of a slot still bookable is upcoming, so it is among them).
_ACTIVE_AND_HELD = select(func.count(), func.coalesce(func.sum(case((Booking.slot_id == bindparam("slot_id"), 1),
                                                                     else_=0)), 0)).select_from(Booking).where(
    Booking.service_id == bindparam("service_id"), Booking.resident_id == bindparam("resident_id"),
    Booking.status.in_(_ACTIVE), _UPCOMING)
_TAKE_PLACE = update(BookingSlot).where(
    BookingSlot.id == bindparam("slot_id"), BookingSlot.booked < BookingSlot.capacity,
    BookingSlot.status == SlotStatus.open).values(booked=BookingSlot.booked + 1)\
    .execution_options(synchronize_session=False)
_LOCK_HOLD: dict[str, Any] = {}  # per dialect: the upsert's ON CONFLICT is dialect-specific


async def _home(db: AsyncSession, p: Principal) -> tuple[int, date | None]:
    """The resident's grid (their building's parent) and birth date."""
    row = (await db.execute(_HOME, {"user_id": p.user_id})).one()
    return row.parent_id, row.birth_date


async def _lock_hold(db: AsyncSession, service_id: int, resident_id: int) -> None:
    """Upsert the (service, resident) row: it stays locked to COMMIT, serialising this resident's bookings of the
    service (SQLite: the whole write is already serialised by BEGIN IMMEDIATE)."""
    dialect = db.get_bind().dialect.name
    stmt = _LOCK_HOLD.get(dialect)
    if stmt is None:
        ins = upsert_insert(db)(BookingHold).values(service_id=bindparam("service_id"),
                                                     resident_id=bindparam("resident_id"), bookings=1)
        stmt = _LOCK_HOLD[dialect] = ins.on_conflict_do_update(index_elements=["service_id", "resident_id"],
                                                               set_={"bookings": BookingHold.bookings + 1})
    await db.execute(stmt, {"service_id": service_id, "resident_id": resident_id})


async def _check_limit(db: AsyncSession, svc: BookingService, p: Principal, now: datetime) -> None:
    """Under the hold lock: the resident's active bookings of the service (upcoming places, waitlist entries, open
    errands) are below the limit."""
    active = (await db.execute(_ACTIVE_COUNT, {"service_id": svc.id, "resident_id": p.user_id, "now": now}))\
        .scalar_one()
    _check_count(svc, active)


def _check_count(svc: BookingService, active: int) -> None:
    if active >= svc.max_active_per_resident:
        raise LimitReached(details={"limit": svc.max_active_per_resident, "active": active})


async def _check_slot_limit(db: AsyncSession, svc: BookingService, slot_id: int, p: Principal,
                            now: datetime) -> None:
    """Under the hold lock: not already in this slot (a concurrent request of the same resident committed
    meanwhile), then below the limit."""
    row = (await db.execute(_ACTIVE_AND_HELD, {"service_id": svc.id, "resident_id": p.user_id, "now": now,
                                                "slot_id": slot_id})).one()
    if row[1]:
        raise AlreadyBooked(details={"slot_id": slot_id})
    _check_count(svc, int(row[0]))


async def _take_place(db: AsyncSession, slot_id: int) -> bool:
    return rowcount(await db.execute(_TAKE_PLACE, {"slot_id": slot_id})) == 1


async def _free_place(db: AsyncSession, slot_id: int) -> None:
    await db.execute(update(BookingSlot).where(BookingSlot.id == slot_id, BookingSlot.booked > 0)
                     .values(booked=BookingSlot.booked - 1).execution_options(synchronize_session=False))


def _answer(booking_id: int, values: dict[str, Any], svc: BookingService, slot: BookingSlot, phone: str | None,
            p: Principal) -> dict:
    """The 201's BookingRead from what the request wrote and read (queries.booking_dict of the same row a read of
    it would give: every column was set by this request, the id by the INSERT, the others are NULL)."""
    row: dict[str, Any] = {c.key: None for c in Booking.__table__.c}
    row.update(values, id=booking_id)
    row.update(service_title=svc.title, service_kind=svc.kind, ends_at=slot.ends_at, resident_phone=phone)
    return queries.booking_dict(row, p)


async def book(db: AsyncSession, p: Principal, body: BookingCreate, now: datetime | None = None) -> dict:
    """A place in a slot, a waitlist entry when it is full (and the service keeps one), or an errand."""
    now = now or datetime.now(UTC)
    if body.slot_id is None:
        return await ask_errand(db, p, body, now)
    found = (await db.execute(_BOOK_READ, {"slot_id": body.slot_id, "user_id": p.user_id, "now": now,
                                           "since": now - rules.NO_SHOW_WINDOW})).one_or_none()
    if found is None:
        raise NotFound()
    slot, svc = found[0], found[1]
    if not policies.can_see_service(p, queries.service_facts(svc), await queries.worker_communities(db, p)):
        raise NotFound()
    if not policies.can_book(p):
        raise NotPermitted()
    _check_bookable(svc)
    if slot.status == SlotStatus.cancelled:
        raise SlotCancelled(details={"slot_id": slot.id, "reason": slot.cancel_reason})
    r = service_rules(svc)
    rules.check_window(r, slot.starts_at, now)
    if slot.booked >= slot.capacity and not svc.waitlist:
        # Full when read: refuse at once (a flash crowd is mostly this; no lock, no write, no other round trip).
        # Only a refusal rests on the read; a place is still taken only by the conditional UPDATE below.
        if found.holds_place:
            raise AlreadyBooked(details={"slot_id": slot.id})
        raise SlotFull(details={"slot_id": slot.id, "capacity": slot.capacity})
    grid_id = found.grid_id
    rules.check_eligible(r, grid_id=grid_id, birth_date=found.birth_date, today=now.astimezone(CHINA).date())
    rules.check_not_blocked(r, found.no_shows, found.last_no_show, now)
    await _lock_hold(db, svc.id, p.user_id)
    await _check_slot_limit(db, svc, slot.id, p, now)
    # The slot's row is locked from the UPDATE that takes the place to COMMIT, and every booking of the slot queues
    # on that lock: so the place is taken last. Without a waitlist the answer can only be `booked` or a refusal
    # (which rolls everything back), so every other write comes first: the booking, its event, and the notice
    # (whose rows app/notifications would otherwise write right before COMMIT, i.e. under the lock); only the
    # COMMIT follows the UPDATE. With a waitlist the event and the notice depend on the UPDATE (a flash crowd:
    # bench/flash.py, decisions "Flash crowd").
    status = S.booked  # until the UPDATE below says otherwise
    values = {"service_id": svc.id, "slot_id": slot.id, "resident_id": p.user_id, "community_id": svc.community_id,
              "grid_id": grid_id, "starts_at": slot.starts_at, "for_family_member": body.for_family_member,
              "status": status.value, "version": 1, "created_at": now, "updated_at": now}
    event = None if svc.waitlist else _event_values(p, "book", None, status.value, None, now)
    # the partial unique index: one place per resident per slot (already_booked)
    booking_id = await insert_booking(db, values, event)
    detail = _answer(booking_id, values, svc, slot, found.phone, p)
    if not svc.waitlist:
        await _tell_booked(db, p, svc, slot, booking_id, status)
        await run_before_commit(db)
    if not await _take_place(db, slot.id):  # full (when read, with a waitlist), or the last places went meanwhile
        state = (await db.execute(select(BookingSlot.status, BookingSlot.cancel_reason)
                                  .where(BookingSlot.id == slot.id))).one()
        if state.status == SlotStatus.cancelled:
            raise SlotCancelled(details={"slot_id": slot.id, "reason": state.cancel_reason})
        if not svc.waitlist:
            raise SlotFull(details={"slot_id": slot.id, "capacity": slot.capacity})
        status = S.waitlisted
        await db.execute(update(Booking).where(Booking.id == booking_id).values(status=status.value)
                         .execution_options(synchronize_session=False))
        detail["status"] = status.value
    if svc.waitlist:
        db.add(_event(booking_id, p, "book", None, status.value, None, now))
        await _tell_booked(db, p, svc, slot, booking_id, status)
    return detail


async def _tell_booked(db: AsyncSession, p: Principal, svc: BookingService, slot: BookingSlot, booking_id: int,
                       status: BookingStatus) -> None:
    """The resident's notice of a booking (confirmed, or on the waitlist)."""
    await notices.tell(db, [p.user_id], "booking.confirmed" if status is S.booked else "booking.waitlisted",
                       booking_id, title=svc.title, starts_at=notices.local(slot.starts_at))


async def ask_errand(db: AsyncSession, p: Principal, body: BookingCreate, now: datetime) -> dict:
    """代办: goes to the grid workers of the resident's grid."""
    svc = await db.get(BookingService, body.service_id)
    if svc is None or not policies.can_see_service(p, queries.service_facts(svc),
                                                   await queries.worker_communities(db, p)):
        raise NotFound()
    if not policies.can_book(p):
        raise NotPermitted()
    if svc.kind != ServiceKind.errand:
        raise InvalidInput("invalid_reference", {"field": "service_id", "value": svc.id,
                                                 "reason": "not an errand: book one of its slots"})
    if body.note is None:
        raise InvalidInput("validation_error", {"missing": ["note"]})
    _check_bookable(svc)
    r = service_rules(svc)
    grid_id, birth = await _home(db, p)
    rules.check_eligible(r, grid_id=grid_id, birth_date=birth, today=now.astimezone(CHINA).date())
    await _lock_hold(db, svc.id, p.user_id)
    await _check_limit(db, svc, p, now)
    booking = Booking(service_id=svc.id, slot_id=None, resident_id=p.user_id, community_id=svc.community_id,
                      grid_id=grid_id, starts_at=now, for_family_member=body.for_family_member, note=body.note,
                      preferred_date=body.preferred_date, status=S.booked.value, version=1, created_at=now,
                      updated_at=now)
    db.add(booking)
    await db.flush()
    db.add(_event(booking.id, p, "book", None, S.booked.value, body.note, now))
    await notices.tell(db, await notices.grid_workers(db, grid_id), "booking.errand_new", booking.id,
                       title=svc.title, note=body.note)
    await notices.tell(db, [p.user_id], "booking.confirmed", booking.id, title=svc.title,
                       starts_at=notices.local(now))
    return await queries.booking_detail(db, p, booking.id)


# ---- steps on a booking ---------------------------------------------------------------------------------------


def _check_version(b: Booking, expected: int) -> None:
    if b.version != expected:
        raise Conflict("stale_version", {"current_version": b.version, "state": b.status})


async def _move(db: AsyncSession, b: Booking, expected: int, to: BookingStatus, now: datetime, **values) -> None:
    """The one conditional update of a booking's status: on the version the caller saw."""
    done = await db.execute(update(Booking).where(Booking.id == b.id, Booking.version == expected).values(
        status=to.value, version=Booking.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    if rowcount(done) != 1:
        current = (await db.execute(select(Booking.version, Booking.status).where(Booking.id == b.id))).one()
        raise Conflict("stale_version", {"current_version": current.version, "state": current.status})


async def promote_waiting(db: AsyncSession, slot_id: int, svc: BookingService, now: datetime) -> int | None:
    """A place came free: the first waiting resident (by when they asked) gets it and is told. Each try takes the
    place by the capacity update and the waiter by a conditional update on their status, so two cancellations at
    once promote two different residents, never one twice."""
    while True:
        waiter = (await db.execute(select(Booking.id, Booking.resident_id, Booking.starts_at).where(
            Booking.slot_id == slot_id, Booking.status == S.waitlisted).order_by(Booking.id).limit(1)
            .with_for_update(skip_locked=True))).first()
        if waiter is None or not await _take_place(db, slot_id):
            return None
        won = await db.execute(update(Booking).where(Booking.id == waiter.id, Booking.status == S.waitlisted)
                               .values(status=S.booked.value, version=Booking.version + 1, updated_at=now)
                               .execution_options(synchronize_session=False))
        if rowcount(won) == 1:
            db.add(_event(waiter.id, None, "promote", S.waitlisted.value, S.booked.value, None, now))
            await notices.tell(db, [waiter.resident_id], "booking.promoted", waiter.id, title=svc.title,
                               starts_at=notices.local(waiter.starts_at))
            return waiter.id
        await _free_place(db, slot_id)


async def cancel_booking(db: AsyncSession, p: Principal, booking_id: int, body: CancelIn,
                         now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    b, svc = await queries.load_booking(db, p, booking_id)
    if not policies.can_cancel(p, queries.booking_facts(b)):
        raise NotPermitted()
    _check_version(b, body.expected_version)
    status = BookingStatus(b.status)
    errand = b.slot_id is None
    if status not in ((errands.CANCELLABLE) if errand else {S.booked, S.waitlisted}):
        raise InvalidStep(details={"state": status.value, "action": "cancel"})
    if status is S.booked and not errand:
        rules.check_cancel(service_rules(svc), b.starts_at, now)
    await _move(db, b, body.expected_version, S.cancelled, now)
    db.add(_event(b.id, p, "cancel", status.value, S.cancelled.value, None, now))
    if errand:
        await notices.tell(db, await notices.grid_workers(db, b.grid_id), "booking.errand_cancelled", b.id,
                           title=svc.title)
    else:
        await notices.tell(db, [p.user_id], "booking.cancelled", b.id, title=svc.title,
                           starts_at=notices.local(b.starts_at))
        if status is S.booked and b.slot_id is not None:
            await _free_place(db, b.slot_id)
            if svc.waitlist:
                await promote_waiting(db, b.slot_id, svc, now)
    db.expire(b)
    return await queries.booking_detail(db, p, booking_id)


async def mark_attendance(db: AsyncSession, p: Principal, booking_id: int, body: AttendanceIn,
                          now: datetime | None = None) -> dict:
    """签到 or 爽约, by the service's staff, from an hour before the start (no-show: once it started)."""
    now = now or datetime.now(UTC)
    b, svc = await queries.load_booking(db, p, booking_id)
    if not policies.can_mark_attendance(p, queries.booking_facts(b), queries.service_facts(svc)):
        raise NotPermitted()
    _check_version(b, body.expected_version)
    if b.status != S.booked:
        raise InvalidStep(details={"state": b.status, "action": body.status.value})
    earliest = b.starts_at if body.status is S.no_show else b.starts_at - CHECK_IN_EARLY
    if now < earliest:
        raise InvalidStep(details={"state": b.status, "action": body.status.value,
                                   "reason": f"not before {earliest.isoformat()}"})
    await _move(db, b, body.expected_version, body.status, now)
    db.add(_event(b.id, p, body.status.value, S.booked.value, body.status.value, None, now))
    db.expire(b)
    return await queries.booking_detail(db, p, booking_id)


async def rate_booking(db: AsyncSession, p: Principal, booking_id: int, body: RatingIn,
                       now: datetime | None = None) -> dict:
    """Rate an attended place or a done errand, once: `WHERE rating IS NULL` holds it under concurrency."""
    now = now or datetime.now(UTC)
    b, _svc = await queries.load_booking(db, p, booking_id)
    if not policies.can_rate(p, queries.booking_facts(b)):
        raise NotPermitted()
    if BookingStatus(b.status) not in RATEABLE:
        raise InvalidStep(details={"state": b.status, "action": "rate"})
    done = await db.execute(update(Booking).where(Booking.id == b.id, Booking.rating.is_(None),
                                                  Booking.status.in_([s.value for s in RATEABLE]))
                            .values(rating=body.stars, rating_comment=body.comment, rated_at=now,
                                    version=Booking.version + 1, updated_at=now)
                            .execution_options(synchronize_session=False))
    if rowcount(done) != 1:
        raise Conflict("already_rated")
    db.add(_event(b.id, p, "rate", b.status, b.status, body.comment, now))
    db.expire(b)
    return await queries.booking_detail(db, p, booking_id)


async def take_errand_step(db: AsyncSession, p: Principal, booking_id: int, body: ErrandStepIn,
                           now: datetime | None = None) -> dict:
    """The one door of the errand state machine (errands.STEPS), for the grid workers of the errand's grid."""
    now = now or datetime.now(UTC)
    b, svc = await queries.load_booking(db, p, booking_id)
    facts = queries.booking_facts(b)
    if not policies.is_errand_keeper(p, facts):
        raise NotPermitted()
    _check_version(b, body.expected_version)
    status = BookingStatus(b.status)
    step = errands.check_errand_step(body.action, status, body.note)
    to = step.to or status
    await _move(db, b, body.expected_version, to, now)
    db.add(_event(b.id, p, body.action.value, status.value, to.value, body.note, now))
    if step.notice:
        await notices.tell(db, [b.resident_id], step.notice, b.id, title=svc.title, note=body.note or "")
    db.expire(b)
    return await queries.booking_detail(db, p, booking_id)



async def cancel_on_erasure(db: AsyncSession, p: Principal, now: datetime) -> int:
    """The resident erases their account (issue 21): every place still to come, waitlist entry and open errand
    is cancelled, whatever the cancellation deadline, through the same steps as a cancellation: the version
    update, an event, the place freed and the first waiter promoted; the grid workers of an errand are told.
    Nobody tells the resident (the account is gone). Returns how many were cancelled."""
    slot_claim = (Booking.slot_id.is_not(None) & Booking.status.in_([S.booked.value, S.waitlisted.value])
                  & (Booking.starts_at > now))
    errand_claim = Booking.slot_id.is_(None) & Booking.status.in_([s.value for s in errands.OPEN])
    found = (await db.execute(select(Booking, BookingService).join(BookingService, BookingService.id ==
                                                                   Booking.service_id)
                              .where(Booking.resident_id == p.user_id, slot_claim | errand_claim)
                              .order_by(Booking.id))).all()
    for b, svc in found:
        status = BookingStatus(b.status)
        await _move(db, b, b.version, S.cancelled, now, cancel_reason="账号注销")
        db.add(_event(b.id, p, "cancel", status.value, S.cancelled.value, None, now))
        if b.slot_id is None:
            await notices.tell(db, await notices.grid_workers(db, b.grid_id), "booking.errand_cancelled", b.id,
                               title=svc.title)
        elif status is S.booked:
            await _free_place(db, b.slot_id)
            if svc.waitlist:
                await promote_waiting(db, b.slot_id, svc, now)
    return len(found)

# ---- the worker: reminders ------------------------------------------------------------------------------------

REMIND_AHEAD = timedelta(hours=24)


async def send_reminders(db: AsyncSession, settings: object, now: datetime, batch: int = 200) -> int:
    """Remind residents of places starting within the next 24 hours, once each: every reminder is claimed by
    `UPDATE ... SET reminded_at = now WHERE id = :id AND reminded_at IS NULL`, so two workers never both send it."""
    due = (await db.execute(select(Booking.id, Booking.resident_id, Booking.starts_at, BookingService.title,
                                   BookingService.place)
                            .join(BookingService, BookingService.id == Booking.service_id)
                            .join(BookingSlot, BookingSlot.id == Booking.slot_id)
                            .where(Booking.status == S.booked, Booking.reminded_at.is_(None),
                                   Booking.starts_at > now, Booking.starts_at <= now + REMIND_AHEAD,
                                   BookingSlot.status == SlotStatus.open)
                            .order_by(Booking.starts_at).limit(batch))).all()
    sent = 0
    for row in due:
        won = await db.execute(update(Booking).where(Booking.id == row.id, Booking.reminded_at.is_(None))
                               .values(reminded_at=now).execution_options(synchronize_session=False))
        if rowcount(won) == 1:
            await notices.tell(db, [row.resident_id], "booking.reminder", row.id, title=row.title,
                               starts_at=notices.local(row.starts_at), place=row.place or "")
            sent += 1
    return sent



