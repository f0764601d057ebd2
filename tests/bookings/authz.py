"""Builders of the authorization matrix's bookings entries (tests/quality/authz_matrix.py).

The objects "owned by someone else" live in community 2: a service of c2 provided by department d2 (so dept_out is
its staff), its slots, and resident_c's bookings and errand (g2: worker_out keeps it).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.bookings import catalog, service
from app.bookings.schemas import BookingCreate, ServiceCreate, SlotCreate
from tests.bookings.factories import move_slot
from tests.reports.factories import principal

ON_C2_PATH = frozenset({"resident_c", "worker_out", "dept_out", "admin_c2", "admin_street"})
STAFF_C2 = frozenset({"dept_out", "admin_c2", "admin_street"})
_hours = itertools.count(1)


def _req(**kw: Any):
    from tests.quality.authz_matrix import Req  # late: the matrix imports this module

    return Req(**kw)


async def _service(c, *, kind: str = "appointment") -> int:
    p = await principal(c.app, c.world.users["admin_c2"])
    body = ServiceCreate(community_id=c.world.c2.id, kind=kind, title="社区二服务", max_active_per_resident=100,
                         **({"provider_kind": "grid_workers"} if kind == "errand" else
                            {"provider_kind": "department", "provider_department_id": c.world.d2.id}))
    async with c.app.state.db.session(write=True) as s:
        return (await catalog.create_service(s, p, body)).id


async def _shared_service(c) -> int:
    return await c.once("bk_service", lambda: _service(c))


async def _slot(c, service_id: int | None = None) -> int:
    p = await principal(c.app, c.world.users["admin_c2"])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1, hours=next(_hours))
    service_id = service_id or await _shared_service(c)
    async with c.app.state.db.session(write=True) as s:
        slot = await catalog.create_slot(s, p, service_id,
                                         SlotCreate(starts_at=start, ends_at=start + timedelta(minutes=30), capacity=5))
    return slot["id"]


async def _booking(c, *, started: bool = False, attended: bool = False) -> int:
    """resident_c's place in a fresh slot of the c2 service (optionally started, or attended)."""
    slot_id = await _slot(c)
    p = await principal(c.app, c.world.users["resident_c"])
    async with c.app.state.db.session(write=True) as s:
        booking = await service.book(s, p, BookingCreate(slot_id=slot_id))
    if started or attended:
        await move_slot(c.app, slot_id, datetime.now(UTC) - timedelta(minutes=5))
    if attended:
        from app.bookings.schemas import AttendanceIn

        staff = await principal(c.app, c.world.users["admin_c2"])
        async with c.app.state.db.session(write=True) as s:
            await service.mark_attendance(s, staff, booking["id"], AttendanceIn(expected_version=booking["version"],
                                                                                status="attended"))
    return booking["id"]


async def _errand(c) -> dict:
    async def make() -> dict:
        service_id = await _service(c, kind="errand")
        p = await principal(c.app, c.world.users["resident_c"])
        async with c.app.state.db.session(write=True) as s:
            return await service.book(s, p, BookingCreate(service_id=service_id, note="居住证材料代交"))
    return await c.once("bk_errand", make)


# ---- builders ------------------------------------------------------------------------------------------------

async def services_listing(c):
    await _shared_service(c)
    return _req()


def lists_c2_service_iff_on_path(c, resp: httpx.Response) -> None:
    listed = c.shared["bk_service"] in {s["id"] for s in resp.json()["items"]}
    assert listed == (c.actor in ON_C2_PATH), f"{c.actor}: community 2's service listed={listed}"


def new_service(c):
    return _req(json={"community_id": c.world.c2.id, "kind": "venue", "title": "议事厅", "provider_kind": "partner",
                      "provider_name": "社区二居委会"})


async def service_path(c):
    return _req(path={"service_id": await _shared_service(c)})


async def patch_service(c):
    service_id = await _service(c)  # fresh: a change bumps the version
    return _req(path={"service_id": service_id}, json={"expected_version": 1, "title": "新名称"})


async def new_slot(c):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, hours=next(_hours))
    return _req(path={"service_id": await _shared_service(c)},
                json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=30)).isoformat(),
                      "capacity": 3})


async def timetable(c):
    day = datetime.now(UTC).date() + timedelta(days=3)
    return _req(path={"service_id": await _shared_service(c)},
                json={"from_date": str(day), "to_date": str(day + timedelta(days=6)), "weekdays": [4],
                      "start_time": "14:00", "end_time": "17:00", "slot_minutes": 30, "capacity": 1})


async def cancel_slot(c):
    return _req(path={"slot_id": await _slot(c)}, json={"reason": "场地维修"})


async def book(c):
    slot_id = await c.once("bk_slot", lambda: _slot(c))
    return _req(json={"slot_id": slot_id})


async def my_bookings(c):
    await c.once("bk_booking", lambda: _booking(c))
    return _req()


def lists_booking_iff_owner(c, resp: httpx.Response) -> None:
    listed = c.shared["bk_booking"] in {b["id"] for b in resp.json()["items"]}
    assert listed == (c.actor == "resident_c"), f"{c.actor}: resident_c's booking listed={listed}"


async def booking_path(c):
    return _req(path={"booking_id": await c.once("bk_booking", lambda: _booking(c))})


async def cancel_booking(c):
    booking_id = await c.once("bk_booking", lambda: _booking(c))
    return _req(path={"booking_id": booking_id}, json={"expected_version": 1})


async def attendance(c):
    booking_id = await _booking(c, started=True)  # fresh: marking it changes it
    return _req(path={"booking_id": booking_id}, json={"expected_version": 1, "status": "attended"})


async def rating(c):
    booking_id = await c.once("bk_attended", lambda: _booking(c, attended=True))
    return _req(path={"booking_id": booking_id}, json={"stars": 5})


async def errand_step(c):
    errand = await _errand(c)
    return _req(path={"booking_id": errand["id"]}, json={"action": "receive", "expected_version": 1})


async def errand_queue(c):
    await _errand(c)
    return _req()


def lists_errand_iff_keeper(c, resp: httpx.Response) -> None:
    listed = c.shared["bk_errand"]["id"] in {b["id"] for b in resp.json()["items"]}
    assert listed == (c.actor in {"worker_out", "admin_c2", "admin_street"}), f"{c.actor}: errand listed={listed}"
