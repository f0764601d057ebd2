"""Assertions shared by the API tests."""

from __future__ import annotations

import httpx


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict:
    """The response is an error in the one envelope, with this status (and code)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    assert resp.headers.get("x-request-id")
    return body["error"]


def has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)
