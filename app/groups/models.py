"""Groups (社群), their memberships and notices; activities (活动) and their signups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime, utcnow


class Group(IdMixin, Base):
    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("kind IN ('interest','volunteer_team','mutual_aid','council')", name="kind"),
        CheckConstraint("join_policy IN ('open','approval','invite')", name="join_policy"),
        CheckConstraint("status IN ('proposed','active','declined','archived')", name="status"),
        CheckConstraint("member_cap IS NULL OR member_cap >= 1", name="member_cap"),
        # the cap is held by the conditional increment; this makes a writer that forgets it fail, not overfill
        CheckConstraint("member_count >= 0 AND (member_cap IS NULL OR member_count <= member_cap)",
                        name="member_count"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_groups_community_created", "community_id", "created_at", "id"),
        Index("ix_groups_community_path", "community_path"),
        Index("ix_groups_proposed_by_id", "proposed_by_id"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_path: Mapped[str] = mapped_column(String(255))  # the community's materialised path, for admin scope
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    join_policy: Mapped[str] = mapped_column(String(16))
    member_cap: Mapped[int | None] = mapped_column(Integer)
    member_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    proposed_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Membership(IdMixin, Base):
    """One row per (group, resident), reused across apply → decline → apply again; member_count counts the
    active ones."""

    __tablename__ = "group_memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id", name="uq_group_memberships_group_id_user_id"),
        CheckConstraint("role IN ('member','leader')", name="role"),
        CheckConstraint("status IN ('applied','invited','active','declined','left','removed')", name="status"),
        Index("ix_group_memberships_user_id", "user_id"),
        Index("ix_group_memberships_group_status", "group_id", "status", "id"),
    )

    group_id: Mapped[int] = mapped_column(IdType, ForeignKey("groups.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GroupNotice(IdMixin, Base):
    """A leader's notice to the group's members. Append-only."""

    __tablename__ = "group_notices"
    __table_args__ = (Index("ix_group_notices_group_created", "group_id", "created_at", "id"),)

    group_id: Mapped[int] = mapped_column(IdType, ForeignKey("groups.id"))
    author_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Activity(IdMixin, Base):
    """An activity of a group (group_id) or of the community (group_id null)."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("visibility IN ('public','members_only')", name="visibility"),
        CheckConstraint("status IN ('open','cancelled')", name="status"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("signed_up >= 0 AND signed_up <= capacity", name="signed_up"),
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_activities_community_starts", "community_id", "starts_at", "id"),
        Index("ix_activities_group_starts", "group_id", "starts_at", "id"),
        Index("ix_activities_community_path", "community_path"),
        Index("ix_activities_organiser_id", "organiser_id"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_path: Mapped[str] = mapped_column(String(255))
    group_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("groups.id"))
    organiser_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    signed_up: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    visibility: Mapped[str] = mapped_column(String(16))
    is_volunteer_service: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ActivitySignup(IdMixin, Base):
    """One row per (activity, resident), reused when a resident signs up again after cancelling. Volunteer hours
    are confirmed once: the confirming UPDATE is conditional on `hours_confirmed_at IS NULL`."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id", name="uq_activity_signups_activity_id_user_id"),
        CheckConstraint("status IN ('signed_up','cancelled')", name="status"),
        CheckConstraint("volunteer_minutes IS NULL OR volunteer_minutes > 0", name="volunteer_minutes"),
        Index("ix_activity_signups_user_id", "user_id"),
        Index("ix_activity_signups_activity_status", "activity_id", "status", "id"),
    )

    activity_id: Mapped[int] = mapped_column(IdType, ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    volunteer_minutes: Mapped[int | None] = mapped_column(Integer)
    hours_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
