"""A lean HTTP/1.1 load driver: one keep-alive socket per connection, requests encoded once, per-request latency.

Why not httpx: its connection pool costs more CPU per request than the server's cheapest endpoints on this 2-core
machine, and its pool hands connections out unfairly under 64 concurrent tasks. Measured on the report detail
endpoint, 64 connections, one uvicorn worker, same server: httpx 398 req/s, p99 1,004 ms; wrk 1,447 req/s, p99
67 ms. wrk cannot send each of 2,000 requests exactly once with its own token and report each latency, so the
bench drives with this instead: plain asyncio streams, a request is bytes built before the clock starts.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Outcome:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # transport errors and 5xx
    by_status: list[int] = field(default_factory=list)  # the status of each latency
    server_cpu: float = 0.0  # CPU seconds the server spent, when the caller measured it

    def pct(self, p: float, status: int | None = None) -> float:
        """The p-th percentile (0-100) of the latencies (of one status, when given), in ms (nearest rank)."""
        xs = sorted(t for t, s in zip(self.latencies, self.by_status, strict=True) if status in (None, s))
        return xs[min(len(xs) - 1, max(0, int(len(xs) * p / 100 + 0.999) - 1))] * 1000 if xs else 0.0


def encode(host: str, method: str, path: str, token: str | None, body: Any = None) -> bytes:
    """One request as bytes (JSON body when `body` is not None)."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    elif method in ("POST", "PUT", "PATCH"):
        head.append("Content-Length: 0")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) of one response, body read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep


async def drive(base_url: str, reqs: list[bytes], connections: int, seconds: float | None = None) -> Outcome:
    """Send the encoded requests over `connections` keep-alive sockets: each once (seconds None), or cycling
    until `seconds` have passed."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    out = Outcome(0.0)
    next_i = 0
    deadline = 0.0

    async def worker() -> None:
        nonlocal next_i
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                if seconds is None and next_i >= len(reqs):
                    return
                if seconds is not None and time.perf_counter() >= deadline:
                    return
                raw = reqs[next_i % len(reqs)]
                next_i += 1
                t = time.perf_counter()
                try:
                    writer.write(raw)
                    status, keep = await _read_response(reader)
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    out.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                out.latencies.append(time.perf_counter() - t)
                out.by_status.append(status)
                out.statuses[status] = out.statuses.get(status, 0) + 1
                if status >= 500:
                    out.errors += 1
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    started = time.perf_counter()
    deadline = started + (seconds or 0)
    await asyncio.gather(*(worker() for _ in range(connections)))
    out.seconds = time.perf_counter() - started
    return out
