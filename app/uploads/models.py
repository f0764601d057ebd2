"""Uploaded files (photos). The bytes live in storage; this row says who uploaded what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime, utcnow


class Upload(IdMixin, Base):
    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_owner_created", "owner_id", "created_at"),  # the per-user quota
        Index("ix_uploads_created_at", "created_at"),                 # the cleanup of old unattached uploads
    )

    owner_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the file was deleted by the retention job (issue 21); the row stays so timelines keep their photo ids
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
