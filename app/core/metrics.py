"""Prometheus metrics: per-route request counts and latencies, and a few business counters.

Every app gets its own `Metrics` (its own CollectorRegistry, kept in `app.state.metrics`), so tests that build
many apps never hit "Duplicated timeseries". Request metrics are labelled by the route *template*
(`/api/v1/admin/grids/{grid_id}`, never the raw path) so their cardinality is bounded by the route table.

Business counters are declared once, in BUSINESS_COUNTERS (each domain adds its own when it lands), and
bumped from service code with
`metrics.count("reports_submitted")`. The counter goes to the app serving the current request (the request
middleware binds it); outside a request (CLI, worker) it goes to a process-wide fallback.
A counter is bumped when the service step succeeds; a request that later fails to commit still counted.
With several worker processes each keeps its own numbers (sum them in Prometheus).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar, Token
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# name -> help text. The only place business counters are declared; count() refuses any other name.
BUSINESS_COUNTERS: dict[str, str] = {
    "reports_submitted": "Reports (报事) submitted by residents or on patrol.",
    "reports_resolved": "Reports resolved (办结) by their handler.",
    "logins_failed": "Logins refused: wrong phone or password, or a disabled account.",
}

UNMATCHED = "<unmatched>"  # the route label of a request no route matched (404, or refused before routing)

# Latency buckets in seconds: tight at the bottom, where an API answer should be.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The metrics of one app: its own registry, request metrics and the business counters."""

    def __init__(self, namespace: str = "weilinli") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("http_requests", "HTTP requests answered, by route template and status.",
                                ["method", "route", "status"], namespace=namespace, registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds",
                                 "Time to answer an HTTP request, by route template and status.",
                                 ["method", "route", "status"], namespace=namespace, buckets=_BUCKETS,
                                 registry=self.registry)
        self.business = {name: Counter(name, doc, namespace=namespace, registry=self.registry)
                         for name, doc in BUSINESS_COUNTERS.items()}
        self._templates: dict[int, str] | None = None
        self._routes_seen = -1

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def count(self, name: str, amount: float = 1) -> None:
        try:
            counter = self.business[name]
        except KeyError:
            raise ValueError(f"unknown business counter {name!r}: declare it in BUSINESS_COUNTERS") from None
        counter.inc(amount)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's current value (0 if absent), e.g. value("weilinli_logins_failed_total"). For tests."""
        return self.registry.get_sample_value(name, labels or {}) or 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # ---- route templates ------------------------------------------------------------------------------------

    def route_template(self, scope: dict[str, Any]) -> str:
        """The full path template of the route that served this request, as the OpenAPI document names it.

        FastAPI keeps included routers nested: `scope["route"]` is the original APIRoute, whose own `path`
        lacks the prefixes of the routers it was included through. The full template comes from the app's
        route contexts (what OpenAPI generation uses), looked up by the route object.
        """
        # Plain Starlette routes (/openapi.json, /docs) leave no "route" in the scope, only their endpoint.
        route, endpoint = scope.get("route"), scope.get("endpoint")
        if route is None and endpoint is None:
            return UNMATCHED
        key = id(route if route is not None else endpoint)
        routes = getattr(scope.get("app"), "routes", None)
        if routes is not None:
            if self._templates is None or len(routes) != self._routes_seen or key not in self._templates:
                self._templates = _templates(routes)
                self._routes_seen = len(routes)
            found = self._templates.get(key)
            if found:
                return found
        return getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED


def _templates(routes: Iterable[Any]) -> dict[int, str]:
    """id(route) and id(endpoint) -> the full path template."""
    out: dict[int, str] = {}
    for ctx in iter_route_contexts(list(routes)):
        path = ctx.path_format or ctx.path
        if path:
            out.setdefault(id(ctx.original_route), path)
            if ctx.endpoint is not None:
                out.setdefault(id(ctx.endpoint), path)
    return out


# ---- the current app's metrics, for service code --------------------------------------------------------------

_current: ContextVar[Metrics | None] = ContextVar("weilinli_metrics", default=None)
_fallback: Metrics | None = None


def bind(m: Metrics) -> Token:
    """Make `m` the target of count() in this context (the request middleware does this per request)."""
    return _current.set(m)


def unbind(token: Token) -> None:
    _current.reset(token)


def current() -> Metrics:
    global _fallback
    m = _current.get()
    if m is None:
        if _fallback is None:
            _fallback = Metrics()
        m = _fallback
    return m


def count(name: str, amount: float = 1) -> None:
    """Bump a business counter declared in BUSINESS_COUNTERS: `metrics.count("bookings_created")`."""
    current().count(name, amount)
