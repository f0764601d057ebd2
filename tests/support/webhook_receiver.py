"""A tiny real HTTP server on loopback that receives webhooks: it records every request and answers with the
statuses it is given, in order (then 200)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0            # seconds before answering
    location: str | None = None   # Location header of 3xx answers
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(path, headers, body))
            status = self.statuses.pop(0) if self.statuses else 200
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = f"status {status}".encode()
            extra = f"Location: {self.location}\r\n" if self.location and 300 <= status < 400 else ""
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {len(answer)}\r\n"
                         f"{extra}Connection: close\r\n\r\n".encode() + answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
