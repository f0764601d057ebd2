"""Request and response bodies of groups, memberships, notices and activities."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field, model_validator

from app.core.i18n import PersonName
from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import ObjectId
from app.groups.enums import (
    ActivityStatus,
    GroupAction,
    GroupKind,
    GroupStatus,
    JoinPolicy,
    MemberRole,
    MemberStatus,
    SignupStatus,
    Visibility,
)

Reason = Field(default=None, min_length=1, max_length=500)
Version = Field(ge=1, le=2**31, description="The `version` you saw; 409 `stale_version` if it changed.")


class GroupCreate(InputModel):
    community_id: ObjectId | None = Field(default=None, description="Admins: the community. Residents propose in "
                                                                    "their own (default).")
    kind: GroupKind
    name: str = Field(min_length=2, max_length=60)
    description: str = Field(default="", max_length=2000)
    join_policy: JoinPolicy = JoinPolicy.approval
    member_cap: int | None = Field(default=None, ge=1, le=100_000)
    leader_ids: list[ObjectId] = Field(default_factory=list, max_length=10,
                                       description="Admins: residents of the community made leaders at once.")


class GroupUpdate(InputModel):
    expected_version: int = Version
    name: str = if_sent(min_length=2, max_length=60)
    description: str = if_sent(max_length=2000)
    join_policy: JoinPolicy = if_sent()
    member_cap: int | None = Field(default=None, ge=1, le=100_000, description="null: no cap.")


class GroupStepIn(InputModel):
    """approve or decline a proposal (decline needs a reason), archive an active group."""

    action: GroupAction
    expected_version: int = Version
    reason: str | None = Reason

    @model_validator(mode="after")
    def _reason(self) -> GroupStepIn:
        if self.action is GroupAction.decline and not self.reason:
            raise ValueError("a decline needs a reason")
        return self


class MyMembership(OutputModel):
    role: MemberRole
    status: MemberStatus


class GroupRead(OutputModel):
    id: int
    community_id: int
    kind: GroupKind
    name: str
    description: str
    join_policy: JoinPolicy
    member_cap: int | None
    member_count: int
    status: GroupStatus
    decline_reason: str | None
    version: int
    created_at: datetime
    my_membership: MyMembership | None = None


class MemberRead(OutputModel):
    """A member as others see them: display name only, never a phone number."""

    user_id: int
    display_name: PersonName
    role: MemberRole
    status: MemberStatus
    reason: str | None = None
    updated_at: datetime


class MembershipRead(OutputModel):
    group_id: int
    user_id: int
    role: MemberRole
    status: MemberStatus
    reason: str | None = None
    member_count: int


class ApplicationDecision(InputModel):
    approve: bool
    reason: str | None = Reason


class RemoveIn(InputModel):
    reason: str = Field(min_length=1, max_length=500)


class InviteIn(InputModel):
    user_id: ObjectId


class NoticeCreate(InputModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=5000)


class NoticeRead(OutputModel):
    id: int
    group_id: int
    author_name: PersonName
    title: str
    body: str
    created_at: datetime


class ActivityCreate(InputModel):
    community_id: ObjectId | None = Field(default=None, description="A community activity (admins). Leave out "
                                                                    "with group_id.")
    group_id: ObjectId | None = Field(default=None, description="A group's activity (its leaders or admins).")
    title: str = Field(min_length=2, max_length=100)
    description: str = Field(default="", max_length=2000)
    place: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    signup_deadline: AwareDatetime | None = Field(default=None, description="Default: the start.")
    capacity: int = Field(ge=1, le=100_000)
    visibility: Visibility = Visibility.public
    is_volunteer_service: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ActivityCreate:
        if (self.community_id is None) == (self.group_id is None):
            raise ValueError("give exactly one of community_id and group_id")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.signup_deadline is not None and self.signup_deadline > self.starts_at:
            raise ValueError("signup_deadline must not be after starts_at")
        if self.group_id is None and self.visibility is Visibility.members_only:
            raise ValueError("members_only needs a group")
        return self


class ActivityCancel(InputModel):
    expected_version: int = Version
    reason: str = Field(min_length=1, max_length=500)


class ActivityRead(OutputModel):
    id: int
    community_id: int
    group_id: int | None
    organiser_id: int
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    signed_up: int
    visibility: Visibility
    is_volunteer_service: bool
    status: ActivityStatus
    cancel_reason: str | None
    version: int
    created_at: datetime
    my_signup: SignupStatus | None = None


class SignupRead(OutputModel):
    activity_id: int
    user_id: int
    display_name: PersonName
    status: SignupStatus
    checked_in_at: datetime | None
    volunteer_hours: float | None
    hours_confirmed_at: datetime | None


class HoursIn(InputModel):
    hours: float = Field(gt=0, le=24, multiple_of=0.25, description="Volunteer hours, in quarters of an hour.")


class HoursConfirmed(SignupRead):
    points_credited: int = Field(description="Points this confirmation credited; 0 when it was confirmed before.")
