"""/metrics and the interactive docs are not open to anyone in production (issue 13, item 16)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.core.config import Env
from app.core.metrics import BUSINESS_COUNTERS
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
STRONG = "p" * 40


async def _get(settings, path: str, **headers: str) -> httpx.Response:
    application = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get(path, headers=headers)
    finally:
        await application.state.db.dispose()


def _production(settings, **changes):
    return settings.model_copy(update={"weilinli_env": Env.production, "jwt_secret": STRONG,
                                       "password_time_cost": 2, "password_memory_kib": 19456, **changes})


async def test_metrics_need_the_token_when_one_is_set(settings):
    guarded = settings.model_copy(update={"metrics_token": "scrape-me"})
    assert (await _get(guarded, "/metrics")).status_code == 401
    assert (await _get(guarded, "/metrics", Authorization="Bearer wrong")).status_code == 401
    ok = await _get(guarded, "/metrics", Authorization="Bearer scrape-me")
    assert ok.status_code == 200 and "weilinli_http_requests_total" in ok.text


async def test_production_serves_no_metrics_without_a_token_and_no_docs(settings):
    prod = _production(settings)
    assert (await _get(prod, "/metrics")).status_code == 404
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await _get(prod, path)).status_code == 404, path
    opened = _production(settings, docs_enabled=True, metrics_token="t")
    assert (await _get(opened, "/docs")).status_code == 200
    assert (await _get(opened, "/metrics", Authorization="Bearer t")).status_code == 200


async def test_development_keeps_docs_by_default(settings):
    assert (await _get(settings, "/openapi.json")).status_code == 200


@pytest.mark.parametrize("name", ["bookings_created", "votes_cast"])
def test_no_counter_for_a_feature_that_does_not_exist(name):
    assert name not in BUSINESS_COUNTERS


def test_compose_publishes_on_loopback_only():
    ports = [line.strip() for line in (ROOT / "docker-compose.yml").read_text().splitlines()
             if line.strip().startswith("- \"") and ":8000" in line]
    assert ports and all(p.startswith('- "127.0.0.1:') for p in ports), ports
