"""Request-rate limits (issue 18): the limiter, the keys a request counts against, the 429 answer, and the client
address taken from X-Forwarded-For only when the peer is a trusted proxy. Two processes sharing a limit through
Redis: tests/process/test_ratelimit_process.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.core.config import Settings
from app.core.ratelimit import Limiter, MemoryBackend, keys_for
from app.core.security import issue_token
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.helpers import assert_error


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_key_over_its_limit_is_refused_until_its_window_ends():
    clock = Clock(1000.0)
    limiter = Limiter(MemoryBackend(), window=60, clock=clock)
    assert [(await limiter.check([("k", 3)])).allowed for _ in range(4)] == [True, True, True, False]
    clock.now = 1055.5  # the key's window is [1000, 1060): 4.5 s left, answered as 5
    refused = await limiter.check([("k", 3)])
    assert not refused.allowed and refused.retry_after == 5
    assert (await limiter.check([("other", 3)])).allowed  # keys are counted apart
    clock.now = 1060.0  # the window has ended: a new one starts with this request
    assert [(await limiter.check([("k", 3)])).allowed for _ in range(4)] == [True, True, True, False]


async def test_every_key_of_a_request_counts_and_any_one_over_refuses():
    limiter = Limiter(MemoryBackend(), window=60, clock=Clock(0.0))
    assert (await limiter.check([("user:1", 5), ("client:a", 2)])).allowed
    assert (await limiter.check([("user:2", 5), ("client:a", 2)])).allowed
    assert not (await limiter.check([("user:3", 5), ("client:a", 2)])).allowed  # the app is over, not the user


async def test_the_memory_backend_stays_bounded():
    backend = MemoryBackend(max_keys=10)
    for i in range(25):
        await backend.hit(f"k{i}", 60, 0.0)
    assert len(backend.counts) <= 10


def _scope(method: str, path: str, headers: dict[str, str] | None = None, client: str = "203.0.113.5") -> dict:
    return {"type": "http", "method": method, "path": path, "client": (client, 1234),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}


def test_which_keys_a_request_counts_against(settings, world):
    s = settings.model_copy(update={"rate_limit_user_writes": 7, "rate_limit_client_writes": 70,
                                    "rate_limit_auth_per_address": 9})
    token = world.headers("resident_a")
    uid = world.users["resident_a"].id
    assert keys_for(_scope("GET", "/api/v1/reports", token), s, JWT_SECRET) == []
    assert keys_for(_scope("POST", "/api/v1/reports", token), s, JWT_SECRET) == [(f"user:{uid}", 7)]
    assert keys_for(_scope("DELETE", "/api/v1/reports/1/follow", {**token, "X-Client-Id": "wlc_app"}), s,
                    JWT_SECRET) == [(f"user:{uid}", 7), ("client:wlc_app", 70)]
    # a token issued through an app counts against its app, whatever the header says
    through_app = issue_token(settings, JWT_SECRET, user_id=uid, role="resident", typ="access", client_id="wlc_tok",
                              scopes=("reports:write",)).token
    assert keys_for(_scope("POST", "/api/v1/reports", {"Authorization": f"Bearer {through_app}",
                                                         "X-Client-Id": "wlc_other"}), s, JWT_SECRET) == [
        (f"user:{uid}", 7), ("client:wlc_tok", 70)]
    # no valid token: the address stands for the user
    assert keys_for(_scope("PATCH", "/api/v1/me", {"Authorization": "Bearer forged"}), s, JWT_SECRET) == [
        ("addr:203.0.113.5", 7)]
    assert keys_for(_scope("POST", "/api/v1/auth/token", token), s, JWT_SECRET) == [("auth-addr:203.0.113.5", 9)]


@asynccontextmanager
async def _app(settings: Settings, **limits) -> AsyncIterator:
    application = create_app(settings.model_copy(update={"rate_limits_enabled": True, **limits}))
    try:
        yield application
    finally:
        await application.state.db.dispose()


def _client(application, peer: str = "203.0.113.5") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application, client=(peer, 4321)),
                             base_url="http://test")


async def test_writes_over_the_user_limit_get_429_with_retry_after(settings, world):
    async with _app(settings, rate_limit_user_writes=2) as application, _client(application) as c:
        a = world.headers("resident_a")
        for _ in range(2):
            assert (await c.post("/api/v1/notifications/read-all", headers=a)).status_code == 200
        refused = await c.post("/api/v1/notifications/read-all", headers={**a, "Accept-Language": "en"})
        body = assert_error(refused, 429, "too_many_requests")
        assert body["details"] == {"retry_after": int(refused.headers["Retry-After"])}
        assert 1 <= int(refused.headers["Retry-After"]) <= settings.rate_limit_window_seconds
        assert body["message"] == "Too many attempts, try again later"
        assert refused.headers.get("x-request-id")
        # reads are not limited, and another user has their own count
        assert (await c.get("/api/v1/notifications", headers=a)).status_code == 200
        assert (await c.post("/api/v1/notifications/read-all", headers=world.headers("resident_b"))).status_code == 200


async def test_an_app_over_its_limit_gets_429_for_all_its_users(settings, world):
    async with _app(settings, rate_limit_client_writes=3) as application, _client(application) as c:
        app_x = {"X-Client-Id": "wlc_x"}
        for who in ("resident_a", "resident_b", "resident_c"):
            resp = await c.post("/api/v1/notifications/read-all", headers=world.headers(who, **app_x))
            assert resp.status_code == 200
        assert_error(await c.post("/api/v1/notifications/read-all", headers=world.headers("admin_c1", **app_x)),
                     429, "too_many_requests")
        # the same users through another app (or first party) are not held by it
        assert (await c.post("/api/v1/notifications/read-all", headers=world.headers("resident_a"))).status_code == 200


async def test_sign_in_is_limited_per_address_and_per_phone(settings, world):
    phone = world.users["resident_a"].phone
    async with _app(settings, rate_limit_auth_per_address=3, rate_limit_auth_per_phone=2) as application:
        async with _client(application, "198.51.100.1") as c:
            for _ in range(3):
                assert (await c.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 20})).status_code == 401
            assert_error(await c.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 20}), 429)
        # one phone number from ever new addresses: held by its own count
        answers = []
        for i in range(3):
            async with _client(application, f"198.51.100.{10 + i}") as c:
                answers.append(await c.post("/api/v1/auth/token", data={"username": phone, "password": "wrong-pw"}))
        assert [r.status_code for r in answers] == [401, 401, 429], [r.text for r in answers]
        assert answers[2].headers["Retry-After"]


async def test_x_forwarded_for_is_read_only_from_a_trusted_proxy(settings, world):
    async with _app(settings, rate_limit_auth_per_address=2, behind_proxy=True,
                    forwarded_allow_ips="10.0.0.1") as application:
        async def refresh(peer: str, forwarded: str) -> int:
            async with _client(application, peer) as c:
                return (await c.post("/api/v1/auth/refresh", headers={"X-Forwarded-For": forwarded},
                                     json={"refresh_token": "x" * 20})).status_code

        # through the trusted proxy: each forwarded address has its own count
        assert [await refresh("10.0.0.1", "192.0.2.1") for _ in range(3)] == [401, 401, 429]
        assert await refresh("10.0.0.1", "192.0.2.2") == 401
        # from anyone else the header is ignored: a changing X-Forwarded-For does not escape the peer's count
        assert [await refresh("10.0.0.9", f"192.0.2.{50 + i}") for i in range(3)] == [401, 401, 429]
    async with _app(settings, rate_limit_auth_per_address=2) as application:  # not behind a proxy: never read
        async with _client(application, "10.0.0.1") as c:
            codes = [(await c.post("/api/v1/auth/refresh", headers={"X-Forwarded-For": f"192.0.2.{i}"},
                                   json={"refresh_token": "x" * 20})).status_code for i in range(3)]
        assert codes == [401, 401, 429]


async def test_limits_off_counts_nothing(settings, world):
    async with _app(settings, rate_limits_enabled=False, rate_limit_user_writes=1) as application, \
            _client(application) as c:
        a = world.headers("resident_a")
        for _ in range(3):
            assert (await c.post("/api/v1/notifications/read-all", headers=a)).status_code == 200
