"""The logging safety net (issue 21, item 3): verification codes are redacted, and uvicorn's own loggers write
through the app's scrubbing handler."""

from __future__ import annotations

import io
import logging

import pytest

from app.core import logging as app_logging
from app.core.logging import configure_logging, scrub


@pytest.mark.parametrize(("text", "gone"), [
    ("sms_code=482913 sent", "482913"),
    ('{"code": "482913"}', "482913"),
    ("verification_code: 654321", "654321"),
    ("wx.login js_code=0a1B2c3D4e5F", "0a1B2c3D4e5F"),
    ("call 13812345678", "13812345678"),
])
def test_scrub_removes_codes_and_numbers(text, gone):
    assert gone not in scrub(text)


@pytest.mark.parametrize("text", ["error code: stale_version", "code=invalid_transition", "status code 404"])
def test_scrub_keeps_error_codes(text):
    assert scrub(text) == text


def test_uvicorn_logs_are_scrubbed_and_its_access_log_is_quiet(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(app_logging.sys, "stderr", stream)
    server, access = logging.getLogger("uvicorn"), logging.getLogger("uvicorn.access")
    own = logging.getLogger("weilinli")
    saved = (server.handlers[:], server.level, server.propagate, access.level, own.handlers[:], own.level)
    try:
        configure_logging("INFO", json_logs=True)
        logging.getLogger("uvicorn.error").error("Exception in ASGI application: phone 13812345678 sms_code=123456")
        access.info('127.0.0.1 - "GET /api/v1/admin/users?q=13812345678 HTTP/1.1" 200')
        out = stream.getvalue()
        assert "138****5678" in out and "Exception in ASGI application" in out
        assert "13812345678" not in out and "123456" not in out
        assert "/api/v1/admin/users" not in out  # uvicorn's access line (with the query string) is not written
    finally:
        server.handlers[:], server.level, server.propagate = saved[0], saved[1], saved[2]
        access.setLevel(saved[3])
        own.handlers[:] = saved[4]
        own.setLevel(saved[5])
