"""Admission: at most N requests are worked on at once in a process; the others wait their turn, first come first
served (issue 15, decisions "Admission").

One event loop shares its CPU among every request in flight. When a burst keeps 64 requests in flight, each await
of each request waits a whole round of the other 63 before it runs again, so a request's latency grows with how
many times it awaits (a booking that takes a place: ~11 round trips) rather than with its own work: a flash crowd's
bookings answered in 1–2 s while its refusals took ~0.2 s. Admitting a few at a time and queueing the rest keeps the
rounds short: a request waits in the queue for those before it, then runs nearly alone.

A request counts from the moment its body has arrived (a slow upload holds no place) to the moment its answer
starts (the unit of work has committed by then; a slow reader holds no place either). Not counted: the live
notification stream (it lasts for minutes) and the health checks (they must answer while the process is busy).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT = frozenset({"/api/v1/notifications/stream", "/healthz", "/readyz"})


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, limit: int, exempt: frozenset[str] = EXEMPT):
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.in_flight = 0  # requests admitted and not yet answering
        self._gate: asyncio.Semaphore | None = None  # made on the serving loop, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        gate = self._gate
        admitted = False

        async def admit() -> None:
            nonlocal admitted
            if not admitted:
                await gate.acquire()
                admitted = True
                self.in_flight += 1

        def leave() -> None:
            nonlocal admitted
            if admitted:
                admitted = False
                self.in_flight -= 1
                gate.release()

        async def receive_then_admit() -> Message:
            msg = await receive()
            if msg["type"] == "http.request" and not msg.get("more_body", False):
                await admit()
            return msg

        async def send_and_leave(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                leave()
            await send(msg)

        try:
            if not _has_body(scope):
                await admit()
            await self.app(scope, receive_then_admit, send_and_leave)
        finally:
            leave()
