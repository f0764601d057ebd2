"""Webhook subscriptions, deliveries and attempts as admins see them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import ObjectId
from app.notifications.webhooks_events import WebhookEventType

URL_MAX = 2000
Url = Field(min_length=1, max_length=8192, examples=["https://hooks.example.com/weilinli"],
            description=f"http or https, without credentials, at most {URL_MAX} characters; its host must resolve "
                        "to public addresses only (422 `webhook_url_invalid` / `webhook_address_forbidden`).")
EventTypes = Field(min_length=1, max_length=len(WebhookEventType), description="The events to receive.")


class WebhookCreate(InputModel):
    grid_id: ObjectId = Field(description="A community (its reports' events), or a street (every community's "
                                          "below it), in your scope.")
    url: str = Url
    event_types: list[WebhookEventType] = EventTypes
    description: str = Field(default="", max_length=200)
    is_active: bool = True


class WebhookUpdate(InputModel):
    """Change what you send; `expected_version` is the version you saw (409 `stale_version` if it moved)."""

    expected_version: int = Field(ge=1, le=2**31)
    url: str = if_sent(min_length=1, max_length=8192)
    event_types: list[WebhookEventType] = if_sent(min_length=1, max_length=len(WebhookEventType))
    description: str = if_sent(max_length=200)
    is_active: bool = if_sent(description="false stops it: pending deliveries fail; true starts it again.")


class WebhookRead(OutputModel):
    id: int
    grid_id: int
    url: str
    description: str
    event_types: list[WebhookEventType]
    is_active: bool
    disabled_reason: str | None = Field(description="Why it was stopped by us (e.g. the endpoint answered 410).")
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="`whsec_` + base64: the HMAC-SHA256 key (base64-decoded) of "
                                    "`webhook-signature`. Shown this once; rotate it if lost.")


class WebhookSecretRotated(OutputModel):
    id: int
    version: int
    secret: str = Field(description="The new secret, shown this once. Deliveries are signed with it from now on.")
    previous_secret_valid_until: datetime | None = Field(
        description="Until then each delivery also carries a signature with the old secret (WEBHOOK_SECRET_OVERLAP_"
                    "HOURS), so receivers can switch without losing deliveries.")


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class DeliveryRead(OutputModel):
    id: int
    subscription_id: int
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt, for receivers to drop "
                                        "duplicates.")
    event_type: WebhookEventType
    status: DeliveryStatus
    attempts: int = Field(description="Attempts started so far (redeliveries included).")
    next_attempt_at: datetime | None = Field(description="While pending: when it is (re)tried.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class AttemptRead(OutputModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="Null when no HTTP answer came (see error).")
    error: str | None
    response_body: str = Field(description="The first 1 KiB of the answer.")
    succeeded: bool


class DeliveryDetail(DeliveryRead):
    body: str = Field(description="The exact JSON text that was signed and sent.")
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")
