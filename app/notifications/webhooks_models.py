"""Webhook subscriptions, the outbox of deliveries, and the log of every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow

DELIVERY_STATES_SQL = "('pending','delivered','failed')"


class WebhookSubscription(IdMixin, Base):
    """A subscriber endpoint of a community (or a street: then it hears every community below it)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version"),
        Index("ix_webhook_subscriptions_grid_id", "grid_id"),
    )

    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # `whsec_` + base64: the HMAC key must be usable, so it is stored (shown to the admin only when made)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))  # still signs until previous_secret_until
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))  # e.g. the endpoint answered 410 Gone
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookDelivery(IdMixin, Base):
    """One event for one subscription: the outbox row, written in the transaction of the change.

    `message_id` is the `webhook-id` header, the same on every attempt. The worker claims a due row by setting
    `locked_until` (a lease); a worker that dies mid-delivery leaves the lease to expire, and the row is sent again.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATES_SQL}", name="status"),
        # the worker's claim: pending rows by due time
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # an admin's list of a subscription's deliveries, newest first (keyset on id)
        Index("ix_webhook_deliveries_subscription_id_id", "subscription_id", "id"),
    )

    subscription_id: Mapped[int] = mapped_column(IdType, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON text signed and sent
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)        # every attempt ever started
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)  # since the last (re)delivery: the backoff's
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # delivered or failed


class WebhookAttempt(IdMixin, Base):
    """One HTTP attempt of a delivery, as the worker recorded it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),)

    delivery_id: Mapped[int] = mapped_column(IdType, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # the delivery's attempts count when it started
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)  # null: no HTTP answer (see error)
    error: Mapped[str | None] = mapped_column(String(300))
    response_body: Mapped[str] = mapped_column(Text, default="")  # the first 1 KiB, as text
    succeeded: Mapped[bool] = mapped_column(Boolean)
