"""The one error envelope, in Chinese by default and English on request, for every kind of error."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from app.core.config import Env, Settings
from app.main import create_app
from tests.helpers import assert_error, has_cjk


async def test_unknown_route_is_404_in_envelope_in_chinese(client):
    err = assert_error(await client.get("/api/v1/nope"), 404, "not_found")
    assert has_cjk(err["message"])


async def test_english_on_accept_language(client):
    err = assert_error(await client.get("/api/v1/nope", headers={"Accept-Language": "en-US,en;q=0.9"}), 404)
    assert err["message"] == "Not found"
    err = assert_error(await client.get("/api/v1/nope", headers={"Accept-Language": "zh-CN,en;q=0.5"}), 404)
    assert has_cjk(err["message"])


async def test_method_not_allowed_is_405_in_envelope(client):
    assert_error(await client.delete("/healthz"), 405, "method_not_allowed")


async def test_validation_error_lists_fields(client):
    err = assert_error(await client.post("/api/v1/auth/register", json={"phone": "123"}), 422, "validation_error")
    locs = {tuple(d["loc"]) for d in err["details"]}
    assert ("body", "phone") in locs and ("body", "password") in locs


async def test_malformed_json_is_422(client):
    resp = await client.post("/api/v1/auth/register", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert_error(resp, 422, "validation_error")


async def test_oversized_body_is_413_declared_and_streamed(client, settings):
    big = b"x" * (settings.max_body_bytes + 1)
    assert_error(await client.post("/api/v1/auth/register", content=big,
                                   headers={"Content-Type": "application/json"}), 413, "payload_too_large")

    async def stream():
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b" " * 1024

    resp = await client.post("/api/v1/auth/register", content=stream(), headers={"Content-Type": "application/json"})
    assert_error(resp, 413, "payload_too_large")


async def test_request_id_is_echoed_or_generated(client):
    resp = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    resp = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert resp.headers["x-request-id"] != "bad id with spaces"
    assert len(resp.headers["x-request-id"]) == 32


async def test_unhandled_exception_is_500_envelope_without_trace(settings):
    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/boom")
    async def _boom():
        raise RuntimeError("secret internals")

    app.include_router(boom)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://t") as c:
        resp = await c.get("/boom")
    err = assert_error(resp, 500, "internal_error")
    assert "secret" not in resp.text and "Traceback" not in resp.text
    assert err["details"] is None
    await app.state.db.dispose()


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_readyz_fails_when_database_unreachable(tmp_path):
    settings = Settings(weilinli_env=Env.test, jwt_secret="x" * 40,
                        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert_error(await c.get("/readyz"), 503, "service_unavailable")
    await app.state.db.dispose()


async def test_405_lists_every_method_of_the_path(client):
    """GET and POST /api/v1/reports are two routes; the Allow header names both (issue 13, item 15)."""
    resp = await client.delete("/api/v1/reports")
    assert resp.status_code == 405
    assert set(resp.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    steps = await client.get("/api/v1/reports/1/steps")
    assert steps.status_code == 405 and steps.headers["allow"] == "POST"
