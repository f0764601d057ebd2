"""The outbox of messages to outside providers (issue 18): SMS codes, WeChat subscription messages.

Same rules as the webhook outbox (app/notifications/outbox.py): a row is written in the transaction of the change
that causes it, the worker claims due rows with a lease, sends with no transaction open, and records the result
(delivered, due again after the backoff, or failed). `payload` holds what a provider needs (an SMS code, a
message's fields): it is wiped when the row is settled, and a row past `expires_at` is never sent (a code that is
no longer valid is not worth an SMS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, UTCDateTime

CHANNELS_SQL = "('sms','wechat_subscribe')"
STATES_SQL = "('pending','delivered','failed','expired')"


class ProviderMessage(IdMixin, Base):
    __tablename__ = "provider_messages"
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS_SQL}", name="channel"),
        CheckConstraint(f"status IN {STATES_SQL}", name="status"),
        Index("ix_provider_messages_due", "channel", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    channel: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # stable across attempts: providers dedupe
    target: Mapped[str] = mapped_column(String(128))  # a phone number, or an openid
    appid: Mapped[str | None] = mapped_column(String(64))  # WeChat: the mini-program
    payload: Mapped[str | None] = mapped_column(Text)  # JSON; None once settled
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
