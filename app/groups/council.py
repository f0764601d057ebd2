"""For other domains (deliberation): who sits on a community's residents' council (议事会), the active members of
its active groups of kind `council`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.groups.enums import GroupKind, GroupStatus, MemberStatus
from app.groups.models import Group, Membership

_COUNCIL_MEMBERS = (select(Membership.user_id).join(Group, Group.id == Membership.group_id)
                    .where(Group.kind == GroupKind.council.value, Group.status == GroupStatus.active.value,
                           Membership.status == MemberStatus.active.value))


async def council_member_ids(db: AsyncSession, community_id: int) -> list[int]:
    rows = await db.execute(_COUNCIL_MEMBERS.where(Group.community_id == community_id).distinct())
    return sorted(rows.scalars())


async def is_council_member(db: AsyncSession, user_id: int, community_id: int) -> bool:
    found = await db.execute(_COUNCIL_MEMBERS.where(Group.community_id == community_id,
                                                    Membership.user_id == user_id).limit(1))
    return found.first() is not None
