"""SMS codes without HTTP: their values and hashes, and which sender each configuration gets (issue 18)."""

from __future__ import annotations

import pytest

from app.auth import codes
from app.auth.sms_sender import HttpSmsSender, LogSmsSender, sender_for
from app.core.config import Env, Settings, UnsafeSettings
from app.main import create_app
from tests.auth.sms_helpers import CODES
from tests.helpers import assert_error

PROD = {"weilinli_env": Env.production, "jwt_secret": "k" * 48}


def test_codes_are_six_digits_and_vary():
    seen = {codes.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in seen)
    assert len(seen) > 150


def test_a_code_hash_is_keyed_and_bound_to_number_and_purpose():
    h = codes.code_hash("key-1", "13800000000", "login", "123456")
    assert codes.matches("key-1", "13800000000", "login", "123456", h)
    assert not codes.matches("key-2", "13800000000", "login", "123456", h)
    assert not codes.matches("key-1", "13800000001", "login", "123456", h)
    assert not codes.matches("key-1", "13800000000", "reset_password", "123456", h)
    assert not codes.matches("key-1", "13800000000", "login", "123457", h)
    assert "123456" not in h


def test_the_log_sender_is_refused_in_production():
    assert any("SMS_SENDER" in p for p in Settings(**PROD, sms_sender="log").problems())
    with pytest.raises(UnsafeSettings, match="SMS_SENDER"):
        create_app(Settings(**PROD, sms_sender="log"))
    with pytest.raises(RuntimeError):
        LogSmsSender(Settings(**PROD))


def test_which_sender_each_configuration_gets():
    assert isinstance(sender_for(Settings(weilinli_env=Env.development)), LogSmsSender)
    assert sender_for(Settings(**PROD)) is None  # production without a gateway: no SMS, never the log
    assert isinstance(sender_for(Settings(**PROD, sms_provider_url="https://sms.example/send")), HttpSmsSender)
    with pytest.raises(RuntimeError):
        sender_for(Settings(weilinli_env=Env.development, sms_sender="http"))


def test_settings_parse_the_wechat_secrets_and_sms_schedule():
    s = Settings(wechat_app_secrets="wxa=sa, wxb=sb", sms_retry_schedule="3,9")
    assert s.wechat_app_secrets == {"wxa": "sa", "wxb": "sb"} and s.sms_retry_schedule == (3, 9)
    with pytest.raises(ValueError):
        Settings(wechat_app_secrets="wxa")
    with pytest.raises(ValueError):
        Settings(sms_retry_schedule="1000")


async def test_without_a_gateway_in_production_codes_answer_503(settings, world):
    import httpx

    prod = create_app(settings.model_copy(update={
        "weilinli_env": Env.production, "password_time_cost": 2, "password_memory_kib": 19456}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=prod), base_url="http://test") as c:
            resp = await c.post(CODES, json={"phone": "13700000009", "purpose": "login"})
        assert_error(resp, 503, "service_unavailable")
    finally:
        await prod.state.db.dispose()
