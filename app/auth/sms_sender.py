"""Who sends SMS codes: the `SmsSender` interface, the HTTP gateway, and the development log sender.

The HTTP sender POSTs JSON to SMS_PROVIDER_URL: `{"message_id", "phone", "template", "params": {"code"}}`
(Chinese carriers only deliver pre-approved templates, so the gateway fills its own template named by the code's
purpose); the same `message_id` on every attempt lets the gateway drop duplicates. A 2xx is delivered; 429, 5xx
and network errors are tried again; any other status is failed for good.

The log sender writes the code to the log for development: the phone masked, the code only in that one line. It
refuses to exist in production (and Settings.problems() refuses SMS_SENDER=log there at start-up)."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from app.core.config import Env, Settings
from app.core.validators import mask_phone
from app.notifications.provider_outbox import Result

log = logging.getLogger("weilinli.sms")


class SmsSender(Protocol):
    async def send(self, message_id: str, phone: str, purpose: str, code: str) -> Result: ...


class HttpSmsSender:
    def __init__(self, url: str, timeout: float, token: str | None = None):
        self.url, self.timeout, self.token = url, timeout, token

    async def send(self, message_id: str, phone: str, purpose: str, code: str) -> Result:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"message_id": message_id, "phone": phone, "template": purpose, "params": {"code": code}}
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=False,
                                         trust_env=False) as client:
                resp = await client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Result(ok=False, error=f"{type(exc).__name__}")  # never the request: it holds the code
        if resp.is_success:
            return Result(ok=True, status_code=resp.status_code)
        retry = resp.status_code == 429 or resp.status_code >= 500
        return Result(ok=False, status_code=resp.status_code, error=f"gateway answered {resp.status_code}",
                      retry=retry)


class LogSmsSender:
    """Development only: the code goes to the log."""

    def __init__(self, settings: Settings):
        if settings.weilinli_env is Env.production:
            raise RuntimeError("the log SMS sender is refused in production")

    async def send(self, message_id: str, phone: str, purpose: str, code: str) -> Result:
        log.warning("development SMS to %s (%s): code %s", mask_phone(phone), purpose, code)
        return Result(ok=True)


def sender_for(settings: Settings) -> SmsSender | None:
    """The configured sender; None when SMS is off (production without SMS_PROVIDER_URL)."""
    kind: str = settings.sms_sender
    if kind == "auto":
        kind = "http" if settings.sms_provider_url else (
            "log" if settings.weilinli_env is not Env.production else "off")
    if kind == "http":
        if not settings.sms_provider_url:
            raise RuntimeError("SMS_SENDER=http needs SMS_PROVIDER_URL")
        return HttpSmsSender(settings.sms_provider_url, settings.sms_timeout_seconds, settings.sms_provider_token)
    if kind == "log":
        return LogSmsSender(settings)
    return None
