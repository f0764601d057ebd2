"""SMS verification codes (短信验证码, issue 18): stored as a keyed hash, single use, a few tries each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, UTCDateTime

PURPOSES_SQL = "('login','register','reset_password','bind','erase')"


class SmsCode(IdMixin, Base):
    """One code sent to one number for one purpose. Only the newest code of a (phone, purpose) is accepted.

    `code_hash` is an HMAC of the code under the server's key (a plain hash of six digits is reversed by trying a
    million values); `attempts` counts wrong tries (the fifth kills the code); `used_at` is set by the one
    conditional UPDATE that wins the code."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        CheckConstraint(f"purpose IN {PURPOSES_SQL}", name="purpose"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_sms_codes_phone_purpose_id", "phone", "purpose", "id"),
        Index("ix_sms_codes_expires_at", "expires_at"),
    )

    phone: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(64))  # who asked for it (for the audit of abuse)
