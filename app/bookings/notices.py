"""What residents and grid workers are told about bookings, written through notifications.notify in the
transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.timetable import CHINA
from app.notifications.service import notify
from app.users.models import Role, User, UserGrid


def local(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


async def tell(db: AsyncSession, users: Iterable[int], type_: str, booking_id: int, **params: object) -> None:
    await notify(db, users, type_, object_type="booking", object_id=booking_id,
                 link=f"/api/v1/bookings/{booking_id}", params={k: v for k, v in params.items()})


async def grid_workers(db: AsyncSession, grid_id: int) -> list[int]:
    """The active grid workers of a grid: who an errand goes to."""
    return list((await db.execute(select(UserGrid.user_id).join(User, User.id == UserGrid.user_id).where(
        UserGrid.grid_id == grid_id, User.role == Role.grid_worker, User.is_active.is_(True)))).scalars())
