"""Groups: admins create them, residents propose them, admins approve, decline or archive; leaders and admins
edit them (version-conditional). Membership is in membership.py, activities in activities.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotPermitted
from app.db.helpers import table_of
from app.groups import policies, queries
from app.groups.enums import GROUP_STEPS, GroupAction, GroupStatus, MemberRole, MemberStatus
from app.groups.models import Group, Membership
from app.groups.schemas import GroupCreate, GroupStepIn, GroupUpdate
from app.notifications.service import notify
from app.org import service as org_service
from app.org.models import GridLevel
from app.users.models import Role, User

_g = table_of(Group).c


def group_link(group_id: int) -> str:
    return f"/groups/{group_id}"


async def residents_of(db: AsyncSession, community_id: int, user_ids: list[int], field: str) -> list[int]:
    """The ids, checked to be active residents of the community (422 invalid_reference otherwise)."""
    if not user_ids:
        return []
    found = set((await db.execute(select(User.id).where(
        User.id.in_(user_ids), User.role == Role.resident, User.community_id == community_id,
        User.is_active.is_(True)))).scalars())
    missing = sorted(set(user_ids) - found)
    if missing:
        raise InvalidInput("invalid_reference", {"field": field, "value": missing,
                                                 "reason": "not a resident of the community"})
    return sorted(found)


async def create_group(db: AsyncSession, p: Principal, data: GroupCreate) -> dict[str, Any]:
    """Admins create an active group; a resident proposes one in their own community."""
    now = datetime.now(UTC)
    if p.role is Role.resident:
        if data.community_id not in (None, p.community_id) or p.community_id is None:
            raise InvalidInput("invalid_reference", {"field": "community_id", "value": data.community_id,
                                                     "reason": "residents propose in their own community"})
        if data.leader_ids:
            raise InvalidInput("validation_error", {"leader_ids": "admins appoint leaders"})
        node = await org_service.active_node(db, p.community_id, GridLevel.community)
        if not policies.can_propose_group(p, node.id):
            raise NotPermitted()
        g = Group(community_id=node.id, community_path=node.path, kind=data.kind.value, name=data.name,
                  description=data.description, join_policy=data.join_policy.value, member_cap=data.member_cap,
                  member_count=0, status=GroupStatus.proposed.value, proposed_by_id=p.user_id, version=1,
                  created_at=now, updated_at=now)
        db.add(g)
        await db.flush()
        return queries.group_read(g, None)
    if not p.is_admin:
        raise NotPermitted()
    if data.community_id is None:
        raise InvalidInput("validation_error", {"community_id": "admins name the community"})
    node = await org_service.active_node(db, data.community_id, GridLevel.community)
    if not policies.can_create_group(p, node.path):
        raise InvalidInput("invalid_reference", {"field": "community_id", "value": data.community_id,
                                                 "reason": "not in your scope"})
    leaders = await residents_of(db, node.id, sorted(set(data.leader_ids)), "leader_ids")
    if data.member_cap is not None and len(leaders) > data.member_cap:
        raise InvalidInput("validation_error", {"leader_ids": "more leaders than the member cap"})
    g = Group(community_id=node.id, community_path=node.path, kind=data.kind.value, name=data.name,
              description=data.description, join_policy=data.join_policy.value, member_cap=data.member_cap,
              member_count=len(leaders), status=GroupStatus.active.value, version=1, created_at=now, updated_at=now)
    db.add(g)
    await db.flush()
    db.add_all([Membership(group_id=g.id, user_id=u, role=MemberRole.leader.value, status=MemberStatus.active.value,
                           decided_by_id=p.user_id, created_at=now, updated_at=now) for u in leaders])
    await db.flush()
    await notify(db, leaders, "group.leader_added", object_type="group", object_id=g.id, link=group_link(g.id),
                 params={"group": g.name}, exclude=p.user_id)
    return queries.group_read(g, None)


async def _bump(db: AsyncSession, g: Group, expected: int, values: dict[str, Any], *extra: Any) -> bool:
    done = await db.execute(update(table_of(Group))
                            .where(_g.id == g.id, _g.version == expected, *extra)
                            .values(**values, version=_g.version + 1, updated_at=datetime.now(UTC)))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _stale(g: Group) -> Conflict:
    return Conflict("stale_version", {"current_version": g.version, "state": g.status})


async def update_group(db: AsyncSession, p: Principal, group_id: int, data: GroupUpdate) -> dict[str, Any]:
    g, m = await queries.visible_group(db, p, group_id)
    if g.version != data.expected_version:
        raise _stale(g)
    if not policies.can_edit_group(p, queries.group_facts(g), queries.member_facts(m)):
        raise NotPermitted()
    if g.status in (GroupStatus.declined, GroupStatus.archived):
        raise Conflict("invalid_transition", {"state": g.status, "action": "update"})
    changes = data.model_dump(exclude_unset=True, exclude={"expected_version"})
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    extra = []
    if "member_cap" in values and values["member_cap"] is not None:
        extra.append(_g.member_count <= values["member_cap"])
    if not await _bump(db, g, data.expected_version, values, *extra):
        g, m = await queries.visible_group(db, p, group_id)
        if g.version != data.expected_version:
            raise _stale(g)
        raise Conflict("cap_below_members", {"member_count": g.member_count, "member_cap": values["member_cap"]})
    g, m = await queries.visible_group(db, p, group_id)
    return queries.group_read(g, m)


async def take_group_step(db: AsyncSession, p: Principal, group_id: int, data: GroupStepIn) -> dict[str, Any]:
    """approve / decline a proposal, archive an active group: admins over the community."""
    g, m = await queries.visible_group(db, p, group_id)
    if g.version != data.expected_version:
        raise _stale(g)
    if not policies.can_decide_group(p, queries.group_facts(g)):
        raise NotPermitted()
    sources, target = GROUP_STEPS[data.action]
    if GroupStatus(g.status) not in sources:
        raise Conflict("invalid_transition", {"state": g.status, "action": data.action})
    values: dict[str, Any] = {"status": target.value}
    if data.action is GroupAction.decline:
        values["decline_reason"] = data.reason
    if data.action is GroupAction.approve and g.proposed_by_id is not None:
        values["member_count"] = 1  # the proposer leads the new group
    if not await _bump(db, g, data.expected_version, values, _g.status == g.status):
        raise _stale((await queries.visible_group(db, p, group_id))[0])
    now = datetime.now(UTC)
    if data.action is GroupAction.approve and g.proposed_by_id is not None:
        db.add(Membership(group_id=g.id, user_id=g.proposed_by_id, role=MemberRole.leader.value,
                          status=MemberStatus.active.value, decided_by_id=p.user_id, created_at=now, updated_at=now))
        await db.flush()
    notice = {GroupAction.approve: "group.approved", GroupAction.decline: "group.declined"}.get(data.action)
    if notice is not None:
        await notify(db, [g.proposed_by_id], notice, object_type="group", object_id=g.id, link=group_link(g.id),
                     params={"group": g.name, "reason": data.reason or ""}, exclude=p.user_id)
    g, m = await queries.visible_group(db, p, group_id)
    return queries.group_read(g, m)


async def get_group(db: AsyncSession, p: Principal, group_id: int) -> dict[str, Any]:
    g, m = await queries.visible_group(db, p, group_id)
    return queries.group_read(g, m)
