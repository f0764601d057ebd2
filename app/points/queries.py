"""Read side of points: a resident's history, reward and redemption lists (keyset-paginated, newest first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.errors import NotPermitted
from app.core.pagination import keyset, page_of
from app.db.helpers import table_of
from app.points.enums import RedemptionStatus
from app.points.models import PointAccount, PointEntry, Redemption, Reward
from app.users.models import Role

_R = table_of(Reward).c


async def my_entries(db: AsyncSession, p: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    if p.role is not Role.resident or p.community_id is None:
        raise NotPermitted()
    e = table_of(PointEntry).c
    stmt = (select(e.id, e.kind, e.amount, e.balance_after, e.reason, e.source_type, e.source_id, e.created_at)
            .join(PointAccount, PointAccount.id == e.account_id)
            .where(PointAccount.user_id == p.user_id, PointAccount.community_id == p.community_id))
    rows = (await db.execute(keyset(stmt, [e.created_at, e.id], [datetime, int], cursor, limit,
                                    descending=True))).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: (r["created_at"], r["id"]))
    return {"items": [dict(r) for r in items], "next_cursor": nxt}


def visible_rewards_sql(p: Principal) -> ColumnElement[bool]:
    """The SQL twin of policies.can_see_reward."""
    if p.is_admin and p.scope_path:
        return Reward.community_path.startswith(p.scope_path, autoescape=True)
    if p.role is Role.resident and p.community_id is not None:
        return (Reward.community_id == p.community_id) & Reward.is_active.is_(True)
    return false()


async def list_rewards(db: AsyncSession, p: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    stmt = select(Reward).where(visible_rewards_sql(p))
    rows: Any = (await db.execute(keyset(stmt, [_R.created_at, _R.id], [datetime, int], cursor, limit,
                                    descending=True))).scalars().all()
    items, nxt = page_of(rows, limit, lambda r: (r.created_at, r.id))
    return {"items": items, "next_cursor": nxt}


async def list_redemptions(db: AsyncSession, p: Principal, *, status: RedemptionStatus | None, limit: int,
                           cursor: str | None) -> dict[str, Any]:
    """Residents: their own. Admins: those of the communities in their scope. Other staff: none."""
    d = table_of(Redemption).c
    stmt = select(d.id, d.reward_id, Reward.name.label("reward_name"), d.user_id, d.community_id, d.cost, d.status,
                  d.note, d.version, d.created_at, d.decided_at).join(Reward, Reward.id == d.reward_id)
    if p.is_admin and p.scope_path:
        stmt = stmt.where(Reward.community_path.startswith(p.scope_path, autoescape=True))
    else:
        stmt = stmt.where(d.user_id == p.user_id)
    if status is not None:
        stmt = stmt.where(d.status == status.value)
    rows = (await db.execute(keyset(stmt, [d.created_at, d.id], [datetime, int], cursor, limit,
                                    descending=True))).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: (r["created_at"], r["id"]))
    return {"items": [dict(r) for r in items], "next_cursor": nxt}
