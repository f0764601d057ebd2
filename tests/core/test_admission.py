"""Admission (app/core/admission.py): at most N requests worked on at once, the rest in arrival order; a request
counts from its whole body to the start of its answer; the stream and the health checks are not counted."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.core.admission import AdmissionMiddleware


class Probe:
    """An ASGI app that records how many requests are inside it at once and in which order they entered; each
    request waits for `release` (when set) before answering."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.order: list[str] = []
        self.release: asyncio.Event | None = None

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        if scope["method"] == "POST":
            while True:
                msg = await receive()
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.order.append(scope["path"])
        try:
            if self.release is not None:
                await self.release.wait()
            await asyncio.sleep(0.001)
            if scope["path"] == "/boom":
                raise RuntimeError("boom")
        finally:
            self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body or b"ok"})


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://t")


async def test_at_most_the_limit_inside_and_all_answered():
    probe = Probe()
    async with client(AdmissionMiddleware(probe, limit=3)) as c:
        answers = await asyncio.gather(*(c.get(f"/r/{i}") for i in range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    assert probe.most == 3


async def test_no_limit_lets_everyone_in():
    probe = Probe()
    async with client(AdmissionMiddleware(probe, limit=0)) as c:
        await asyncio.gather(*(c.get(f"/r/{i}") for i in range(20)))
    assert probe.most > 3


async def test_waiting_requests_enter_in_arrival_order():
    probe = Probe()
    probe.release = asyncio.Event()
    mw = AdmissionMiddleware(probe, limit=1)
    async with client(mw) as c:
        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(c.get(f"/r/{i}")))
            await asyncio.sleep(0.01)  # each one queued before the next arrives
        probe.release.set()
        await asyncio.gather(*tasks)
    assert probe.order == [f"/r/{i}" for i in range(6)]


async def test_the_stream_and_health_checks_are_not_held_back():
    probe = Probe()
    probe.release = asyncio.Event()
    mw = AdmissionMiddleware(probe, limit=1)
    async with client(mw) as c:
        busy = asyncio.create_task(c.get("/r/busy"))
        await asyncio.sleep(0.02)
        assert probe.inside == 1
        queued = asyncio.create_task(c.get("/r/queued"))
        await asyncio.sleep(0.02)
        assert not queued.done()  # the one place is taken
        probe.release.set()
        for path in ("/healthz", "/readyz", "/api/v1/notifications/stream"):
            assert (await c.get(path)).status_code == 200
        await asyncio.gather(busy, queued)


async def test_a_request_counts_only_once_its_body_has_arrived():
    """A slow upload holds no place: requests without a body pass it while its body is still coming."""
    probe = Probe()
    mw = AdmissionMiddleware(probe, limit=1)
    body_may_end = asyncio.Event()

    async def slow_body():
        yield b"part one, "
        await body_may_end.wait()
        yield b"part two"

    async with client(mw) as c:
        upload = asyncio.create_task(c.post("/upload", content=slow_body()))
        await asyncio.sleep(0.02)
        quick = await asyncio.wait_for(c.get("/r/quick"), timeout=2)  # not queued behind the upload
        assert quick.status_code == 200
        body_may_end.set()
        answer = await upload
    assert answer.text == "part one, part two"
    assert probe.order == ["/r/quick", "/upload"]


async def test_a_failing_request_gives_its_place_back():
    probe = Probe()
    mw = AdmissionMiddleware(probe, limit=1)
    async with client(mw) as c:
        assert (await c.get("/boom")).status_code == 500
        answers = await asyncio.wait_for(asyncio.gather(*(c.get(f"/r/{i}") for i in range(3))), timeout=2)
    assert [a.status_code for a in answers] == [200] * 3


@pytest.mark.parametrize("limit", [1, 4])
async def test_the_place_is_given_back_when_the_answer_starts(limit):
    """Every request ends with the gate fully open again (no place leaked on any path)."""
    probe = Probe()
    mw = AdmissionMiddleware(probe, limit=limit)
    async with client(mw) as c:
        await asyncio.gather(*(c.get(f"/r/{i}") for i in range(10)), c.get("/boom"),
                             c.post("/upload", content=b"x" * 10))
    assert mw.in_flight == 0
    assert probe.most <= limit


def test_the_exempt_paths_are_the_apps_stream_and_health_checks():
    """A route moved elsewhere would silently be counted (a stream holding a place for minutes): the paths are the
    app's own."""
    from app.core.admission import EXEMPT
    from app.main import create_app
    from app.notifications.router import STREAM_PATH

    paths = set(create_app().openapi()["paths"])
    assert STREAM_PATH in EXEMPT
    assert EXEMPT == {STREAM_PATH, "/healthz", "/readyz"}
    assert paths >= EXEMPT
