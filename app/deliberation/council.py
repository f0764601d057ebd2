"""The council (议事会): who may steer a community's proposals. THE one seam for it.

The council of a community is its admins (those whose scope covers the community: the community's own and the
street's) together with the active members of the community's active groups of kind `council` (app/groups).
Council residents take the council's steps (agenda, decline, plan and notice, vote); moderation stays with admins
(policies.can_hide_comment).
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.groups.council import council_member_ids, is_council_member
from app.org.models import Grid
from app.users.models import Role, User


async def is_council(db: AsyncSession, p: Principal, community_path: str, community_id: int) -> bool:
    """Whether this principal sits on the council of the community (at `community_path`)."""
    if p.in_scope(community_path):
        return True
    if p.role is Role.resident and p.community_id == community_id:
        return await is_council_member(db, p.user_id, community_id)
    return False


async def council_user_ids(db: AsyncSession, community_path: str, community_id: int) -> list[int]:
    """Every active council member of the community (for notices)."""
    stmt = (select(User.id).join(Grid, Grid.id == User.scope_grid_id)
            .where(User.role == Role.admin, User.is_active.is_(True),
                   literal(community_path).startswith(Grid.path)))
    admins = list((await db.execute(stmt)).scalars())
    return sorted({*admins, *await council_member_ids(db, community_id)})
