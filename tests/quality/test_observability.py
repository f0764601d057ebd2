"""Observability: Prometheus metrics by route template, business counters, JSON access logs without secrets."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core import metrics
from app.core.logging import JsonFormatter, scrub
from app.core.metrics import BUSINESS_COUNTERS, UNMATCHED
from app.main import create_app
from tests.factories import PASSWORD


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def _value(text: str, name: str, **labels: str) -> float:
    return sum(v for n, lab, v in _samples(text) if n == name and all(lab.get(k) == x for k, x in labels.items()))


async def _scrape(client) -> str:
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return resp.text


@contextmanager
def capture_logs() -> Iterator[list[str]]:
    """Every line the app's loggers write (formatted by the app's JSON formatter), at INFO and above."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    app_logger, root = logging.getLogger("weilinli"), logging.getLogger()
    saved = app_logger.level, root.level
    app_logger.addHandler(handler)
    root.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    root.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        app_logger.removeHandler(handler)
        root.removeHandler(handler)
        app_logger.setLevel(saved[0])
        root.setLevel(saved[1])


# ---- metrics -----------------------------------------------------------------------------------------------


async def test_metrics_count_requests_by_route_template(client):
    before = await _scrape(client)
    for _ in range(3):
        await client.get("/healthz")
    await client.get("/api/v1/admin/grids/424242")   # anonymous: 401, labelled with the template
    await client.get("/api/v1/no-such-route/77")
    text = await _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _value(text, name, **labels) - _value(before, name, **labels)

    total = "weilinli_http_requests_total"
    assert delta(total, method="GET", route="/healthz", status="200") == 3
    assert delta(total, method="GET", route="/api/v1/admin/grids/{grid_id}", status="401") == 1
    assert delta(total, method="GET", route=UNMATCHED, status="404") == 1
    assert delta("weilinli_http_request_duration_seconds_count", route="/healthz", status="200") == 3
    assert delta("weilinli_http_request_duration_seconds_bucket", route="/healthz", le="+Inf") == 3
    # raw paths never become labels: cardinality is bounded by the route table
    assert "424242" not in text and "no-such-route" not in text
    for name in BUSINESS_COUNTERS:
        assert f"weilinli_{name}_total " in text, name


