"""Helpers of the SMS sign-in tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.fake_providers import FakeProviders

CODES = "/api/v1/auth/sms/codes"


async def ask(client: httpx.AsyncClient, phone: str, purpose: str = "login") -> httpx.Response:
    return await client.post(CODES, json={"phone": phone, "purpose": purpose})


async def code_for(client: httpx.AsyncClient, fake: FakeProviders, phone: str, purpose: str = "login") -> str:
    """Ask for a code and read it from the fake gateway (sent right after the request committed)."""
    resp = await ask(client, phone, purpose)
    assert resp.status_code == 202, resp.text
    sent = [m["body"] for m in fake.sms if m["body"]["phone"] == phone and m["body"]["template"] == purpose]
    assert sent, fake.sms
    return sent[-1]["params"]["code"]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@contextmanager
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at INFO and above, the app's own included (its 'weilinli' logger does not
    propagate)."""
    app_logger = logging.getLogger("weilinli")
    old = app_logger.level
    app_logger.addHandler(caplog.handler)
    app_logger.setLevel(logging.INFO)
    caplog.set_level(logging.INFO)  # production's level (LOG_LEVEL=INFO)
    try:
        yield caplog.records
    finally:
        app_logger.removeHandler(caplog.handler)
        app_logger.setLevel(old)


def text_of(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in records)
