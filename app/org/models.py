"""Places and organisations: the grid tree, departments, report categories."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, TimestampMixin, UTCDateTime


class GridLevel(StrEnum):
    street = "street"
    community = "community"
    grid = "grid"
    building = "building"


LEVEL_ORDER = (GridLevel.street, GridLevel.community, GridLevel.grid, GridLevel.building)
PARENT_LEVEL = {GridLevel.community: GridLevel.street, GridLevel.grid: GridLevel.community,
                GridLevel.building: GridLevel.grid}


class Grid(IdMixin, TimestampMixin, Base):
    """A node of the grid tree. `path` is the materialised path '/1/4/9/' used for subtree scoping."""

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level IN ('street','community','grid','building')", name="level"),
        Index("ix_grids_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
        Index("ix_grids_parent_id", "parent_id"),
    )

    parent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Department(IdMixin, TimestampMixin, Base):
    """A functional department (城管, 物业, 市政, 司法所 ...), owned by a node of the tree (usually a street)."""

    __tablename__ = "departments"
    __table_args__ = (Index("ix_departments_grid_id", "grid_id"),)

    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Category(IdMixin, TimestampMixin, Base):
    """A report category with its default department and time limits (minutes)."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("respond_within_minutes > 0 AND resolve_within_minutes > 0", name="durations"),
        Index("ix_categories_grid_id", "grid_id"),
    )

    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    default_department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("departments.id"))
    respond_within_minutes: Mapped[int] = mapped_column(Integer)
    resolve_within_minutes: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