async def test_every_operation_is_labelled_with_its_openapi_path(app, client):
    """The route label is the OpenAPI path for every operation (included routers keep their prefixes)."""
    ops = [(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item]
    for method, path in ops:
        await client.request(method, re.sub(r"\{[^}]+\}", "1", path))
    routes = {(lab["method"], lab["route"]) for n, lab, _ in _samples(await _scrape(client))
              if n == "weilinli_http_requests_total"}
    assert not set(ops) - routes, sorted(set(ops) - routes)
    assert all(r == UNMATCHED or r.startswith("/") for _, r in routes)


async def test_failed_logins_are_counted(client, world):
    phone = world.users["resident_a"].phone
    before = _value(await _scrape(client), "weilinli_logins_failed_total")
    await client.post("/api/v1/auth/token", data={"username": phone, "password": "wrong-password"})
    await client.post("/api/v1/auth/token", data={"username": "13700000000", "password": "wrong-password"})
    assert (await client.post("/api/v1/auth/token", data={"username": phone, "password": PASSWORD})).status_code == 200
    assert _value(await _scrape(client), "weilinli_logins_failed_total") - before == 2


async def test_reports_submitted_reaches_metrics(client, world):
    """A counter bumped in service code (metrics.count in app/reports) lands in the serving app's /metrics."""
    before = _value(await _scrape(client), "weilinli_reports_submitted_total")
    resp = await client.post("/api/v1/reports", headers=world.headers("resident_a"),
                             json={"category_id": world.cat.id, "title": "路灯不亮"})
    assert resp.status_code == 201, resp.text
    assert _value(await _scrape(client), "weilinli_reports_submitted_total") - before == 1


async def test_business_counter_api(app):
    m = app.state.metrics
    token = metrics.bind(m)
    try:
        before = m.value("weilinli_reports_resolved_total")
        metrics.count("reports_resolved")
        metrics.count("reports_resolved", 2)
        assert m.value("weilinli_reports_resolved_total") == before + 3
        with pytest.raises(ValueError, match="BUSINESS_COUNTERS"):
            metrics.count("bookings_made")  # a typo fails loudly instead of inventing a series
    finally:
        metrics.unbind(token)
    metrics.count("logins_failed")  # outside a request: the process-wide fallback, never an error
    assert metrics.current() is not m


async def test_many_apps_have_independent_metrics(settings):
    apps = [create_app(settings) for _ in range(3)]  # no "Duplicated timeseries in CollectorRegistry"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://t") as c:
            await c.get("/healthz")
        values = [a.state.metrics.value("weilinli_http_requests_total",
                                        {"method": "GET", "route": "/healthz", "status": "200"}) for a in apps]
        assert values == [1, 0, 0]
    finally:
        for a in apps:
            await a.state.db.dispose()


async def test_metrics_endpoint_is_documented(app):
    op = app.openapi()["paths"]["/metrics"]["get"]
    assert op["tags"] == ["ops"]
    assert "text/plain" in op["responses"]["200"]["content"]


# ---- logs --------------------------------------------------------------------------------------------------


async def test_access_log_is_json_with_request_id_user_id_and_route(client, world):
    user = world.users["resident_a"]
    with capture_logs() as lines:
        resp = await client.get("/api/v1/me", headers=world.headers("resident_a", **{"X-Request-ID": "trace-1"}))
        anon = await client.get("/api/v1/admin/grids/5")
    assert resp.status_code == 200 and anon.status_code == 401
    records = [json.loads(line) for line in lines]  # every line is JSON
    access = [r for r in records if r["logger"] == "weilinli.access" and r["msg"] == "request"]
    me = next(r for r in access if r["route"] == "/api/v1/me")
    assert me["request_id"] == "trace-1" == resp.headers["x-request-id"]
    assert me["user_id"] == user.id and me["method"] == "GET" and me["status"] == 200
    assert isinstance(me["duration_ms"], float)
    assert me["client"] == "127.0.0.1"  # httpx's ASGI transport's client address (issue 13, item 17)
    grid = next(r for r in access if r["route"] == "/api/v1/admin/grids/{grid_id}")
    assert grid["user_id"] is None and grid["status"] == 401 and grid["request_id"] == anon.headers["x-request-id"]


async def test_logs_carry_no_password_token_or_full_phone(client, world):
    phone = world.users["resident_a"].phone
    with capture_logs() as lines:
        bad = await client.post("/api/v1/auth/token", data={"username": phone, "password": "wrong-pass-123"})
        ok = await client.post("/api/v1/auth/token", data={"username": phone, "password": PASSWORD})
        tokens = ok.json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
        await client.patch("/api/v1/me", headers=bearer, json={"display_name": "新名字"})
        await client.post("/api/v1/me/password", headers=bearer,
                          json={"current_password": "wrong-pass-456", "new_password": "another-pass-789"})
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        version = world.settings.privacy_notice_version
        await client.post("/api/v1/auth/register", json={"phone": phone, "password": "reg-pass-0001",
                                                         "display_name": "x", "building_id": world.b1.id,
                                                         "privacy_notice_version": version})
    assert bad.status_code == 401 and ok.status_code == 200
    assert lines, "nothing was logged: the capture is broken"
    secrets = [PASSWORD, "wrong-pass-123", "wrong-pass-456", "another-pass-789", "reg-pass-0001", phone,
               tokens["access_token"], tokens["access_token"].split(".")[2],
               tokens["refresh_token"], tokens["refresh_token"].split(".")[2]]
    for line in lines:
        for secret in secrets:
            assert secret not in line, (secret, line)


async def test_an_unhandled_error_is_logged_scrubbed(settings, world):
    """A crash whose message quotes a phone, a token and a password hash: the trace is logged, scrubbed."""
    phone = world.users["resident_b"].phone
    token = world.headers("resident_b")["Authorization"].removeprefix("Bearer ")
    application = create_app(settings)

    @application.get("/boom-for-test")
    async def boom():
        raise RuntimeError(f"insert failed: [parameters: ('{phone}', '$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA', "
                           f"'{token}')] password=hunter2-secret Bearer {token}")

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application, raise_app_exceptions=False),
                                     base_url="http://t") as c:
            with capture_logs() as lines:
                resp = await c.get("/boom-for-test", headers={"Authorization": f"Bearer {token}"})
    finally:
        await application.state.db.dispose()
    assert resp.status_code == 500 and phone not in resp.text and "argon2" not in resp.text
    crash = next(json.loads(line) for line in lines if '"unhandled error"' in line)
    assert crash["request_id"] == resp.headers["x-request-id"] and "RuntimeError" in crash["exc"]
    for line in lines:
        for secret in (phone, token, token.split(".")[2], "hunter2-secret", "aGFzaA"):
            assert secret not in line, (secret, line)
    assert phone[:3] + "****" + phone[-4:] in crash["exc"]  # masked, still useful for support


def test_scrub_masks_and_redacts():
    assert scrub("call 13812345678 now") == "call 138****5678 now"
    assert scrub("id 213812345678") == "id 213812345678"  # not a phone: digits on both sides
    assert "s3cret" not in scrub('{"password": "s3cret pass"}') and "s3cret" not in scrub("token=s3cret&a=1")
    assert "abc.def" not in scrub("Authorization: Bearer abc.def")
    record = logging.LogRecord("weilinli.x", logging.INFO, "", 0, "login %s", ("13912345678",), None)
    record.password = "plain-text"
    record.refresh_token = "r" * 20
    out = json.loads(JsonFormatter().format(record))
    assert out["msg"] == "login 139****5678" and out["password"] == out["refresh_token"] == "[redacted]"
