"""Bookings factories: a service of community 1 (made by admin_c1), its slots, and more residents, in one line each."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from app.bookings import catalog
from app.bookings.models import Booking, BookingSlot
from app.bookings.schemas import ServiceCreate, SlotCreate
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role, User
from tests.factories import World
from tests.reports.factories import principal

_phones = itertools.count(1)


async def make_service(app, world: World, *, kind: str = "appointment", provider_kind: str = "partner",
                       admin: str = "admin_c1", community: str = "c1", **rules: Any) -> int:
    p = await principal(app, world.users[admin])
    fields: dict[str, Any] = {"provider_name": "律师事务所"} if provider_kind == "partner" else {}
    if provider_kind == "department":
        fields["provider_department_id"] = world.d1.id
    body = ServiceCreate(community_id=getattr(world, community).id, kind=kind, title=rules.pop("title", "法律咨询"),
                         place="社区服务中心", provider_kind=provider_kind, **fields, **rules)
    async with app.state.db.session(write=True) as s:
        return (await catalog.create_service(s, p, body)).id


async def make_slot(app, world: World, service_id: int, *, starts_in: timedelta = timedelta(days=1),
                    capacity: int = 10, minutes: int = 30, admin: str = "admin_c1") -> int:
    p = await principal(app, world.users[admin])
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    async with app.state.db.session(write=True) as s:
        slot = await catalog.create_slot(s, p, service_id, SlotCreate(
            starts_at=start, ends_at=start + timedelta(minutes=minutes), capacity=capacity))
    return slot["id"]


async def make_residents(app, world: World, n: int, *, building: str = "b1") -> list[User]:
    """n more residents (no password hashing: they sign in by token only)."""
    out = []
    async with app.state.db.session(write=True) as s:
        for _ in range(n):
            out.append(await users_service.create_user(
                s, world.settings, phone=f"137{next(_phones):08d}", password=None, password_hash="x",
                display_name="居民", role=Role.resident, building_id=getattr(world, building).id))
            await record_consent(s, out[-1].id, world.settings.privacy_notice_version, via="register",
                                 settings=world.settings)
    return out


async def set_birth_date(app, user_id: int, birth: date | None) -> None:
    async with app.state.db.session(write=True) as s:
        await s.execute(update(User).where(User.id == user_id).values(birth_date=birth))


async def move_slot(app, slot_id: int, starts_at: datetime) -> None:
    """Put a slot (and its bookings' copy of the start) at another time: the clock moved on."""
    async with app.state.db.session(write=True) as s:
        await s.execute(update(BookingSlot).where(BookingSlot.id == slot_id)
                        .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30)))
        await s.execute(update(Booking).where(Booking.slot_id == slot_id).values(starts_at=starts_at))
