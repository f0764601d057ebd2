"""Accounts: one table for every role, with the bindings each role needs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, TimestampMixin, UTCDateTime
from app.users.roles import STAFF_ROLES, Role  # noqa: F401 - re-exported: the ORM module's old home


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('resident','grid_worker','department','admin')", name="role"),
        CheckConstraint("role <> 'resident' OR (building_id IS NOT NULL AND community_id IS NOT NULL)",
                        name="resident_home"),
        CheckConstraint("role <> 'department' OR department_id IS NOT NULL", name="department_binding"),
        CheckConstraint("role <> 'admin' OR scope_grid_id IS NOT NULL", name="admin_scope"),
        Index("ix_users_community_id", "community_id"),
        Index("ix_users_department_id", "department_id"),
        Index("ix_users_scope_grid_id", "scope_grid_id"),
    )

    phone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    is_building_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # resident: the building they live in, and its community (denormalised: the unit of visibility)
    building_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    community_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    # department staff: their department; admin: the node of the grid tree they are scoped to
    department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("departments.id"))
    scope_grid_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the profile's birth date: service eligibility by minimum age (bookings); null when not given
    birth_date: Mapped[date | None] = mapped_column(Date)
    # the privacy notice version last accepted (issue 21; the history is in privacy_consents): read with the
    # principal on every request, so the consent check costs no statement of its own
    privacy_version: Mapped[str | None] = mapped_column(String(20))


class UserGrid(Base):
    """A grid worker's grids (one or more)."""

    __tablename__ = "user_grids"
    __table_args__ = (Index("ix_user_grids_grid_id", "grid_id"),)

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), primary_key=True)
