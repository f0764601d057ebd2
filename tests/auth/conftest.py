"""Fixtures of the SMS and WeChat sign-in tests: the fake providers on loopback and an app configured for them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from tests.support.fake_providers import WX_APPID, WX_SECRET, FakeProviders, shared


@pytest.fixture(scope="session")
def fake_server() -> FakeProviders:
    return shared()


@pytest.fixture
def fake(fake_server: FakeProviders) -> FakeProviders:
    fake_server.reset()
    return fake_server


@pytest.fixture(scope="session")
def provider_settings(settings: Settings, fake_server: FakeProviders) -> Settings:
    return settings.model_copy(update={
        "sms_provider_url": fake_server.base + "/sms/send", "sms_provider_token": "gw-token-1",
        "wechat_api_url": fake_server.base + "/wx", "wechat_app_secrets": {WX_APPID: WX_SECRET},
        "sms_timeout_seconds": 2.0, "wechat_timeout_seconds": 2.0, "sms_max_per_address": 8})


@pytest.fixture(scope="session")
async def papp(provider_settings: Settings):
    application = create_app(provider_settings)
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def pclient(papp, app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app wired to the fake providers (`app` too: its tables are emptied after each test)."""
    transport = httpx.ASGITransport(app=papp, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
