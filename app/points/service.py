"""Points administration and a resident's own account: earning rules, pact items, adjustments, the opt-out from
the published ranking. Rewards and redemptions are in rewards.py, the ranking in ranking.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotFound, NotPermitted
from app.db.helpers import insert_ignore, table_of
from app.notifications.service import notify
from app.points import earning, ledger, places, policies
from app.points.enums import EntryKind, SourceType
from app.points.models import PactItem, PointAccount, PointRule
from app.points.schemas import AdjustmentIn, PactItemCreate, PactItemUpdate, RulesIn
from app.users.models import Role


def _home(p: Principal) -> int:
    """A resident's community: points accounts are per community and only residents hold them."""
    if p.role is not Role.resident or p.community_id is None:
        raise NotPermitted()
    return p.community_id


async def my_account(db: AsyncSession, p: Principal) -> dict[str, Any]:
    community_id = _home(p)
    acc = (await db.execute(select(PointAccount.balance, PointAccount.hide_from_ranking).where(
        PointAccount.user_id == p.user_id, PointAccount.community_id == community_id))).first()
    return {"user_id": p.user_id, "community_id": community_id, "balance": acc.balance if acc else 0,
            "hide_from_ranking": acc.hide_from_ranking if acc else False}


async def set_publication(db: AsyncSession, p: Principal, hide: bool) -> dict[str, Any]:
    community_id = _home(p)
    await ledger.ensure_account(db, p.user_id, community_id)
    await db.execute(update(table_of(PointAccount)).where(
        table_of(PointAccount).c.user_id == p.user_id, table_of(PointAccount).c.community_id == community_id)
        .values(hide_from_ranking=hide))
    return await my_account(db, p)


async def rules_of(db: AsyncSession, p: Principal, community_id: int) -> dict[str, Any]:
    path = await places.community_path(db, community_id)
    if path is None or not policies.can_read_community(p, community_id, path):
        raise NotFound()
    items = (await db.execute(select(PactItem).where(PactItem.community_id == community_id)
                              .order_by(PactItem.id))).scalars().all()
    staff = policies.is_staff_of(p, path)
    return {"community_id": community_id, "points_per_hour": await earning.points_per_hour(db, community_id),
            "pact_items": [i for i in items if staff or i.is_active]}


async def set_rules(db: AsyncSession, p: Principal, data: RulesIn) -> dict[str, Any]:
    ensure_admin(p)
    await places.community_in_scope(db, data.community_id, p.in_scope)
    now = datetime.now(UTC)
    if not await insert_ignore(db, table_of(PointRule), {"community_id": data.community_id,
                                                         "points_per_hour": data.points_per_hour,
                                                         "updated_by_id": p.user_id, "updated_at": now},
                               ["community_id"]):
        await db.execute(update(table_of(PointRule)).where(table_of(PointRule).c.community_id == data.community_id)
                         .values(points_per_hour=data.points_per_hour, updated_by_id=p.user_id, updated_at=now))
    return await rules_of(db, p, data.community_id)


async def create_pact_item(db: AsyncSession, p: Principal, data: PactItemCreate) -> PactItem:
    ensure_admin(p)
    await places.community_in_scope(db, data.community_id, p.in_scope)
    item = PactItem(community_id=data.community_id, name=data.name, points=data.points, is_active=True,
                    created_at=datetime.now(UTC))
    db.add(item)
    await db.flush()
    return item


async def update_pact_item(db: AsyncSession, p: Principal, item_id: int, data: PactItemUpdate) -> PactItem:
    ensure_admin(p)
    item = await db.get(PactItem, item_id)
    path = await places.community_path(db, item.community_id) if item is not None else None
    if item is None or path is None or not policies.can_manage(p, path):
        raise NotFound()
    for k, v in data.model_dump(exclude_unset=True).items():
        setattr(item, k, v)
    await db.flush()
    return item


async def adjust(db: AsyncSession, p: Principal, data: AdjustmentIn) -> dict[str, Any]:
    """An admin's adjustment with a reason (a correction, a penalty): an `adjust` entry; never below zero."""
    ensure_admin(p)
    if data.amount == 0:
        raise InvalidInput("validation_error", {"amount": "must not be 0"})
    await places.community_in_scope(db, data.community_id, p.in_scope)
    await earning.resident_in(db, data.user_id, data.community_id)
    posted = await ledger.post(db, user_id=data.user_id, community_id=data.community_id, amount=data.amount,
                               kind=EntryKind.adjust, reason=data.reason, source_type=SourceType.adjustment,
                               source_id=None, created_by_id=p.user_id)
    await notify(db, [data.user_id], "points.adjusted", object_type="point_entry", object_id=posted.entry_id,
                 link="/api/v1/points/me", params={"points": data.amount, "reason": data.reason,
                                            "balance": posted.balance_after})
    return {"entry_id": posted.entry_id, "user_id": data.user_id, "amount": data.amount,
            "balance_after": posted.balance_after}
