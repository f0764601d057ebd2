"""Fake SMS gateway and WeChat API, served for real on loopback (a ThreadingHTTPServer in a thread on
127.0.0.1:0), recording what the app sends them (issue 18). Not a monkeypatch: the app's own HTTP clients talk
to it through the configured base URLs (SMS_PROVIDER_URL, WECHAT_API_URL).

- POST /sms/send: records the JSON; answers the next status of `sms_statuses` (then 200).
- GET  /inbox?phone=...: the codes that phone received, newest first (for clients outside Python, e.g. the
  TypeScript journey, that read their code over HTTP).
- GET  /wx/sns/jscode2session: `wx_codes[js_code]` = (openid, unionid) or an errcode; an unknown code: 40029.
  The appid and secret must be one of `wx_apps`.
- GET  /wx/cgi-bin/token: an access token for a known appid+secret (counted in `token_fetches`).
- POST /wx/cgi-bin/message/subscribe/send: records the JSON; answers the next of `subscribe_statuses` (then 200
  with errcode 0); a wrong access token gets errcode 40001.
- `down = True`: every connection is closed without an answer (an unreachable provider).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeProviders:
    wx_apps: dict[str, str] = field(default_factory=dict)          # appid -> secret
    wx_codes: dict[str, Any] = field(default_factory=dict)         # js_code -> (openid, unionid) | errcode int
    sms: list[dict[str, Any]] = field(default_factory=list)
    sms_statuses: list[int] = field(default_factory=list)
    sessions: list[dict[str, str]] = field(default_factory=list)   # code2session queries received
    subscribe: list[dict[str, Any]] = field(default_factory=list)
    subscribe_statuses: list[int] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)               # openids that did not subscribe: errcode 43101
    tokens: dict[str, str] = field(default_factory=dict)           # access token -> appid
    token_fetches: int = 0
    down: bool = False
    on_sms: Any = None  # called with each SMS body before the gateway answers (in the server's thread)
    port: int = 0

    def start(self) -> FakeProviders:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                return json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"null")

            def do_GET(self) -> None:
                if fake.down:
                    self.close_connection = True
                    return
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/inbox":
                    return self._answer(200, fake.sms_codes_to(q.get("phone", ""))[::-1])
                known = fake.wx_apps.get(q.get("appid", "")) == q.get("secret") and q.get("secret")
                if url.path == "/wx/sns/jscode2session":
                    fake.sessions.append(q)
                    if not known:
                        return self._answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
                    found = fake.wx_codes.get(q.get("js_code", ""))
                    if found is None:
                        return self._answer(200, {"errcode": 40029, "errmsg": "invalid code"})
                    if isinstance(found, int):
                        return self._answer(200, {"errcode": found, "errmsg": "error"})
                    openid, unionid = found
                    out = {"openid": openid, "session_key": secrets.token_urlsafe(16)}
                    if unionid:
                        out["unionid"] = unionid
                    return self._answer(200, out)
                if url.path == "/wx/cgi-bin/token":
                    if not known:
                        return self._answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
                    fake.token_fetches += 1
                    token = "AT_" + secrets.token_urlsafe(12)
                    fake.tokens[token] = q["appid"]
                    return self._answer(200, {"access_token": token, "expires_in": 7200})
                return self._answer(404, {"errcode": 404})

            def do_POST(self) -> None:
                if fake.down:
                    self.close_connection = True
                    return
                url = urlparse(self.path)
                if url.path == "/sms/send":
                    body = self._body()
                    if fake.on_sms is not None:
                        fake.on_sms(body)
                    fake.sms.append({"body": body, "authorization": self.headers.get("authorization")})
                    status = fake.sms_statuses.pop(0) if fake.sms_statuses else 200
                    return self._answer(status, {"ok": status == 200})
                if url.path == "/wx/cgi-bin/message/subscribe/send":
                    token = parse_qs(url.query).get("access_token", [""])[0]
                    body = self._body()
                    status = fake.subscribe_statuses.pop(0) if fake.subscribe_statuses else 200
                    if status != 200:
                        return self._answer(status, {"error": "server error"})
                    if token not in fake.tokens:
                        return self._answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
                    if body.get("touser") in fake.refusing:
                        return self._answer(200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"})
                    fake.subscribe.append({"appid": fake.tokens[token], **body})
                    return self._answer(200, {"errcode": 0, "errmsg": "ok"})
                return self._answer(404, {"errcode": 404})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-providers", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sms_codes_to(self, phone: str) -> list[str]:
        return [m["body"]["params"]["code"] for m in self.sms if m["body"]["phone"] == phone]

    def reset(self) -> None:
        self.sms.clear()
        self.sms_statuses.clear()
        self.sessions.clear()
        self.subscribe.clear()
        self.subscribe_statuses.clear()
        self.wx_codes.clear()
        self.token_fetches = 0
        self.tokens.clear()
        self.refusing.clear()
        self.on_sms = None
        self.down = False


WX_APPID = "wx_test_app_1"
WX_SECRET = "wx-secret-" + "q" * 22
_SHARED: FakeProviders | None = None


def shared() -> FakeProviders:
    """The test session's one fake (started on first use; a daemon thread, gone with the process): the session's
    settings point WECHAT_API_URL at it, so no test ever calls the real WeChat."""
    global _SHARED
    if _SHARED is None:
        _SHARED = FakeProviders(wx_apps={WX_APPID: WX_SECRET}).start()
    return _SHARED
