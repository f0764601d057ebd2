"""An app over its rate limit gets 429 with two server processes sharing the limit through Redis (issue 18).

Two uvicorn processes (production settings) with REDIS_URL at 127.0.0.1:6379 and a key prefix of this run; the
requests of one app (X-Client-Id) alternate between them, from different users. CI runs this; it fails, not skips,
when Redis is not there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import JWT_SECRET
from tests.helpers import assert_error
from tests.process.test_stream_process import REDIS_URL
from tests.support.server import Server, server_env

LIMIT = 4


def _redis_or_fail() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis must be reachable at {REDIS_URL} for this test: {exc}")


async def test_two_processes_share_an_apps_limit_through_redis(app, world, settings, tmp_path: Path):
    _redis_or_fail()
    prefix = f"weilinli-test:{uuid.uuid4().hex}:"
    env = server_env(settings.database_url, JWT_SECRET, tmp_path / "uploads", extra={
        "REDIS_URL": REDIS_URL, "RATE_LIMITS_ENABLED": "true", "RATE_LIMIT_KEY_PREFIX": prefix,
        "RATE_LIMIT_CLIENT_WRITES": str(LIMIT), "RATE_LIMIT_WINDOW_SECONDS": "600"})
    servers = [Server(env, module="app.main:app", log_path=tmp_path / f"server-{i}.log") for i in range(2)]
    users = ["resident_a", "resident_b", "resident_c", "worker_in", "admin_c1", "admin_c2"]
    with servers[0], servers[1]:
        async with httpx.AsyncClient(timeout=10) as http:
            answers = []
            for i, who in enumerate(users):
                server = servers[i % 2]
                answers.append(await http.post(server.base_url + "/api/v1/notifications/read-all",
                                               headers=world.headers(who, **{"X-Client-Id": "wlc_shared"})))
            # each process alone saw at most 3 of the app's requests: only the shared count refuses the fifth
            assert [r.status_code for r in answers] == [200] * LIMIT + [429] * (len(users) - LIMIT), \
                [r.text for r in answers]
            for refused in answers[LIMIT:]:
                body = assert_error(refused, 429, "too_many_requests")
                assert body["details"] == {"retry_after": int(refused.headers["Retry-After"])}
            # another app, and the same users without an app, are not held by it
            other = await http.post(servers[1].base_url + "/api/v1/notifications/read-all",
                                    headers=world.headers("resident_a", **{"X-Client-Id": "wlc_other"}))
            assert other.status_code == 200
