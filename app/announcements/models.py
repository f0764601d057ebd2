"""Announcements (公告): notices from staff to a node of the grid tree (a street, a community, a grid)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime, utcnow


class Announcement(IdMixin, Base):
    __tablename__ = "announcements"
    __table_args__ = (
        # a resident's list: the nodes above their building, pinned first, newest first
        Index("ix_announcements_grid_feed", "grid_id", "pinned", "created_at", "id"),
        Index("ix_announcements_grid_path", "grid_path"),
        Index("ix_announcements_author_id", "author_id"),
        Index("ix_announcements_proposal_id", "proposal_id"),
    )

    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    grid_path: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))  # null: the system (a result)
    # set when the announcement publishes a proposal's result (deliberation)
    proposal_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("proposals.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
