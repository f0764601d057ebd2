"""Registered third-party apps (api_clients)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow

KINDS_SQL = "('mini_program','web','server')"
STATUSES_SQL = "('active','suspended')"


class ApiClient(IdMixin, Base):
    """An app registered by an admin on a community or street node. `client_id` is public; the secret is stored only
    as its sha256 digest (see app/clients/secrets.py)."""

    __tablename__ = "api_clients"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(f"kind IN {KINDS_SQL}", name="kind"),
        CheckConstraint(f"status IN {STATUSES_SQL}", name="status"),
        Index("ix_api_clients_grid_id", "grid_id"),
    )

    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    origins: Mapped[list[str]] = mapped_column(JsonType, default=list)  # 'https://host[:port]', exact match
    scopes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    wechat_appid: Mapped[str | None] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
