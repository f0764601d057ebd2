"""Live streams on real servers (uvicorn processes, production settings) over real HTTP.

- One process without Redis: a step taken through the API reaches a stream on the same process.
- Two processes with Redis (REDIS_URL, 127.0.0.1:6379): a step taken through one reaches a stream held by the other.
  CI runs this; it fails, not skips, when Redis is not there.
Each checks the event arrives within a second of the step's answer (the issue's bound; a bound, not a benchmark).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import JWT_SECRET
from tests.reports.factories import make_report
from tests.support.server import Server, server_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STREAM = "/api/v1/notifications/stream"


def _servers(settings, tmp_path: Path, n: int, extra: dict[str, str]) -> list[Server]:
    env = server_env(settings.database_url, JWT_SECRET, tmp_path / "uploads", extra=extra)
    return [Server(env, module="app.main:app", log_path=tmp_path / f"server-{i}.log") for i in range(n)]


async def _first_event(resp: httpx.Response) -> dict[str, str]:
    block: list[str] = []
    async for line in resp.aiter_lines():
        if line == "":
            fields = dict(x.split(": ", 1) for x in block if ": " in x and not x.startswith(":"))
            block = []
            if fields.get("event"):
                return fields
        else:
            block.append(line)
    raise AssertionError("the stream ended without an event")


async def _step_reaches_stream(app, world, via: Server, held_by: Server) -> float:
    report = await make_report(app, world, state="submitted", is_public=False)
    async with httpx.AsyncClient(timeout=10) as http, http.stream(
            "GET", held_by.base_url + STREAM, headers=world.headers("resident_a")) as stream:
        assert stream.status_code == 200
        listening = asyncio.create_task(_first_event(stream))
        await asyncio.sleep(0.3)  # the stream is open and subscribed (its first bytes are out)
        step = await http.post(f"{via.base_url}/api/v1/reports/{report.id}/steps", headers=world.headers("worker_in"),
                               json={"action": "accept", "expected_version": report.version})
        assert step.status_code == 200, step.text
        answered = time.monotonic()
        event = await asyncio.wait_for(listening, 5)
        delay = time.monotonic() - answered
    data = json.loads(event["data"])
    assert event["event"] == "notification" and data["type"] == "report.accepted" and data["object_id"] == report.id
    return delay


async def test_one_process_without_redis(app, world, settings, tmp_path):
    [server] = _servers(settings, tmp_path, 1, {})
    with server:
        delay = await _step_reaches_stream(app, world, via=server, held_by=server)
    assert delay < 1.0, delay


async def test_two_processes_fan_out_through_redis(app, world, settings, tmp_path):
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis must be reachable at {REDIS_URL} for this test: {exc}")
    a, b = _servers(settings, tmp_path, 2, {"REDIS_URL": REDIS_URL})
    with a, b:
        delay = await _step_reaches_stream(app, world, via=b, held_by=a)
    assert delay < 1.0, delay
