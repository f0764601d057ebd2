"""Webhook events: the closed set of event types a subscriber can ask for, and the versioned envelope every
payload is sent in. Pure (no database). Each domain documents the `data` of its events (reports:
app/reports/webhook_events.py) and emits them through app/notifications/outbox.emit.

Envelope, version 1: `{"type": "report.dispatched", "version": 1, "timestamp": "<ISO 8601, UTC>", "data": {...}}`.
A change that would break a receiver gets a new version; new fields may be added to `data` within a version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

PAYLOAD_VERSION = 1


class WebhookEventType(StrEnum):
    report_submitted = "report.submitted"
    report_accepted = "report.accepted"
    report_rejected = "report.rejected"
    report_withdrawn = "report.withdrawn"
    report_dispatched = "report.dispatched"
    report_returned = "report.returned"
    report_started = "report.started"
    report_resolved = "report.resolved"
    report_closed = "report.closed"
    report_reopened = "report.reopened"
    report_merged = "report.merged"


D = TypeVar("D")


class WebhookPayload(BaseModel, Generic[D]):  # noqa: UP046 - PEP 695 needs Python 3.12
    """The body of every webhook request (version 1). Verify `webhook-signature` over the raw body before parsing."""

    type: WebhookEventType
    version: Literal[1] = Field(description="The payload version; a breaking change gets a new one.")
    timestamp: datetime = Field(description="When the event happened (UTC), not when it was delivered.")
    data: D


def body(type_: WebhookEventType, data: dict[str, Any], occurred_at: datetime) -> str:
    """The exact JSON text that is stored, signed and sent (compact, keys in a fixed order)."""
    envelope = {"type": type_.value, "version": PAYLOAD_VERSION,
                "timestamp": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")
