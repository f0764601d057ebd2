"""Rewards (积分兑换): admins publish them; a resident redeems one; staff fulfil a redemption, or it is cancelled
and the points come back.

Redeeming is three conditional updates in one transaction, each of which holds its invariant in the database:
the balance (ledger.post: `balance + :d >= 0`), the per-resident limit (`claimed < :limit` on the resident's
claim counter) and the stock (`stock > 0`). Any of them failing raises, and the transaction rolls back the ones
before it. Every path takes the account row before the reward row (redeem and cancel alike), so two of them
never wait on each other in opposite orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.db.helpers import insert_ignore, table_of
from app.notifications.service import notify
from app.points import ledger, places, policies
from app.points.enums import REDEMPTION_STEPS, EntryKind, RedemptionAction, RedemptionStatus, SourceType
from app.points.models import Redemption, Reward, RewardClaim
from app.points.schemas import RedemptionStepIn, RewardCreate, RewardUpdate

_r = table_of(Reward).c
_c = table_of(RewardClaim).c
_d = table_of(Redemption).c


async def _reward(db: AsyncSession, reward_id: int) -> Reward | None:
    return (await db.execute(select(Reward).where(Reward.id == reward_id)
                             .execution_options(populate_existing=True))).scalar_one_or_none()


async def visible_reward(db: AsyncSession, p: Principal, reward_id: int) -> Reward:
    """404 when missing or not visible (a resident of another community; an inactive one to residents)."""
    r = await _reward(db, reward_id)
    if r is None or not policies.can_see_reward(p, r.community_id, r.community_path, r.is_active):
        raise NotFound()
    return r


async def create_reward(db: AsyncSession, p: Principal, data: RewardCreate) -> Reward:
    ensure_admin(p)
    path = await places.community_in_scope(db, data.community_id, p.in_scope)
    now = datetime.now(UTC)
    r = Reward(community_id=data.community_id, community_path=path, name=data.name, description=data.description,
               cost=data.cost, stock=data.stock, per_resident_limit=data.per_resident_limit, is_active=True,
               version=1, created_at=now, updated_at=now)
    db.add(r)
    await db.flush()
    return r


async def update_reward(db: AsyncSession, p: Principal, reward_id: int, data: RewardUpdate) -> Reward:
    r = await visible_reward(db, p, reward_id)
    if r.version != data.expected_version:
        raise Conflict("stale_version", {"current_version": r.version, "state": "active" if r.is_active else
                                         "inactive"})
    if not policies.can_manage(p, r.community_path):
        raise NotPermitted()
    values = data.model_dump(exclude_unset=True, exclude={"expected_version", "add_stock"})
    where = [_r.id == r.id, _r.version == data.expected_version]
    if data.add_stock is not None:
        values["stock"] = _r.stock + data.add_stock
        where.append(_r.stock + data.add_stock >= 0)
    done = await db.execute(update(table_of(Reward)).where(*where)
                            .values(**values, version=_r.version + 1, updated_at=datetime.now(UTC)))
    if not done.rowcount:  # type: ignore[attr-defined]
        now = await _reward(db, r.id)
        assert now is not None
        if now.version != data.expected_version:
            raise Conflict("stale_version", {"current_version": now.version, "state": "active"})
        raise Conflict("out_of_stock", {"stock": now.stock})
    found = await _reward(db, r.id)
    assert found is not None
    return found


async def redeem(db: AsyncSession, p: Principal, reward_id: int) -> dict[str, Any]:
    r = await visible_reward(db, p, reward_id)
    if not policies.can_redeem(p, r.community_id):
        raise NotPermitted()
    if not r.is_active:
        raise InvalidInput("invalid_reference", {"field": "reward_id", "value": r.id, "reason": "not offered"})
    now = datetime.now(UTC)
    redemption = Redemption(reward_id=r.id, user_id=p.user_id, community_id=r.community_id, cost=r.cost,
                            status=RedemptionStatus.requested.value, version=1, created_at=now)
    db.add(redemption)
    await db.flush()
    await ledger.post(db, user_id=p.user_id, community_id=r.community_id, amount=-r.cost, kind=EntryKind.redeem,
                      reason=f"兑换 {r.name}", source_type=SourceType.redemption, source_id=redemption.id,
                      created_by_id=p.user_id)
    if r.per_resident_limit is not None:
        await insert_ignore(db, table_of(RewardClaim), {"reward_id": r.id, "user_id": p.user_id, "claimed": 0},
                            ["reward_id", "user_id"])
        claimed = await db.execute(update(table_of(RewardClaim)).where(
            _c.reward_id == r.id, _c.user_id == p.user_id, _c.claimed < r.per_resident_limit)
            .values(claimed=_c.claimed + 1))
        if not claimed.rowcount:  # type: ignore[attr-defined]
            raise Conflict("reward_limit_reached", {"limit": r.per_resident_limit})
    taken = await db.execute(update(table_of(Reward)).where(_r.id == r.id, _r.stock > 0, _r.is_active.is_(True))
                             .values(stock=_r.stock - 1))
    if not taken.rowcount:  # type: ignore[attr-defined]
        raise Conflict("out_of_stock", {"stock": 0})
    return await redemption_read(db, redemption.id)


async def redemption_read(db: AsyncSession, redemption_id: int) -> dict[str, Any]:
    row = (await db.execute(select(
        _d.id, _d.reward_id, Reward.name.label("reward_name"), _d.user_id, _d.community_id, _d.cost, _d.status,
        _d.note, _d.version, _d.created_at, _d.decided_at).join(Reward, Reward.id == _d.reward_id)
        .where(_d.id == redemption_id))).mappings().one()
    return dict(row)


async def take_redemption_step(db: AsyncSession, p: Principal, redemption_id: int,
                               data: RedemptionStepIn) -> dict[str, Any]:
    """fulfil (staff) or cancel (the resident or staff; the points are refunded and the stock and the resident's
    limit given back). Visible (404) → expected_version (409 stale_version) → who (403) → state (409)."""
    d = (await db.execute(select(Redemption).where(Redemption.id == redemption_id)
                          .execution_options(populate_existing=True))).scalar_one_or_none()
    r = await _reward(db, d.reward_id) if d is not None else None
    if d is None or r is None or not policies.can_see_redemption(p, d.user_id, r.community_path):
        raise NotFound()
    if d.version != data.expected_version:
        raise Conflict("stale_version", {"current_version": d.version, "state": d.status})
    if not policies.can_step_redemption(p, data.action, d.user_id, r.community_path):
        raise NotPermitted()
    source, target = REDEMPTION_STEPS[data.action]
    if d.status != source:
        raise Conflict("invalid_transition", {"state": d.status, "action": data.action})
    now = datetime.now(UTC)
    done = await db.execute(update(table_of(Redemption)).where(
        _d.id == d.id, _d.version == data.expected_version, _d.status == source.value)
        .values(status=target.value, note=data.note, decided_by_id=p.user_id, decided_at=now,
                version=_d.version + 1))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("stale_version", {"current_version": d.version + 1, "state": d.status})
    if data.action is RedemptionAction.cancel:
        await ledger.post(db, user_id=d.user_id, community_id=d.community_id, amount=d.cost, kind=EntryKind.refund,
                          reason=f"退还 {r.name}", source_type=SourceType.redemption, source_id=d.id,
                          created_by_id=p.user_id)
        await db.execute(update(table_of(RewardClaim)).where(_c.reward_id == r.id, _c.user_id == d.user_id,
                                                             _c.claimed > 0).values(claimed=_c.claimed - 1))
        await db.execute(update(table_of(Reward)).where(_r.id == r.id).values(stock=_r.stock + 1))
    kind = "points.redemption_fulfilled" if data.action is RedemptionAction.fulfil else "points.redemption_cancelled"
    await notify(db, [d.user_id], kind, object_type="redemption", object_id=d.id, link="/api/v1/points/redemptions",
                 params={"reward": r.name, "points": d.cost, "note": data.note or ""}, exclude=p.user_id)
    return await redemption_read(db, d.id)
