"""Earning: volunteer hours at the community's rate, pact items awarded by staff. Entries go through ledger.post
and the resident is told in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotPermitted
from app.notifications.service import notify
from app.points import ledger, places, policies
from app.points.enums import EntryKind, SourceType
from app.points.models import PactAward, PactItem, PointRule
from app.users.models import Role, User


async def points_per_hour(db: AsyncSession, community_id: int) -> int:
    rate = (await db.execute(select(PointRule.points_per_hour).where(PointRule.community_id == community_id))).scalar()
    return rate or 0


async def credit_volunteer_hours(db: AsyncSession, *, user_id: int, community_id: int, signup_id: int, minutes: int,
                                 activity_title: str, confirmed_by_id: int) -> int:
    """Credit confirmed hours (once per signup: the entry's source is unique). Returns the points credited."""
    points = await points_per_hour(db, community_id) * minutes // 60
    if points <= 0:
        return 0
    posted = await ledger.post(db, user_id=user_id, community_id=community_id, amount=points, kind=EntryKind.earn,
                               reason=f"志愿服务 {activity_title} {minutes / 60:g}h",
                               source_type=SourceType.volunteer_signup, source_id=signup_id,
                               created_by_id=confirmed_by_id)
    await notify(db, [user_id], "points.credited", object_type="point_entry", object_id=posted.entry_id,
                 link="/api/v1/points/me", params={"points": points, "reason": activity_title,
                                            "balance": posted.balance_after})
    return points


async def resident_in(db: AsyncSession, user_id: int, community_id: int) -> User:
    """An active resident of the community, or 422 invalid_reference."""
    u = await db.get(User, user_id)
    if u is None or u.role != Role.resident or u.community_id != community_id or not u.is_active:
        raise InvalidInput("invalid_reference", {"field": "user_id", "value": user_id,
                                                 "reason": "not a resident of the community"})
    return u


async def award_pact_item(db: AsyncSession, p: Principal, *, pact_item_id: int, user_id: int,
                          note: str) -> dict[str, Any]:
    """Staff award a pact item (居民公约) to a resident of the item's community; an item outside their scope is
    422 invalid_reference, like a missing one."""
    if not p.is_admin:
        raise NotPermitted()
    item = await db.get(PactItem, pact_item_id)
    path = await places.community_path(db, item.community_id) if item is not None else None
    if item is None or path is None or not policies.can_manage(p, path):
        raise InvalidInput("invalid_reference", {"field": "pact_item_id", "value": pact_item_id})
    if not item.is_active:
        raise InvalidInput("invalid_reference", {"field": "pact_item_id", "value": pact_item_id,
                                                 "reason": "retired"})
    await resident_in(db, user_id, item.community_id)
    award = PactAward(pact_item_id=item.id, user_id=user_id, points=item.points, note=note,
                      awarded_by_id=p.user_id, created_at=datetime.now(UTC))
    db.add(award)
    await db.flush()
    posted = await ledger.post(db, user_id=user_id, community_id=item.community_id, amount=item.points,
                               kind=EntryKind.earn, reason=f"{item.name}：{note}", source_type=SourceType.pact_award,
                               source_id=award.id, created_by_id=p.user_id)
    await notify(db, [user_id], "points.credited", object_type="point_entry", object_id=posted.entry_id,
                 link="/api/v1/points/me", params={"points": item.points, "reason": item.name,
                                            "balance": posted.balance_after})
    return {"entry_id": posted.entry_id, "user_id": user_id, "amount": item.points,
            "balance_after": posted.balance_after}
