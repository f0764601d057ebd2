"""A notification: one message to one user, written in the transaction of the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # the inbox, newest first (keyset on id), and the unread count / unread filter
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "id",
              postgresql_where=text("read_at IS NULL"), sqlite_where=text("read_at IS NULL")),
    )

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    # a key of app/notifications/catalog.TEMPLATES, e.g. "report.dispatched"
    type: Mapped[str] = mapped_column(String(64))
    # what it is about: object_type is the domain's noun ("report", "booking" ...), link its API path
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(IdType)
    link: Mapped[str] = mapped_column(String(200))
    # values for the title and body templates (rendered per request language at read time)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
