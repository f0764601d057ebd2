"""Membership: join an open group, apply to an approval group (a leader decides), accept an invitation, leave;
leaders invite and remove; admins appoint and dismiss leaders.

Every change of a membership row is an UPDATE conditional on the status it expects (or an insert that does
nothing on a conflict), and every new active member takes a seat by the conditional increment in seats.py, so
two requests racing on one membership or on the last seat have one winner; the loser's transaction rolls back.
Every path takes the group row (the seat) before the membership row, so none wait on each other in opposite
orders on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, NotPermitted
from app.db.helpers import insert_ignore, table_of
from app.groups import policies, queries, seats
from app.groups.enums import GroupStatus, JoinPolicy, MemberRole, MemberStatus
from app.groups.models import Group, Membership
from app.groups.service import group_link, residents_of
from app.notifications.service import notify

_m = table_of(Membership).c
# a resident may start again from these (a removed member comes back only by invitation)
_RESTARTABLE = (MemberStatus.declined.value, MemberStatus.left.value)


def _occupied(status: str) -> Conflict:
    """The error for a membership that is already under way."""
    if status == MemberStatus.active:
        return Conflict("already_member")
    if status == MemberStatus.applied:
        return Conflict("application_pending")
    if status == MemberStatus.invited:
        return Conflict("already_invited")
    return Conflict("conflict", {"reason": f"membership is {status}"})


async def _set(db: AsyncSession, group_id: int, user_id: int, values: dict[str, Any], from_statuses: tuple[str, ...],
               *, insert_as: dict[str, Any] | None = None) -> bool:
    """Move the membership to `values` if its status is one of `from_statuses`; with `insert_as`, create it when
    there is none. False when neither happened (someone got there first)."""
    now = datetime.now(UTC)
    if insert_as is not None and await insert_ignore(db, table_of(Membership), {
            "group_id": group_id, "user_id": user_id, "role": MemberRole.member.value, "reason": None,
            "decided_by_id": None, "created_at": now, "updated_at": now, **insert_as}, ["group_id", "user_id"]):
        return True
    done = await db.execute(update(table_of(Membership))
                            .where(_m.group_id == group_id, _m.user_id == user_id, _m.status.in_(from_statuses))
                            .values(**values, updated_at=now))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def _result(db: AsyncSession, group_id: int, user_id: int) -> dict[str, Any]:
    m = await queries.membership(db, group_id, user_id)
    g = (await queries.current_group(db, group_id))
    assert m is not None
    return {"group_id": group_id, "user_id": user_id, "role": m.role, "status": m.status, "reason": m.reason,
            "member_count": g.member_count}


async def join_group(db: AsyncSession, p: Principal, group_id: int) -> dict[str, Any]:
    """Open: a member at once. Approval: an application the leaders decide. Invite: only an invitation lets one
    in, and joining then accepts it."""
    g, m = await queries.visible_group(db, p, group_id)
    if not policies.is_resident_of(p, g.community_id):
        raise NotPermitted()
    if g.status != GroupStatus.active:
        raise Conflict("invalid_transition", {"state": g.status, "action": "join"})
    status = m.status if m is not None else None
    if status == MemberStatus.removed:
        raise NotPermitted("not_eligible", {"reason": "removed from the group: only an invitation lets you back"})
    if status in (MemberStatus.active, MemberStatus.applied):
        raise _occupied(status)
    if status == MemberStatus.invited or g.join_policy == JoinPolicy.open:
        await seats.take_group_seat(db, g.id, g.member_cap)
        froms = (MemberStatus.invited.value,) if status == MemberStatus.invited else _RESTARTABLE
        active = {"status": MemberStatus.active.value, "role": MemberRole.member.value, "reason": None}
        if not await _set(db, g.id, p.user_id, active, froms, insert_as=active if status is None else None):
            raise _occupied((await queries.membership(db, g.id, p.user_id)).status)  # type: ignore[union-attr]
        return await _result(db, g.id, p.user_id)
    if g.join_policy == JoinPolicy.invite:
        raise NotPermitted("invite_only")
    applied = {"status": MemberStatus.applied.value, "role": MemberRole.member.value, "reason": None}
    if not await _set(db, g.id, p.user_id, applied, _RESTARTABLE, insert_as=applied if status is None else None):
        raise _occupied((await queries.membership(db, g.id, p.user_id)).status)  # type: ignore[union-attr]
    await notify(db, await queries.leader_ids(db, g.id), "group.application", object_type="group", object_id=g.id,
                 link=group_link(g.id) + "/members?status=applied", params={"group": g.name})
    return await _result(db, g.id, p.user_id)


async def leave_group(db: AsyncSession, p: Principal, group_id: int) -> dict[str, Any]:
    """Leave (a member), or withdraw an application or turn down an invitation."""
    g, m = await queries.visible_group(db, p, group_id)
    if m is None:  # no relation to the group at all
        raise NotPermitted("not_a_member")
    if m.status not in (MemberStatus.active, MemberStatus.applied, MemberStatus.invited):
        raise Conflict("not_a_member")
    if m.status == MemberStatus.active:  # the group row first, then the membership: one lock order everywhere
        await seats.free_group_seat(db, g.id)
    left = {"status": MemberStatus.left.value, "role": MemberRole.member.value}
    if not await _set(db, g.id, p.user_id, left, (m.status,)):
        raise Conflict("not_a_member")
    return await _result(db, g.id, p.user_id)


async def _managed(db: AsyncSession, p: Principal, group_id: int) -> Group:
    g, m = await queries.visible_group(db, p, group_id)
    if not policies.can_manage_members(p, queries.group_facts(g), queries.member_facts(m)):
        raise NotPermitted()
    return g


async def decide_application(db: AsyncSession, p: Principal, group_id: int, user_id: int, *, approve: bool,
                             reason: str | None) -> dict[str, Any]:
    g = await _managed(db, p, group_id)
    target = await queries.membership(db, g.id, user_id)
    if target is None or target.status != MemberStatus.applied:
        raise Conflict("no_application")
    if approve:
        await seats.take_group_seat(db, g.id, g.member_cap)
    status = MemberStatus.active if approve else MemberStatus.declined
    if not await _set(db, g.id, user_id, {"status": status.value, "reason": reason, "decided_by_id": p.user_id},
                      (MemberStatus.applied.value,)):
        raise Conflict("no_application")
    await notify(db, [user_id], "group.application_approved" if approve else "group.application_declined",
                 object_type="group", object_id=g.id, link=group_link(g.id),
                 params={"group": g.name, "reason": reason or ""}, exclude=p.user_id)
    return await _result(db, g.id, user_id)


async def invite(db: AsyncSession, p: Principal, group_id: int, user_id: int) -> dict[str, Any]:
    g = await _managed(db, p, group_id)
    await residents_of(db, g.community_id, [user_id], "user_id")
    current = await queries.membership(db, g.id, user_id)
    if current is not None and current.status in (MemberStatus.active, MemberStatus.applied, MemberStatus.invited):
        raise _occupied(current.status)
    invited = {"status": MemberStatus.invited.value, "role": MemberRole.member.value, "reason": None,
               "decided_by_id": p.user_id}
    if not await _set(db, g.id, user_id, invited, (*_RESTARTABLE, MemberStatus.removed.value),
                      insert_as=invited if current is None else None):
        raise _occupied((await queries.membership(db, g.id, user_id)).status)  # type: ignore[union-attr]
    await notify(db, [user_id], "group.invited", object_type="group", object_id=g.id, link=group_link(g.id),
                 params={"group": g.name}, exclude=p.user_id)
    return await _result(db, g.id, user_id)


async def remove_member(db: AsyncSession, p: Principal, group_id: int, user_id: int, reason: str) -> dict[str, Any]:
    g = await _managed(db, p, group_id)
    removed = {"status": MemberStatus.removed.value, "role": MemberRole.member.value, "reason": reason,
               "decided_by_id": p.user_id}
    await seats.free_group_seat(db, g.id)  # rolled back with the rest if the member is not active
    if not await _set(db, g.id, user_id, removed, (MemberStatus.active.value,)):
        raise Conflict("not_a_member")
    await notify(db, [user_id], "group.member_removed", object_type="group", object_id=g.id, link=group_link(g.id),
                 params={"group": g.name, "reason": reason}, exclude=p.user_id)
    return await _result(db, g.id, user_id)


async def appoint_leader(db: AsyncSession, p: Principal, group_id: int, user_id: int) -> dict[str, Any]:
    """Admins make a resident of the community a leader; a non-member becomes an active member (taking a seat)."""
    g, _ = await queries.visible_group(db, p, group_id)
    if not policies.can_appoint_leaders(p, queries.group_facts(g)):
        raise NotPermitted()
    await residents_of(db, g.community_id, [user_id], "user_id")
    current = await queries.membership(db, g.id, user_id)
    leader = {"status": MemberStatus.active.value, "role": MemberRole.leader.value, "reason": None,
              "decided_by_id": p.user_id}
    if current is not None and current.status == MemberStatus.active:
        await _set(db, g.id, user_id, leader, (MemberStatus.active.value,))
    else:
        await seats.take_group_seat(db, g.id, g.member_cap)
        froms = tuple(s.value for s in MemberStatus if s is not MemberStatus.active)
        if not await _set(db, g.id, user_id, leader, froms, insert_as=leader if current is None else None):
            raise Conflict("conflict", {"reason": "the membership changed meanwhile; retry"})
    await notify(db, [user_id], "group.leader_added", object_type="group", object_id=g.id, link=group_link(g.id),
                 params={"group": g.name}, exclude=p.user_id)
    return await _result(db, g.id, user_id)


async def dismiss_leader(db: AsyncSession, p: Principal, group_id: int, user_id: int) -> dict[str, Any]:
    g, _ = await queries.visible_group(db, p, group_id)
    if not policies.can_appoint_leaders(p, queries.group_facts(g)):
        raise NotPermitted()
    done = await db.execute(update(table_of(Membership))
                            .where(_m.group_id == g.id, _m.user_id == user_id, _m.role == MemberRole.leader.value)
                            .values(role=MemberRole.member.value, updated_at=datetime.now(UTC)))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("not_a_leader")
    return await _result(db, g.id, user_id)
