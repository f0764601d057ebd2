"""Yearly 民生微实事 budgets. Reserving is one conditional UPDATE that the database holds: `reserved` never
exceeds `amount`, however many reservations race (and a CHECK constraint backs it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, NotFound, NotPermitted
from app.db.helpers import flush_or_conflict
from app.deliberation import policies, queries
from app.deliberation.models import Budget

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def budget_year(now: datetime) -> int:
    """The budget year of a moment: the calendar year in China time."""
    return now.astimezone(CHINA).year


def _read(b: Budget) -> dict:
    return {"id": b.id, "community_id": b.community_id, "year": b.year, "amount": b.amount, "reserved": b.reserved,
            "remaining": b.amount - b.reserved}


async def _left(db: AsyncSession, community_id: int, year: int, requested: int) -> dict:
    b = (await db.execute(select(Budget).where(Budget.community_id == community_id, Budget.year == year)
                          .execution_options(populate_existing=True))).scalar_one_or_none()
    amount, reserved = (b.amount, b.reserved) if b else (0, 0)
    return {"year": year, "amount": amount, "reserved": reserved, "remaining": amount - reserved,
            "requested": requested}


async def reserve(db: AsyncSession, community_id: int, year: int, cost: int, now: datetime) -> int:
    """Reserve `cost` from the community's budget of `year`; the budget's id. 409 `budget_exceeded` with what is
    left when it cannot cover it (or there is no budget for that year)."""
    won = (await db.execute(
        update(Budget).where(Budget.community_id == community_id, Budget.year == year,
                             Budget.reserved + cost <= Budget.amount)
        .values(reserved=Budget.reserved + cost, updated_at=now).returning(Budget.id)
        .execution_options(synchronize_session=False))).scalar_one_or_none()
    if won is None:
        raise Conflict("budget_exceeded", await _left(db, community_id, year, cost))
    return won


async def release(db: AsyncSession, budget_id: int, amount: int, now: datetime) -> None:
    await db.execute(update(Budget).where(Budget.id == budget_id)
                     .values(reserved=Budget.reserved - amount, updated_at=now)
                     .execution_options(synchronize_session=False))


async def _community(db: AsyncSession, p: Principal, community_id: int, *, manage: bool) -> str:
    path = await queries.community_path(db, community_id)
    if path is None or not policies.can_read_community(p, community_id, path):
        raise NotFound()
    if manage and not policies.can_manage_community(p, path):
        raise NotPermitted()
    return path


async def list_budgets(db: AsyncSession, p: Principal, community_id: int) -> list[dict]:
    await _community(db, p, community_id, manage=False)
    rows = (await db.execute(select(Budget).where(Budget.community_id == community_id)
                             .order_by(Budget.year.desc()))).scalars()
    return [_read(b) for b in rows]


async def put_budget(db: AsyncSession, p: Principal, community_id: int, year: int, amount: int) -> dict:
    """Set a year's amount. It may not fall below what is already reserved (409 `budget_below_reserved`)."""
    await _community(db, p, community_id, manage=True)
    now = datetime.now(UTC)
    done = (await db.execute(
        update(Budget).where(Budget.community_id == community_id, Budget.year == year, Budget.reserved <= amount)
        .values(amount=amount, updated_at=now).returning(Budget.id)
        .execution_options(synchronize_session=False))).scalar_one_or_none()
    if done is None:
        left = await _left(db, community_id, year, 0)
        if left["amount"] or left["reserved"]:  # it exists: the amount would fall below the reserved part
            raise Conflict("budget_below_reserved", left)
        db.add(Budget(community_id=community_id, year=year, amount=amount, reserved=0, updated_at=now))
        await flush_or_conflict(db, "conflict")
    b = (await db.execute(select(Budget).where(Budget.community_id == community_id, Budget.year == year)
                          .execution_options(populate_existing=True))).scalar_one()
    return _read(b)
