"""GET /metrics: the Prometheus exposition of this app's metrics (app/core/metrics.py), behind METRICS_TOKEN."""

from __future__ import annotations

import hmac

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.config import Env
from app.core.errors import NotFound, Unauthenticated, error_responses
from app.core.metrics import BUSINESS_COUNTERS
from app.core.routing import PrefixRouter

router = PrefixRouter(tags=["ops"])


@router.get(
    "/metrics", summary="Prometheus metrics", response_class=Response,
    description="Prometheus text exposition: `weilinli_http_requests_total` and "
                "`weilinli_http_request_duration_seconds` by method, route template and status, and the business "
                "counters (" + ", ".join(f"`weilinli_{n}_total`" for n in BUSINESS_COUNTERS) + "). "
                "With `METRICS_TOKEN` set it needs `Authorization: Bearer <METRICS_TOKEN>` (otherwise 401); "
                "in production without `METRICS_TOKEN` it is not served (404).",
    responses={200: {"description": "Prometheus text format",
                     "content": {"text/plain": {"schema": {"type": "string"}}}},
               **error_responses(401, 404)},
)
async def get_metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            raise Unauthenticated()
    elif settings.weilinli_env is Env.production:
        raise NotFound()
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
