"""An SMS gateway on loopback whose inbox can be read: the guide's test and the TypeScript client's journey sign in
with SMS codes through it (the app's own HTTP sender talks to it through SMS_PROVIDER_URL; nothing is patched)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@contextmanager
def sms_gateway() -> Iterator[str]:
    """An SMS gateway on loopback: POST /sms/send records the code sent to a phone (as SMS_PROVIDER_URL receives
    it), GET /inbox?phone=... lists the codes that phone received, newest first. Yields its base URL."""
    inbox: dict[str, list[str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            sms = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            inbox.setdefault(sms["phone"], []).insert(0, sms["params"]["code"])
            self._json(200, {"ok": True})

        def do_GET(self) -> None:
            phone = parse_qs(urlparse(self.path).query).get("phone", [""])[0]
            self._json(200, inbox.get(phone, []))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
