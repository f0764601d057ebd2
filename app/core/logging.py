"""JSON logs carrying the request id and user id; nothing sensitive goes in.

Code should not log secrets in the first place; the formatters are the safety net: every line is scrubbed of
JWTs, bearer credentials, password hashes, `password=`/`token=` pairs and verification codes (`code=123456`,
`sms_code`, WeChat's `js_code`), full mainland phone numbers are
masked (138****8000), and extra fields named like a secret (password, token, secret, authorization ...) are
replaced whatever their value. Exception text is scrubbed too (a database error can quote its parameters).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.core.validators import mask_phone

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"passw|secret|token|authori[sz]ation|cookie|credential|hash|api_?key"
                         r"|sms_?code|verif\w*_?code|otp\b|wx_?code|js_?code", re.IGNORECASE)
_SCRUBS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[jwt]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 " + REDACTED),
    (re.compile(r"\b(Basic)\s+[A-Za-z0-9+/]{8,}={0,2}"), r"\1 " + REDACTED),
    (re.compile(r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/=]+(?:\$[A-Za-z0-9+/=]+)?"),
     "[hash]"),
    (re.compile(r"(?i)((?:password|passwd|secret|token)[\w-]*[\"']?\s*[=:]\s*)([\"'])(?:(?!\2).)*\2"),
     r"\1\2" + REDACTED + r"\2"),
    (re.compile(r"(?i)((?:password|passwd|secret|token)[\w-]*\s*[=:]\s*)(?![\"'\[])[^\s&'\",}]+"),
     r"\1" + REDACTED),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), lambda m: mask_phone(m.group(0))),
    # verification codes (issue 21): `sms_code=123456`, `"code": "123456"`, `js_code=...` (WeChat's wx.login)
    (re.compile(r"(?i)((?:sms_?code|verif\w*_?code|otp|js_?code|wx_?code|\bcode)[\"']?\s*[=:]\s*[\"']?)"
                r"(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{4,64}"), r"\1" + REDACTED),
]


def scrub(text: str) -> str:
    """The text with credentials removed and full phone numbers masked."""
    for pattern, repl in _SCRUBS:
        text = pattern.sub(repl, text)
    return text


def _clean(key: str, value: Any) -> Any:
    if value is not None and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        out.update({k: _clean(k, v) for k, v in record.__dict__.items()
                    if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines (LOG_JSON=false), scrubbed like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else PlainFormatter())
    root = logging.getLogger("weilinli")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # uvicorn runs with log_config=None: its loggers go through the same scrubbing handler (issue 21), not the
    # unformatted last-resort handler. Its access log is left quiet: the app writes its own (weilinli.access,
    # the path without the query string, which may hold a phone number searched for).
    server = logging.getLogger("uvicorn")
    server.handlers[:] = [handler]
    server.setLevel(level.upper())
    server.propagate = False
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # issue 18: httpx logs every request's URL at INFO, and WeChat's API takes the app secret, access tokens and
    # login codes in the query string: only its warnings pass
    logging.getLogger("httpx").setLevel(logging.WARNING)
