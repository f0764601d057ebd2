"""An SMS gateway on loopback whose inbox can be read: the guide's test and the TypeScript client's journey sign in
with SMS codes through it (the app's own HTTP sender talks to it through SMS_PROVIDER_URL; nothing is patched).
It is the tests' one fake gateway (tests/support/fake_providers.py), started for the caller alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.fake_providers import FakeProviders


@contextmanager
def sms_gateway() -> Iterator[str]:
    """An SMS gateway on loopback: POST /sms/send records the code sent to a phone (as SMS_PROVIDER_URL receives
    it), GET /inbox?phone=... lists the codes that phone received, newest first. Yields its base URL."""
    fake = FakeProviders().start()
    try:
        yield fake.base
    finally:
        fake.stop()
