"""Who may see and do what with groups and activities. Pure functions over facts (no database, no models);
queries.py turns the visibility rule into SQL and the tests hold the two to the same answer.

Staff of a group are the admins whose scope covers its community; other staff roles have no relation to groups
(a grid worker or a department sees them as a stranger does: 404)."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.principal import Principal
from app.groups.enums import GroupStatus, JoinPolicy, MemberRole, MemberStatus, Visibility
from app.users.roles import Role


@dataclass(frozen=True, slots=True)
class GroupFacts:
    community_id: int
    community_path: str
    status: GroupStatus
    join_policy: JoinPolicy
    proposed_by_id: int | None = None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """The viewer's own membership row of the group, if any."""

    role: MemberRole
    status: MemberStatus

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.active

    @property
    def leader(self) -> bool:
        return self.active and self.role is MemberRole.leader


SHOWN_TO_RESIDENTS = frozenset({GroupStatus.active, GroupStatus.archived})


def is_staff_of(p: Principal, community_path: str) -> bool:
    """An admin whose scope covers the community (the community's own admin included)."""
    return p.in_scope(community_path)


def is_resident_of(p: Principal, community_id: int) -> bool:
    return p.role is Role.resident and p.community_id == community_id


def can_see_group(p: Principal, g: GroupFacts) -> bool:
    if is_staff_of(p, g.community_path):
        return True
    return is_resident_of(p, g.community_id) and (g.status in SHOWN_TO_RESIDENTS or g.proposed_by_id == p.user_id)


def can_create_group(p: Principal, community_path: str) -> bool:
    return is_staff_of(p, community_path)


def can_propose_group(p: Principal, community_id: int) -> bool:
    return is_resident_of(p, community_id)


def can_decide_group(p: Principal, g: GroupFacts) -> bool:
    return is_staff_of(p, g.community_path)


def can_edit_group(p: Principal, g: GroupFacts, m: MemberFacts | None) -> bool:
    return is_staff_of(p, g.community_path) or (m is not None and m.leader and g.status is GroupStatus.active)


def can_join(p: Principal, g: GroupFacts) -> bool:
    return is_resident_of(p, g.community_id) and g.status is GroupStatus.active


def can_read_members(p: Principal, g: GroupFacts, m: MemberFacts | None) -> bool:
    """Members and staff only; what they see are display names."""
    return is_staff_of(p, g.community_path) or (m is not None and m.active)


def can_manage_members(p: Principal, g: GroupFacts, m: MemberFacts | None) -> bool:
    """Decide applications, invite, remove: the group's leaders and its staff, while the group is active."""
    return g.status is GroupStatus.active and (is_staff_of(p, g.community_path) or (m is not None and m.leader))


def can_appoint_leaders(p: Principal, g: GroupFacts) -> bool:
    return is_staff_of(p, g.community_path) and g.status is GroupStatus.active


def can_post_notice(p: Principal, g: GroupFacts, m: MemberFacts | None) -> bool:
    return can_manage_members(p, g, m)


def can_read_notices(p: Principal, g: GroupFacts, m: MemberFacts | None) -> bool:
    return can_read_members(p, g, m)


# ---- activities ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    community_id: int
    community_path: str
    organiser_id: int
    visibility: Visibility
    group: GroupFacts | None = None  # the group's facts for a group's activity


def can_see_activity(p: Principal, a: ActivityFacts) -> bool:
    """Residents of the community see its activities (members-only ones too: they learn they are not eligible),
    except those of groups they may not see."""
    if is_staff_of(p, a.community_path):
        return True
    if a.group is not None:
        return can_see_group(p, a.group)
    return is_resident_of(p, a.community_id)


def can_create_activity(p: Principal, community_path: str, group: GroupFacts | None, m: MemberFacts | None) -> bool:
    """Community activities: its staff. A group's: its staff and leaders, while the group is active."""
    if group is None:
        return is_staff_of(p, community_path)
    return group.status is GroupStatus.active and (is_staff_of(p, community_path) or (m is not None and m.leader))


def can_organise(p: Principal, a: ActivityFacts, m: MemberFacts | None) -> bool:
    """Check in, confirm hours, list signups, cancel: the organiser, the group's leaders, the community's staff."""
    return is_staff_of(p, a.community_path) or p.user_id == a.organiser_id or (m is not None and m.leader)


def can_sign_up(p: Principal, a: ActivityFacts) -> bool:
    return is_resident_of(p, a.community_id) and can_see_activity(p, a)


def is_eligible(a: ActivityFacts, m: MemberFacts | None) -> bool:
    """Members-only activities are for the group's active members."""
    return a.visibility is Visibility.public or (m is not None and m.active)
