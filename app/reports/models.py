"""Reports (报事), their append-only timeline, photos, followers, and the per-day number counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow

STATES_SQL = "('submitted','accepted','rejected','withdrawn','dispatched','in_progress','resolved','closed','merged')"
DUE_AT_SQL = ("CASE WHEN state = 'submitted' THEN respond_by "
              "WHEN state IN ('accepted', 'dispatched', 'in_progress') THEN resolve_by END")
# open, and the current deadline not announced past by the worker (rollup_math: the announced ones are rolled up)
UNANNOUNCED_PG = text("due_at IS NOT NULL AND overdue_notified_for IS DISTINCT FROM due_at")
UNANNOUNCED_SQLITE = text("due_at IS NOT NULL AND overdue_notified_for IS NOT due_at")
UNANNOUNCED_INCLUDE = ["created_at", "state", "responded_at", "respond_by"]
SOURCES = ("app", "mini_program", "patrol", "hotline")


class Report(IdMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(f"state IN {STATES_SQL}", name="state"),
        CheckConstraint("source IN ('app','mini_program','patrol','hotline')", name="source"),
        CheckConstraint("version >= 1", name="version"),
        UniqueConstraint("street_id", "number", name="uq_reports_street_id_number"),
        # queues: every list is keyset-paginated on (created_at, id) within one of these
        Index("ix_reports_reporter_created", "reporter_id", "created_at", "id"),
        # covering on PostgreSQL: a community's statistics are index-only scans (SQLite ignores INCLUDE)
        Index("ix_reports_community_created", "community_id", "created_at", "id",
              postgresql_include=["state", "accepted_at", "responded_at", "respond_by", "resolved_at", "resolve_by",
                                  "rating", "reopen_count", "auto_closed"]),
        # a grid's queue by state (and category): filtered queues and the per-state counts
        Index("ix_reports_grid_state_category", "grid_id", "state", "category_id", "created_at", "id"),
        Index("ix_reports_grid_created", "grid_id", "created_at", "id"),
        # a grid's open reports in queue order, due_at read from the index: the overdue queue without a sort
        Index("ix_reports_grid_open", "grid_id", "created_at", "id", "due_at",
              postgresql_where=text("due_at IS NOT NULL"), sqlite_where=text("due_at IS NOT NULL")),
        Index("ix_reports_department_created", "handler_department_id", "created_at", "id"),
        # the worker's overdue sweep: open reports by deadline
        Index("ix_reports_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL"),
              sqlite_where=text("due_at IS NOT NULL")),
        Index("ix_reports_street_created", "street_id", "created_at", "id"),
        Index("ix_reports_category_id", "category_id"),
        Index("ix_reports_state_resolved_at", "state", "resolved_at"),  # the auto-close sweep
        # foreign keys that are checked when a report is deleted or merged into
        Index("ix_reports_merged_into_id", "merged_into_id"),
        Index("ix_reports_handler_user_id", "handler_user_id"),
        # a community's / a street's open reports past a deadline the worker has not announced yet, by deadline: the
        # live part of the rolled-up figures (overdue now, still waiting past respond_by), issue 20. Announced
        # reports leave the index (their overdue is rolled up), so it holds the few reports whose deadline passed
        # since the worker's last run, and the reports not yet due (a range on due_at < now skips those)
        Index("ix_reports_community_unannounced", "community_id", "due_at",
              postgresql_include=UNANNOUNCED_INCLUDE, postgresql_where=UNANNOUNCED_PG,
              sqlite_where=UNANNOUNCED_SQLITE),
        Index("ix_reports_street_unannounced", "street_id", "due_at",
              postgresql_include=UNANNOUNCED_INCLUDE, postgresql_where=UNANNOUNCED_PG,
              sqlite_where=UNANNOUNCED_SQLITE),
    )

    number: Mapped[str] = mapped_column(String(24))
    street_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    building_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    grid_path: Mapped[str] = mapped_column(String(255))
    category_id: Mapped[int] = mapped_column(IdType, ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    is_public: Mapped[bool] = mapped_column(Boolean)
    hide_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    reporter_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    filed_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))

    state: Mapped[str] = mapped_column(String(16), default="submitted")
    version: Mapped[int] = mapped_column(Integer, default=1)
    handler_department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("departments.id"))
    handler_user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    escalated_to_grid_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    merged_into_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("reports.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    rating: Mapped[int | None] = mapped_column(Integer)  # the latest rating's stars (1-5), for figures
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted or rejected
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline the report waits on now, kept by the database itself (no writer can forget it): respond_by
    # while submitted, resolve_by while accepted, dispatched or in progress, null otherwise. Overdue = due_at < now.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, Computed(DUE_AT_SQL, persisted=True))
    # the deadline whose passing the handler and the community were told of (the worker's overdue sweep)
    overdue_notified_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReportEvent(IdMixin, Base):
    """One step on the timeline. Append-only: there is no update or delete path."""

    __tablename__ = "report_events"
    __table_args__ = (Index("ix_report_events_report_id", "report_id", "id"),)

    report_id: Mapped[int] = mapped_column(IdType, ForeignKey("reports.id"))
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))  # null: the system (worker)
    actor_role: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean)
    note_public: Mapped[bool] = mapped_column(Boolean)
    photo_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportPhoto(Base):
    """A photo of a report: from the submission (event_id null) or from a step (proof of resolution)."""

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_report_id", "report_id"),)

    upload_id: Mapped[int] = mapped_column(IdType, ForeignKey("uploads.id"), primary_key=True)
    report_id: Mapped[int] = mapped_column(IdType, ForeignKey("reports.id"))
    event_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("report_events.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))


class ReportFollower(Base):
    """关注 / "me too": one row per resident per report."""

    __tablename__ = "report_followers"
    __table_args__ = (Index("ix_report_followers_user_id", "user_id"),)

    report_id: Mapped[int] = mapped_column(IdType, ForeignKey("reports.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportCounter(Base):
    """Last number given per street per day (China time), for BS20261122-0001."""

    __tablename__ = "report_counters"

    street_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class ReportRating(IdMixin, Base):
    """评价: one per resolution cycle (a reopened report can be rated again after it is resolved again)."""

    __tablename__ = "report_ratings"
    __table_args__ = (
        UniqueConstraint("report_id", "cycle", name="uq_report_ratings_report_id_cycle"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    report_id: Mapped[int] = mapped_column(IdType, ForeignKey("reports.id"))
    rater_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    cycle: Mapped[int] = mapped_column(Integer)  # the report's reopen_count when rated
    stars: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
