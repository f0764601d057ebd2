"""Service booking over HTTP: the catalog (/services), slots, bookings, and the errand queue. Thin: parse, call one
service or query function, answer with a schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, status
from pydantic import AwareDatetime

from app.auth.deps import CurrentPrincipal, ReadPrincipal
from app.bookings import catalog, figures, queries, service
from app.bookings.schemas import (
    AttendanceIn,
    BookingCreate,
    BookingEventRead,
    BookingFigures,
    BookingRead,
    CancelIn,
    ErrandStepIn,
    RatingIn,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
    SlotCancel,
    SlotCreate,
    SlotRead,
    TimetableIn,
    TimetableResult,
)
from app.bookings.states import BookingStatus, When
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession, ReadRows

services = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/services", tags=["services"])
slots = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/slots", tags=["services"])
bookings = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/bookings", tags=["bookings"])
errands = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/errands", tags=["bookings"])

LIST = error_responses(400, 401, 403, 404, 422, 500)
READ = error_responses(401, 404, 422, 500)
WRITE = error_responses(401, 403, 404, 409, 422, 500)
From = Annotated[AwareDatetime | None, Query(alias="from", description="From (ISO 8601, with offset).")]
To = Annotated[AwareDatetime | None, Query(description="Before (ISO 8601, with offset).")]
Statuses = Annotated[list[BookingStatus] | None, Query(max_length=9)]


# ---- the catalog --------------------------------------------------------------------------------------------


@services.get("", summary="Services I may see: my community's (residents), my scope's (staff)",
              response_model=Page[ServiceRead], responses=LIST)
async def list_booking_services(db: DbSession, p: CurrentPrincipal, community_id: IdQuery = None,
                                limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await queries.list_services(db, p, community_id=community_id, limit=limit, cursor=cursor)
    return Page[ServiceRead](items=[ServiceRead.model_validate(s) for s in items], next_cursor=nxt)


@services.post("", status_code=status.HTTP_201_CREATED, summary="Add a service to a community (admins)",
               response_model=ServiceRead, responses=WRITE,
               dependencies=[Idempotent])
async def create_booking_service(db: DbSession, p: CurrentPrincipal, body: ServiceCreate):
    return await catalog.create_service(db, p, body)


@services.get("/{service_id}", summary="A service and its rules", response_model=ServiceRead, responses=READ)
async def get_booking_service(db: DbSession, p: CurrentPrincipal, service_id: IdPath):
    return await queries.visible_service(db, p, service_id)


@services.patch("/{service_id}", summary="Change a service: rules, pause, resume, retire (admins)",
                response_model=ServiceRead, responses=WRITE,
                description="Send the `version` you saw as `expected_version` (409 `stale_version` otherwise). "
                            "A paused service is listed but not bookable; a retired one keeps its history.")
async def update_booking_service(db: DbSession, p: CurrentPrincipal, service_id: IdPath, body: ServiceUpdate):
    return await catalog.update_service(db, p, service_id, body)


@services.get("/{service_id}/slots", summary="A service's open slots with remaining places",
              response_model=Page[SlotRead], responses=LIST,
              description="In start order, from `from` (default now) to `to` (default 60 days on).")
async def list_service_slots(rows: ReadRows, p: ReadPrincipal, service_id: IdPath, from_: From = None,
                             to: To = None, available_only: bool = False, limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await queries.list_slots(rows, p, service_id, start=from_, end=to, available_only=available_only,
                                          now=datetime.now(UTC), limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@services.post("/{service_id}/slots", status_code=status.HTTP_201_CREATED, summary="Add one slot (admins)",
               response_model=SlotRead, responses=WRITE,
               dependencies=[Idempotent])
async def create_service_slot(db: DbSession, p: CurrentPrincipal, service_id: IdPath, body: SlotCreate):
    return await catalog.create_slot(db, p, service_id, body)


@services.post("/{service_id}/timetable", summary="Add weekly slots over a date range (admins)",
               response_model=TimetableResult, responses=WRITE,
               dependencies=[Idempotent])
async def apply_service_timetable(db: DbSession, p: CurrentPrincipal, service_id: IdPath, body: TimetableIn):
    return await catalog.apply_timetable(db, p, service_id, body)


@services.get("/{service_id}/bookings", summary="A service's bookings (its staff)", response_model=Page[BookingRead],
              responses=LIST)
async def list_service_bookings(db: DbSession, p: CurrentPrincipal, service_id: IdPath, status: Statuses = None,
                                slot_id: IdQuery = None, limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await queries.service_bookings(db, p, service_id, statuses=status, slot_id=slot_id, limit=limit,
                                                cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@slots.post("/{slot_id}/cancel", summary="Cancel a slot; its residents are told why (admins)",
            response_model=SlotRead, responses=WRITE,
            dependencies=[Idempotent])
async def cancel_service_slot(db: DbSession, p: CurrentPrincipal, slot_id: IdPath, body: SlotCancel):
    return await catalog.cancel_slot(db, p, slot_id, body)


# ---- bookings -----------------------------------------------------------------------------------------------


@bookings.post("", status_code=status.HTTP_201_CREATED, summary="Book a place (or join the waitlist, or ask for "
               "an errand)", response_model=BookingRead, responses=WRITE,
               description="Refusals: 409 `slot_full`, `already_booked`, `booking_window_closed`, "
                           "`booking_limit_reached`, `booking_blocked` (until), `service_paused`, `slot_cancelled`; "
                           "403 `not_eligible`. A full slot of a service with a waitlist answers 201 with status "
                           "`waitlisted`.",
               dependencies=[Idempotent])
async def book_service(db: DbSession, p: CurrentPrincipal, body: BookingCreate):
    return await service.book(db, p, body)


@bookings.get("/mine", summary="My bookings: upcoming (soonest first) or past (latest first)",
              response_model=Page[BookingRead], responses=LIST)
async def list_my_bookings(db: DbSession, p: CurrentPrincipal, when: When = When.upcoming, limit: Limit = 20,
                           cursor: Cursor = None):
    items, nxt = await queries.my_bookings(db, p, when=when, now=datetime.now(UTC), limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@bookings.get("/figures", summary="Per-service figures: bookings by status, average rating (admins)",
              response_model=BookingFigures, responses=error_responses(401, 403, 422, 500))
async def get_booking_figures(db: DbSession, p: CurrentPrincipal, community_id: IdQuery = None, from_: From = None,
                              to: To = None):
    return await figures.service_figures(db, p, community_id=community_id, start=from_, end=to)


@bookings.get("/{booking_id}", summary="A booking", response_model=BookingRead, responses=READ)
async def get_booking(db: DbSession, p: CurrentPrincipal, booking_id: IdPath):
    return await queries.booking_detail(db, p, booking_id)


@bookings.get("/{booking_id}/events", summary="A booking's steps and errand notes",
              response_model=list[BookingEventRead], responses=READ)
async def list_booking_events(db: DbSession, p: CurrentPrincipal, booking_id: IdPath):
    return await queries.events(db, p, booking_id)


@bookings.post("/{booking_id}/cancel", summary="Cancel my booking (before the deadline)", response_model=BookingRead,
               responses=WRITE, description="409 `cancel_deadline_passed` after the deadline. A freed place goes to "
                                            "the first waiting resident, who is told.",
               dependencies=[Idempotent])
async def cancel_my_booking(db: DbSession, p: CurrentPrincipal, booking_id: IdPath, body: CancelIn):
    return await service.cancel_booking(db, p, booking_id, body)


@bookings.post("/{booking_id}/attendance", summary="Mark attended or no-show (the service's staff)",
               response_model=BookingRead, responses=WRITE,
               dependencies=[Idempotent])
async def mark_booking_attendance(db: DbSession, p: CurrentPrincipal, booking_id: IdPath, body: AttendanceIn):
    return await service.mark_attendance(db, p, booking_id, body)


@bookings.post("/{booking_id}/rating", summary="Rate an attended booking or a done errand, once",
               response_model=BookingRead, responses=WRITE,
               dependencies=[Idempotent])
async def rate_my_booking(db: DbSession, p: CurrentPrincipal, booking_id: IdPath, body: RatingIn):
    return await service.rate_booking(db, p, booking_id, body)


@bookings.post("/{booking_id}/errand-steps", summary="Take an errand step: receive, start, finish, decline, note",
               response_model=BookingRead, responses=WRITE,
               description="The grid workers of the resident's grid only; anyone else gets 404.",
               dependencies=[Idempotent])
async def take_errand_step(db: DbSession, p: CurrentPrincipal, booking_id: IdPath, body: ErrandStepIn):
    return await service.take_errand_step(db, p, booking_id, body)


@errands.get("", summary="The errand queue: my grids' errands (grid workers), my scope's (admins)",
             response_model=Page[BookingRead], responses=LIST,
             description="Beside the reports queue (GET /api/v1/reports): open errands by default, newest first.")
async def list_errand_queue(db: DbSession, p: CurrentPrincipal, status: Statuses = None, limit: Limit = 20,
                            cursor: Cursor = None):
    items, nxt = await queries.errand_queue(db, p, statuses=status, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}
