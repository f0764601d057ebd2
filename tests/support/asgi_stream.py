"""Reading an endless response (Server-Sent Events) from the app in-process.

httpx's ASGITransport returns a response only once the app has finished it, which a live stream never does. This
drives the ASGI app directly: the status and headers arrive as soon as the app starts the response, body chunks as
they are sent, and `close()` tells the app the client went away (as a real disconnection does).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlencode


class AsgiStream:
    def __init__(self, app: Any, path: str, headers: dict[str, str] | None = None,
                 params: dict[str, Any] | None = None):
        self.app, self.path = app, path
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.query = urlencode(params or {})
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.finished = False  # the app ended the response
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._started = asyncio.Event()
        self._gone = asyncio.Event()
        self._requested = False
        self._task: asyncio.Task[None] | None = None
        self._buffer = b""

    async def __aenter__(self) -> AsgiStream:
        return await self.open()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def open(self, within: float = 5.0) -> AsgiStream:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": self.path, "raw_path": self.path.encode(),
                 "query_string": self.query.encode(), "root_path": "",
                 "headers": [(k.encode(), v.encode()) for k, v in self.headers.items()],
                 "client": ("127.0.0.1", 50000), "server": ("test", 80)}
        self._task = asyncio.create_task(self._run(scope))
        await asyncio.wait_for(self._started.wait(), within)
        return self

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._receive, self._send)
        finally:
            self.finished = True
            self._started.set()
            self._chunks.put_nowait(b"")

    async def _receive(self) -> dict[str, Any]:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            self._started.set()
        elif message["type"] == "http.response.body":
            if message.get("body"):
                self._chunks.put_nowait(message["body"])

    async def read_until(self, marker: bytes, within: float = 5.0) -> bytes:
        """Everything up to and including the first `marker` not read yet (TimeoutError if it does not come)."""
        async def more() -> None:
            while marker not in self._buffer:
                chunk = await self._chunks.get()
                if not chunk and self.finished:
                    raise EOFError(f"stream ended before {marker!r}; got {self._buffer!r}")
                self._buffer += chunk

        await asyncio.wait_for(more(), within)
        cut = self._buffer.index(marker) + len(marker)
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return out

    async def events(self, n: int, within: float = 5.0) -> list[dict[str, str]]:
        """The next n events (comments skipped), each as its fields."""
        out: list[dict[str, str]] = []
        while len(out) < n:
            block = (await self.read_until(b"\n\n", within)).decode()
            fields = dict(line.split(": ", 1) for line in block.strip().splitlines()
                          if line and not line.startswith(":") and ": " in line)
            if fields and "retry" not in fields:
                out.append(fields)
        return out

    async def rest(self, within: float = 5.0) -> bytes:
        """Everything until the app ends the response."""
        async def drain() -> bytes:
            while not self.finished or not self._chunks.empty():
                self._buffer += await self._chunks.get()
            return self._buffer

        return await asyncio.wait_for(drain(), within)

    async def close(self) -> None:
        self._gone.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
