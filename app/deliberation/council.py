"""The council (议事会): who may steer a community's proposals. THE one seam for it.

The council of a community is its admins (those whose scope covers the community: the community's own and the
street's) together with the active members of the community's active groups of kind `council` (app/groups).
Council residents take the council's steps (agenda, decline, plan and notice, vote); moderation stays with admins
(policies.can_hide_comment).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.groups.council import is_council_member
from app.users.models import Role


async def is_council(db: AsyncSession, p: Principal, community_path: str, community_id: int) -> bool:
    """Whether this principal sits on the council of the community (at `community_path`)."""
    if p.in_scope(community_path):
        return True
    if p.role is Role.resident and p.community_id == community_id:
        return await is_council_member(db, p.user_id, community_id)
    return False

