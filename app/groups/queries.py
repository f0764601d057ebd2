"""Read side of groups and activities: visibility-checked loads (404 when not visible), lists, member lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.errors import NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.db.helpers import table_of
from app.groups import policies
from app.groups.enums import GroupKind, GroupStatus, JoinPolicy, MemberRole, MemberStatus, SignupStatus, Visibility
from app.groups.models import Activity, ActivitySignup, Group, GroupNotice, Membership
from app.groups.policies import ActivityFacts, GroupFacts, MemberFacts
from app.users.models import Role, User

_G, _N, _A = table_of(Group).c, table_of(GroupNotice).c, table_of(Activity).c


def group_facts(g: Group) -> GroupFacts:
    return GroupFacts(community_id=g.community_id, community_path=g.community_path, status=GroupStatus(g.status),
                      join_policy=JoinPolicy(g.join_policy), proposed_by_id=g.proposed_by_id)


def member_facts(m: Membership | None) -> MemberFacts | None:
    return None if m is None else MemberFacts(role=MemberRole(m.role), status=MemberStatus(m.status))


async def membership(db: AsyncSession, group_id: int, user_id: int) -> Membership | None:
    return (await db.execute(select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
                             .execution_options(populate_existing=True))).scalar_one_or_none()


async def visible_group(db: AsyncSession, p: Principal, group_id: int) -> tuple[Group, Membership | None]:
    """The group and the caller's membership row; 404 when missing or not visible to the caller."""
    g = (await db.execute(select(Group).where(Group.id == group_id)
                          .execution_options(populate_existing=True))).scalar_one_or_none()
    if g is None or not policies.can_see_group(p, group_facts(g)):
        raise NotFound()
    return g, await membership(db, group_id, p.user_id)


def group_read(g: Group, m: Membership | None) -> dict[str, Any]:
    out = {c: getattr(g, c) for c in ("id", "community_id", "kind", "name", "description", "join_policy", "member_cap",
                                      "member_count", "status", "decline_reason", "version", "created_at")}
    out["my_membership"] = None if m is None else {"role": m.role, "status": m.status}
    return out


def visible_groups_sql(p: Principal) -> ColumnElement[bool]:
    """The SQL twin of policies.can_see_group."""
    if p.is_admin and p.scope_path:
        return Group.community_path.startswith(p.scope_path, autoescape=True)
    if p.role is Role.resident and p.community_id is not None:
        return and_(Group.community_id == p.community_id,
                    or_(Group.status.in_([s.value for s in policies.SHOWN_TO_RESIDENTS]),
                        Group.proposed_by_id == p.user_id))
    return false()


async def list_groups(db: AsyncSession, p: Principal, *, community_id: int | None, kind: GroupKind | None,
                      status: GroupStatus | None, q: str | None, mine: bool, limit: int,
                      cursor: str | None) -> dict[str, Any]:
    stmt = select(Group, Membership).outerjoin(Membership, and_(Membership.group_id == Group.id,
                                                                Membership.user_id == p.user_id))
    stmt = stmt.where(visible_groups_sql(p))
    if community_id is not None:
        stmt = stmt.where(Group.community_id == community_id)
    if kind is not None:
        stmt = stmt.where(Group.kind == kind.value)
    if status is not None:
        stmt = stmt.where(Group.status == status.value)
    if q:
        stmt = stmt.where(Group.name.contains(q, autoescape=True))
    if mine:
        stmt = stmt.where(Membership.status == MemberStatus.active.value)
    rows = (await db.execute(keyset(stmt, [_G.created_at, _G.id], [datetime, int], cursor, limit,
                                    descending=True))).all()
    items, nxt = page_of(rows, limit, lambda r: (r[0].created_at, r[0].id))
    return {"items": [group_read(g, m) for g, m in items], "next_cursor": nxt}


async def list_members(db: AsyncSession, p: Principal, group_id: int, *, status: MemberStatus, limit: int,
                       cursor: str | None) -> dict[str, Any]:
    g, m = await visible_group(db, p, group_id)
    facts, mine = group_facts(g), member_facts(m)
    if not policies.can_read_members(p, facts, mine):
        raise NotPermitted()
    if status is not MemberStatus.active and not policies.can_manage_members(p, facts, mine) \
            and not policies.is_staff_of(p, g.community_path):
        raise NotPermitted()
    stmt = (select(Membership.id, Membership.user_id, User.display_name, Membership.role, Membership.status,
                   Membership.reason, Membership.updated_at)
            .join(User, User.id == Membership.user_id)
            .where(Membership.group_id == group_id, Membership.status == status.value))
    rows = (await db.execute(keyset(stmt, [table_of(Membership).c.id], [int], cursor, limit))).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: (r["id"],))
    return {"items": [dict(r) for r in items], "next_cursor": nxt}


async def list_notices(db: AsyncSession, p: Principal, group_id: int, *, limit: int,
                       cursor: str | None) -> dict[str, Any]:
    g, m = await visible_group(db, p, group_id)
    if not policies.can_read_notices(p, group_facts(g), member_facts(m)):
        raise NotPermitted()
    stmt = (select(GroupNotice.id, GroupNotice.group_id, User.display_name.label("author_name"), GroupNotice.title,
                   GroupNotice.body, GroupNotice.created_at)
            .join(User, User.id == GroupNotice.author_id).where(GroupNotice.group_id == group_id))
    rows = (await db.execute(keyset(stmt, [_N.created_at, _N.id], [datetime, int], cursor, limit,
                                    descending=True))).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: (r["created_at"], r["id"]))
    return {"items": [dict(r) for r in items], "next_cursor": nxt}


# ---- activities ------------------------------------------------------------------------------------------


