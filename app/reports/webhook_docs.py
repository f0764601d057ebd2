"""The report events as OpenAPI webhooks (openapi.json `webhooks`): what a subscriber receives, per event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.core.routing import PrefixRouter
from app.notifications.webhooks_events import WebhookEventType
from app.reports.webhook_events import ReportWebhookPayload

HEADERS = """
Sent by the worker as `POST <your URL>` with `content-type: application/json` and Standard Webhooks headers:
`webhook-id` (the same on every retry: drop duplicates by it), `webhook-timestamp` (unix seconds of this attempt)
and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">`, keyed with
the base64-decoded part of your `whsec_` secret (space-separated, one per valid secret, after a rotation two).
Answer 2xx within the timeout; anything else, redirects included, is retried with backoff, then given up.
410 Gone stops the subscription.
"""

router = PrefixRouter(tags=["webhooks: reports"])


def _receiver(event: WebhookEventType) -> Callable[[ReportWebhookPayload], Awaitable[None]]:
    async def receive(payload: ReportWebhookPayload) -> None:  # documentation only: never served
        return None
    receive.__name__ = f"on_{event.name}"
    return receive


for _event in WebhookEventType:
    if _event.value.startswith("report."):
        router.add_api_route(
            _event.value, _receiver(_event), methods=["POST"], status_code=204, name=f"on_{_event.name}",
            operation_id=f"on_{_event.name}",
            summary=f"{_event.value}: a report's step", description=HEADERS,
            response_description="Received (any 2xx)",
            responses={"default": {"description": "Any other answer: the attempt failed and is retried."}})
