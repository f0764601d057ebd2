"""The council (议事会): who may steer a community's proposals. THE one seam for it.

Groups of kind `council` do not exist yet (the groups domain is being built). Until they do, the council of a
community is its admins: those whose scope covers the community (the community's own admins and the street's).
When council groups land, `is_council` adds "an active member of the community's council group" and
`council_user_ids` adds those members; nothing else in the domain changes.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.org.models import Grid
from app.users.models import Role, User


def is_council(p: Principal, community_path: str) -> bool:
    """Whether this principal sits on the council of the community at `community_path`."""
    return p.in_scope(community_path)


async def council_user_ids(db: AsyncSession, community_path: str) -> list[int]:
    """Every active council member of the community (for notices)."""
    stmt = (select(User.id).join(Grid, Grid.id == User.scope_grid_id)
            .where(User.role == Role.admin, User.is_active.is_(True),
                   literal(community_path).startswith(Grid.path)))
    return list((await db.execute(stmt)).scalars())
