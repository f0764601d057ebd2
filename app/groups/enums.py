"""The closed vocabularies of groups and activities (pure: no models)."""

from __future__ import annotations

from enum import StrEnum


class GroupKind(StrEnum):
    interest = "interest"
    volunteer_team = "volunteer_team"
    mutual_aid = "mutual_aid"
    council = "council"


class JoinPolicy(StrEnum):
    open = "open"
    approval = "approval"
    invite = "invite"


class GroupStatus(StrEnum):
    proposed = "proposed"
    active = "active"
    declined = "declined"
    archived = "archived"


class GroupAction(StrEnum):
    approve = "approve"
    decline = "decline"
    archive = "archive"


class MemberRole(StrEnum):
    member = "member"
    leader = "leader"


class MemberStatus(StrEnum):
    applied = "applied"
    invited = "invited"
    active = "active"
    declined = "declined"
    left = "left"
    removed = "removed"


class Visibility(StrEnum):
    public = "public"
    members_only = "members_only"


class ActivityStatus(StrEnum):
    open = "open"
    cancelled = "cancelled"


class SignupStatus(StrEnum):
    signed_up = "signed_up"
    cancelled = "cancelled"


# a group's steps: action -> (states it may be taken from, state it leads to)
GROUP_STEPS: dict[GroupAction, tuple[frozenset[GroupStatus], GroupStatus]] = {
    GroupAction.approve: (frozenset({GroupStatus.proposed}), GroupStatus.active),
    GroupAction.decline: (frozenset({GroupStatus.proposed}), GroupStatus.declined),
    GroupAction.archive: (frozenset({GroupStatus.active}), GroupStatus.archived),
}
