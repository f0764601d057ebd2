"""Consents to the privacy notice: one row per acceptance (append-only), the latest version also on users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime, utcnow

# where the acceptance was given: registration by password, SMS or WeChat, or the consent endpoint afterwards
VIA = ("register", "sms", "wechat", "api", "admin")


class PrivacyConsent(IdMixin, Base):
    __tablename__ = "privacy_consents"
    __table_args__ = (
        CheckConstraint("via IN ('register','sms','wechat','api','admin')", name="via"),
        Index("ix_privacy_consents_user_id", "user_id", "accepted_at"),
    )

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    via: Mapped[str] = mapped_column(String(16))
