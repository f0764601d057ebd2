"""The webhook payloads are part of the contract: every event type is documented in openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from app.notifications.webhooks_events import WebhookEventType
from app.reports.webhook_events import ReportEventData

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_every_event_type_is_a_documented_webhook_with_its_payload_schema():
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    hooks = doc["webhooks"]
    assert set(hooks) == {e.value for e in WebhookEventType}
    schemas = doc["components"]["schemas"]
    for event, item in hooks.items():
        op = item["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ReportWebhookPayload"}, event
        assert "webhook-signature" in op["description"] and op["operationId"] == f"on_{event.replace('.', '_')}"
    payload = schemas["ReportWebhookPayload"]
    assert set(payload["required"]) == {"type", "version", "timestamp", "data"}
    assert payload["properties"]["version"]["const"] == 1
    assert set(schemas["ReportEventData"]["properties"]) == set(ReportEventData.model_fields)
    # nothing personal in the documented data
    assert not {"title", "description", "address", "lat", "lng", "reporter", "reporter_id", "phone",
                "building_id"} & set(ReportEventData.model_fields)