async def activity_facts(db: AsyncSession, a: Activity) -> tuple[ActivityFacts, Group | None]:
    group = await db.get(Group, a.group_id) if a.group_id is not None else None
    return ActivityFacts(community_id=a.community_id, community_path=a.community_path, organiser_id=a.organiser_id,
                         visibility=Visibility(a.visibility),
                         group=group_facts(group) if group is not None else None), group


async def visible_activity(db: AsyncSession, p: Principal, activity_id: int
                           ) -> tuple[Activity, ActivityFacts, Membership | None]:
    """The activity, its facts and the caller's membership of its group; 404 when missing or not visible."""
    a = (await db.execute(select(Activity).where(Activity.id == activity_id)
                          .execution_options(populate_existing=True))).scalar_one_or_none()
    if a is None:
        raise NotFound()
    facts, _ = await activity_facts(db, a)
    if not policies.can_see_activity(p, facts):
        raise NotFound()
    m = await membership(db, a.group_id, p.user_id) if a.group_id is not None else None
    return a, facts, m


async def my_signup(db: AsyncSession, activity_id: int, user_id: int) -> ActivitySignup | None:
    return (await db.execute(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id,
                                                          ActivitySignup.user_id == user_id)
                             .execution_options(populate_existing=True))).scalar_one_or_none()


_ACTIVITY_FIELDS = ("id", "community_id", "group_id", "organiser_id", "title", "description", "place", "starts_at",
                    "ends_at", "signup_deadline", "capacity", "signed_up", "visibility", "is_volunteer_service",
                    "status", "cancel_reason", "version", "created_at")


def activity_read(a: Activity, signup_status: str | None) -> dict[str, Any]:
    return {**{c: getattr(a, c) for c in _ACTIVITY_FIELDS}, "my_signup": signup_status}


def visible_activities_sql(p: Principal) -> ColumnElement[bool]:
    """The SQL twin of policies.can_see_activity (activities of groups a resident may not see are left out)."""
    if p.is_admin and p.scope_path:
        return Activity.community_path.startswith(p.scope_path, autoescape=True)
    if p.role is Role.resident and p.community_id is not None:
        shown = select(Group.id).where(Group.id == Activity.group_id, visible_groups_sql(p)).exists()
        return and_(Activity.community_id == p.community_id, or_(Activity.group_id.is_(None), shown))
    return false()


async def list_activities(db: AsyncSession, p: Principal, *, group_id: int | None, upcoming: bool, limit: int,
                          cursor: str | None) -> dict[str, Any]:
    stmt = (select(Activity, ActivitySignup.status)
            .outerjoin(ActivitySignup, and_(ActivitySignup.activity_id == Activity.id,
                                            ActivitySignup.user_id == p.user_id))
            .where(visible_activities_sql(p)))
    if group_id is not None:
        stmt = stmt.where(Activity.group_id == group_id)
    if upcoming:
        stmt = stmt.where(Activity.ends_at >= datetime.now(UTC))
    rows = (await db.execute(keyset(stmt, [_A.starts_at, _A.id], [datetime, int], cursor, limit))).all()
    items, nxt = page_of(rows, limit, lambda r: (r[0].starts_at, r[0].id))
    return {"items": [activity_read(a, s) for a, s in items], "next_cursor": nxt}


def signup_read(row: Any) -> dict[str, Any]:
    minutes = row["volunteer_minutes"]
    return {"activity_id": row["activity_id"], "user_id": row["user_id"], "display_name": row["display_name"],
            "status": row["status"], "checked_in_at": row["checked_in_at"],
            "volunteer_hours": None if minutes is None else minutes / 60,
            "hours_confirmed_at": row["hours_confirmed_at"]}


_SIGNUP_COLUMNS = (ActivitySignup.id, ActivitySignup.activity_id, ActivitySignup.user_id, User.display_name,
                   ActivitySignup.status, ActivitySignup.checked_in_at, ActivitySignup.volunteer_minutes,
                   ActivitySignup.hours_confirmed_at)


async def signup_row(db: AsyncSession, activity_id: int, user_id: int) -> Any:
    return (await db.execute(select(*_SIGNUP_COLUMNS).join(User, User.id == ActivitySignup.user_id).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id))).mappings().first()


async def list_signups(db: AsyncSession, p: Principal, activity_id: int, *, status: SignupStatus | None, limit: int,
                       cursor: str | None) -> dict[str, Any]:
    _, facts, m = await visible_activity(db, p, activity_id)
    if not policies.can_organise(p, facts, member_facts(m)):
        raise NotPermitted()
    stmt = select(*_SIGNUP_COLUMNS).join(User, User.id == ActivitySignup.user_id).where(
        ActivitySignup.activity_id == activity_id)
    if status is not None:
        stmt = stmt.where(ActivitySignup.status == status.value)
    rows = (await db.execute(keyset(stmt, [table_of(ActivitySignup).c.id], [int], cursor, limit))).mappings().all()
    items, nxt = page_of(rows, limit, lambda r: (r["id"],))
    return {"items": [signup_read(r) for r in items], "next_cursor": nxt}


async def current_group(db: AsyncSession, group_id: int) -> Group:
    """The group as it is now (after a write in this transaction); callers have checked visibility."""
    return (await db.execute(select(Group).where(Group.id == group_id)
                             .execution_options(populate_existing=True))).scalar_one()


async def leader_ids(db: AsyncSession, group_id: int) -> list[int]:
    return list((await db.execute(select(Membership.user_id).where(
        Membership.group_id == group_id, Membership.role == MemberRole.leader.value,
        Membership.status == MemberStatus.active.value))).scalars())


async def member_ids(db: AsyncSession, group_id: int) -> list[int]:
    return list((await db.execute(select(Membership.user_id).where(
        Membership.group_id == group_id, Membership.status == MemberStatus.active.value))).scalars())
