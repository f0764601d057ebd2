"""Points expire POINTS_EXPIRE_MONTHS after they were credited, unless spent first (the worker's `points_expired`).

Once a day per account with a balance: the account is claimed by a conditional UPDATE of `expiry_checked_at` (two
workers never both handle it), then what is due (policies.due_to_expire: first in, first out) leaves through the
ledger's one door as an `expire` entry, and the resident is told, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.db.helpers import table_of
from app.notifications.service import notify
from app.points import ledger
from app.points.enums import EntryKind, SourceType
from app.points.models import PointAccount, PointEntry
from app.points.policies import due_to_expire

BATCH = 200


def months_before(day: datetime, months: int) -> datetime:
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


async def expire_points(db: AsyncSession, settings: Settings, now: datetime) -> int:
    if not settings.points_expire_months:
        return 0
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    cutoff = months_before(day, settings.points_expire_months)
    acc, e = table_of(PointAccount).c, table_of(PointEntry).c
    due_today = or_(acc.expiry_checked_at.is_(None), acc.expiry_checked_at < day)
    pick = select(acc.id).where(acc.balance > 0, due_today).order_by(acc.id).limit(BATCH)
    claimed = (await db.execute(
        update(table_of(PointAccount)).where(acc.id.in_(pick.scalar_subquery()), acc.balance > 0, due_today)
        .values(expiry_checked_at=day).returning(acc.id, acc.user_id, acc.community_id, acc.balance))).all()
    for a in claimed:
        old, spent = (await db.execute(select(
            func.coalesce(func.sum(case((e.amount > 0, case((e.created_at < cutoff, e.amount), else_=0)),
                                        else_=0)), 0),
            func.coalesce(func.sum(case((e.amount < 0, -e.amount), else_=0)), 0),
        ).where(e.account_id == a.id))).one()
        due = due_to_expire(int(cast(int, old)), int(cast(int, spent)), a.balance)
        if not due:
            continue
        posted = await ledger.post(db, user_id=a.user_id, community_id=a.community_id, amount=-due,
                                   kind=EntryKind.expire, reason=f"{cutoff:%Y-%m-%d}前获得的积分过期",
                                   source_type=SourceType.expiry, source_id=None, created_by_id=None)
        await notify(db, [a.user_id], "points.expired", object_type="point_entry", object_id=posted.entry_id,
                     link="/api/v1/points/me", params={
                         "points": due, "cutoff": f"{cutoff:%Y-%m-%d}", "balance": posted.balance_after})
    return len(claimed)
