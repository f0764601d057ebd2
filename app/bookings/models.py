"""Service booking (服务预约): services of a community, their slots, residents' bookings, their events, and the
per-(service, resident) row that serialises one resident's bookings of one service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.bookings.states import ACTIVE_SQL, STATUSES_SQL
from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow


class BookingService(IdMixin, Base):
    """服务项目: something residents of a community book, with its rules."""

    __tablename__ = "booking_services"
    __table_args__ = (
        CheckConstraint("kind IN ('appointment','venue','meal','class','errand')", name="kind"),
        CheckConstraint("provider_kind IN ('department','grid_workers','partner')", name="provider_kind"),
        CheckConstraint("status IN ('active','paused','retired')", name="status"),
        CheckConstraint("opens_days_ahead >= 0 AND closes_minutes_before >= 0 AND cancel_minutes_before >= 0 "
                        "AND max_active_per_resident >= 1 AND no_show_limit >= 0 AND no_show_block_days >= 0",
                        name="rules"),
        Index("ix_booking_services_community_id", "community_id", "id"),
        Index("ix_booking_services_provider_department_id", "provider_department_id"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    grid_path: Mapped[str] = mapped_column(String(255))  # the community's path '/street/community/' (admin scope)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str | None] = mapped_column(String(200))
    provider_kind: Mapped[str] = mapped_column(String(16))
    provider_department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("departments.id"))
    provider_name: Mapped[str | None] = mapped_column(String(100))
    opens_days_ahead: Mapped[int] = mapped_column(Integer)
    closes_minutes_before: Mapped[int] = mapped_column(Integer)
    cancel_minutes_before: Mapped[int] = mapped_column(Integer)
    max_active_per_resident: Mapped[int] = mapped_column(Integer)
    min_age: Mapped[int | None] = mapped_column(Integer)
    eligible_grid_ids: Mapped[list[int] | None] = mapped_column(JsonType, nullable=True)
    waitlist: Mapped[bool] = mapped_column(Boolean)
    no_show_limit: Mapped[int] = mapped_column(Integer)
    no_show_block_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingSlot(IdMixin, Base):
    """时段: a time window of a service with a capacity. `booked` counts the places taken, held below capacity by a
    conditional UPDATE (and a CHECK as the last line)."""

    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("service_id", "starts_at", name="uq_booking_slots_service_id_starts_at"),
        CheckConstraint("status IN ('open','cancelled')", name="status"),
        CheckConstraint("capacity >= 1 AND booked >= 0 AND booked <= capacity", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    service_id: Mapped[int] = mapped_column(IdType, ForeignKey("booking_services.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(IdMixin, Base):
    """预约: a resident's place in a slot (or in its waitlist), or an errand (代办, no slot)."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES_SQL}", name="status"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        # one place (or waitlist entry) per resident per slot, while it is active
        Index("uq_bookings_slot_resident_active", "slot_id", "resident_id", unique=True,
              postgresql_where=text(f"status IN {ACTIVE_SQL}"), sqlite_where=text(f"status IN {ACTIVE_SQL}")),
        Index("ix_bookings_resident_starts", "resident_id", "starts_at", "id"),
        Index("ix_bookings_service_resident", "service_id", "resident_id", "status"),
        Index("ix_bookings_slot_status", "slot_id", "status", "id"),
        Index("ix_bookings_grid_created", "grid_id", "created_at", "id"),
        Index("ix_bookings_service_starts", "service_id", "starts_at", "id"),
        # the reminder sweep: booked places not yet reminded, by start
        Index("ix_bookings_remind", "starts_at", postgresql_where=text("status = 'booked' AND reminded_at IS NULL"),
              sqlite_where=text("status = 'booked' AND reminded_at IS NULL")),
    )

    service_id: Mapped[int] = mapped_column(IdType, ForeignKey("booking_services.id"))
    slot_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("booking_slots.id"))
    resident_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))  # the resident's grid when booked
    # the slot's start (copied: my bookings' order, the reminder sweep); an errand's: when it was asked
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    for_family_member: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)  # errands: what is needed
    preferred_date: Mapped[date | None] = mapped_column(Date)  # errands: when it would suit
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingEvent(IdMixin, Base):
    """A step of a booking (booked, cancelled, promoted, attended, errand steps and notes). Append-only."""

    __tablename__ = "booking_events"
    __table_args__ = (Index("ix_booking_events_booking_id", "booking_id", "id"),)

    booking_id: Mapped[int] = mapped_column(IdType, ForeignKey("bookings.id"))
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingHold(Base):
    """One row per (service, resident): a booking locks it first (a conditional UPDATE), so one resident's
    bookings of one service are serialised and the per-resident limit is counted inside that lock."""

    __tablename__ = "booking_holds"

    service_id: Mapped[int] = mapped_column(IdType, ForeignKey("booking_services.id"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    bookings: Mapped[int] = mapped_column(Integer, default=0)  # bookings ever made (the lock's write)
