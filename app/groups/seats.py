"""Seats: a group's member_count and an activity's signed_up move only by conditional UPDATEs, so a cap or a
capacity holds under any number of concurrent joins (PostgreSQL re-checks the WHERE on the locked row; SQLite
writers are serialised by BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.db.helpers import table_of
from app.groups.enums import ActivityStatus, GroupStatus
from app.groups.models import Activity, Group

_g = table_of(Group).c
_a = table_of(Activity).c


async def take_group_seat(db: AsyncSession, group_id: int, cap: int | None) -> None:
    """One more active member, or 409 `group_full` (nothing written)."""
    done = await db.execute(update(table_of(Group))
                            .where(_g.id == group_id, _g.status == GroupStatus.active.value,
                                   or_(_g.member_cap.is_(None), _g.member_count < _g.member_cap))
                            .values(member_count=_g.member_count + 1))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("group_full", {"member_cap": cap})


async def free_group_seat(db: AsyncSession, group_id: int) -> None:
    await db.execute(update(table_of(Group)).where(_g.id == group_id, _g.member_count > 0)
                     .values(member_count=_g.member_count - 1))


async def take_activity_place(db: AsyncSession, activity_id: int, now: datetime) -> bool:
    """One more place taken; False when the activity is full, closed for signups or cancelled."""
    done = await db.execute(update(table_of(Activity))
                            .where(_a.id == activity_id, _a.status == ActivityStatus.open.value,
                                   _a.signed_up < _a.capacity, _a.signup_deadline > now)
                            .values(signed_up=_a.signed_up + 1))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def free_activity_place(db: AsyncSession, activity_id: int) -> None:
    await db.execute(update(table_of(Activity)).where(_a.id == activity_id, _a.signed_up > 0)
                     .values(signed_up=_a.signed_up - 1))
