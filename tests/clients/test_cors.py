"""CORS answers exactly CORS_ORIGINS and the origins of active registered apps; nothing for any other origin."""

from __future__ import annotations

import httpx
import pytest

from app.clients.cors import OriginRegistry
from app.main import create_app

BASE = "/api/v1/admin/clients"
APP_ORIGIN = "https://app.example.com"


def _cors(resp: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


async def _register(client, world, origins=(APP_ORIGIN,)):
    resp = await client.post(BASE, headers=world.headers("admin_c1"), json={
        "grid_id": world.c1.id, "name": "web", "kind": "web", "origins": list(origins), "scopes": ["reports:read"]})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}


async def test_unregistered_origin_gets_no_cors_headers(client, world):
    await _register(client, world)
    for origin in ("https://evil.example", "https://app.example.com.evil.example", "http://app.example.com",
                   "https://app.example.com:8443", "null"):
        resp = await client.get("/healthz", headers={"Origin": origin})
        assert resp.status_code == 200 and _cors(resp) == {}, origin
        pre = await client.options("/api/v1/reports", headers=_preflight(origin))
        assert _cors(pre) == {} and pre.status_code != 204, origin


async def test_registered_origin_and_its_preflight(client, world):
    await _register(client, world)
    resp = await client.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert resp.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "X-Request-ID" in resp.headers["access-control-expose-headers"]
    assert "origin" in resp.headers["vary"].lower()
    assert "access-control-allow-credentials" not in resp.headers
    pre = await client.options("/api/v1/reports", headers=_preflight(APP_ORIGIN))
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert pre.headers["access-control-allow-headers"] == "authorization, content-type, idempotency-key"
    # an error answer carries it too, so the page can read the envelope
    err = await client.get("/api/v1/reports", headers={"Origin": APP_ORIGIN})
    assert err.status_code == 401 and err.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_suspension_removes_the_origin_at_once_and_reactivation_restores_it(client, world):
    made = await _register(client, world)
    assert _cors(await client.get("/healthz", headers={"Origin": APP_ORIGIN}))
    admin = world.headers("admin_c1")
    assert (await client.post(f"{BASE}/{made['id']}/suspend", json={"expected_version": 1},
                              headers=admin)).status_code == 200
    assert _cors(await client.get("/healthz", headers={"Origin": APP_ORIGIN})) == {}
    assert _cors(await client.options("/api/v1/reports", headers=_preflight(APP_ORIGIN))) == {}
    assert (await client.post(f"{BASE}/{made['id']}/reactivate", json={"expected_version": 2},
                              headers=admin)).status_code == 200
    assert _cors(await client.get("/healthz", headers={"Origin": APP_ORIGIN}))


async def test_changed_origins_apply_at_once(client, world):
    made = await _register(client, world)
    assert _cors(await client.get("/healthz", headers={"Origin": APP_ORIGIN}))
    resp = await client.patch(f"{BASE}/{made['id']}", headers=world.headers("admin_c1"),
                              json={"expected_version": 1, "origins": ["https://new.example:8443"]})
    assert resp.status_code == 200
    assert _cors(await client.get("/healthz", headers={"Origin": APP_ORIGIN})) == {}
    assert _cors(await client.get("/healthz", headers={"Origin": "https://new.example:8443"}))


async def test_configured_origins_work_without_any_app(settings):
    application = create_app(settings.model_copy(update={"cors_origins": ["https://console.example"]}))
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            ok = await c.get("/healthz", headers={"Origin": "https://console.example"})
            assert ok.headers["access-control-allow-origin"] == "https://console.example"
            pre = await c.options("/api/v1/reports", headers=_preflight("https://console.example"))
            assert pre.status_code == 204
            assert _cors(await c.get("/healthz", headers={"Origin": "https://other.example"})) == {}
    finally:
        await application.state.db.dispose()


# ---- the registry: TTL, forgetting on commit, a read overtaken by a change (no database) ----------------


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def source():
    return {"origins": frozenset({"https://a.example"}), "loads": 0}


def _registry(source, clock, ttl=2.0, configured=()):
    async def load():
        source["loads"] += 1
        return source["origins"]
    return OriginRegistry(configured, ttl, load, clock)


async def test_registry_remembers_for_the_ttl(source):
    clock = _Clock()
    reg = _registry(source, clock)
    assert await reg.allows("https://a.example") and source["loads"] == 1
    source["origins"] = frozenset()  # changed by another process
    clock.now = 1.9
    assert await reg.allows("https://a.example") and source["loads"] == 1
    clock.now = 2.1
    assert not await reg.allows("https://a.example") and source["loads"] == 2


async def test_registry_forgets_on_a_commit_that_changed_an_app(source):
    reg = _registry(source, _Clock())
    assert await reg.allows("https://a.example")
    source["origins"] = frozenset()
    reg.on_commit({"something_else": True})
    assert await reg.allows("https://a.example")
    reg.on_commit({"api_clients_changed": True})
    assert not await reg.allows("https://a.example")


async def test_a_read_overtaken_by_a_change_is_not_kept(source):
    clock = _Clock()
    reg: OriginRegistry

    async def load():
        source["loads"] += 1
        reg.forget()  # a change committed while this read was under way
        return frozenset({"https://stale.example"})
    reg = OriginRegistry((), 2.0, load, clock)
    assert await reg.allows("https://stale.example")
    assert await reg.allows("https://stale.example") and source["loads"] == 2  # read again, not remembered


async def test_configured_origins_and_ttl_zero(source):
    reg = _registry(source, _Clock(), ttl=0, configured=["HTTPS://Console.Example:443"])
    assert await reg.allows("https://console.example") and source["loads"] == 0  # no I/O for configured ones
    await reg.allows("https://a.example")
    await reg.allows("https://a.example")
    assert source["loads"] == 2
    anyone = _registry(source, _Clock(), configured=["*"])
    assert await anyone.allows("https://whoever.example")
