"""WeChat's server API, behind a small interface with a configurable base URL (WECHAT_API_URL), issue 18.

- `code2session`: a mini-program's `wx.login` code → the user's openid (and unionid when the app belongs to an
  open-platform account). WeChat answers HTTP 200 with an `errcode` on failure: 40029/40163/40226 (the code is
  invalid, used, or the user is blocked) refuse the sign-in; 45011 (rate limit), -1 (busy), anything else and any
  network failure make WeChat unavailable (503, try again).
- `access_token`: the app's access token (GET /cgi-bin/token), cached in the process until shortly before it
  expires.
- `send_subscription_message`: POST /cgi-bin/message/subscribe/send.

Secrets (the app secret, access tokens, the login code) travel in query strings, as WeChat requires: nothing here
logs a URL, and errors carry only the errcode."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.config import Settings
from app.core.errors import AppError

log = logging.getLogger("weilinli.wechat")

INVALID_CODE = {40029, 40163, 40226}
TOKEN_INVALID = {40001, 42001, 40014}
REFUSED_BY_USER = {43101}  # the user did not subscribe (or used up the acceptance)


class WechatCodeInvalid(AppError):
    status_code = 401
    code = "wechat_code_invalid"


class WechatUnavailable(AppError):
    status_code = 503
    code = "wechat_unavailable"

    def __init__(self, reason: str):
        super().__init__(details={"reason": reason})


@dataclass(frozen=True, slots=True)
class WechatSession:
    openid: str
    unionid: str | None


class WechatApi:
    def __init__(self, settings: Settings):
        self.base = settings.wechat_api_url.rstrip("/")
        self.secrets = settings.wechat_app_secrets
        self.timeout = httpx.Timeout(settings.wechat_timeout_seconds)

    def secret_for(self, appid: str) -> str:
        secret = self.secrets.get(appid)
        if not secret:
            log.error("no WECHAT_APP_SECRETS entry for appid %s", appid)
            raise WechatUnavailable("misconfigured")
        return secret

    async def call(self, method: str, path: str, params: dict[str, str], body: Any = None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
                resp = await client.request(method, self.base + path, params=params, json=body)
        except httpx.HTTPError as exc:
            log.warning("WeChat %s unreachable: %s", path, type(exc).__name__)
            raise WechatUnavailable("unreachable") from None
        if resp.status_code != 200:
            log.warning("WeChat %s answered HTTP %d", path, resp.status_code)
            raise WechatUnavailable("busy")
        try:
            data = resp.json()
        except ValueError:
            raise WechatUnavailable("busy") from None
        return data if isinstance(data, dict) else {}

    async def code2session(self, appid: str, js_code: str) -> WechatSession:
        data = await self.call("GET", "/sns/jscode2session", {
            "appid": appid, "secret": self.secret_for(appid), "js_code": js_code,
            "grant_type": "authorization_code"})
        errcode = int(data.get("errcode") or 0)
        if errcode in INVALID_CODE:
            raise WechatCodeInvalid()
        if errcode == 45011:
            raise WechatUnavailable("rate_limited")
        if errcode or not isinstance(data.get("openid"), str) or not data["openid"]:
            log.warning("WeChat code2session errcode %d", errcode)
            raise WechatUnavailable("misconfigured" if errcode in (40013, 40125) else "busy")
        unionid = data.get("unionid")
        return WechatSession(openid=data["openid"][:128],
                             unionid=unionid[:128] if isinstance(unionid, str) and unionid else None)


class AccessTokens:
    """Access tokens per appid, cached until 5 minutes before WeChat says they expire."""

    MARGIN = 300

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    async def get(self, api: WechatApi, appid: str) -> str:
        cached = self._tokens.get(appid)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        data = await api.call("GET", "/cgi-bin/token", {
            "grant_type": "client_credential", "appid": appid, "secret": api.secret_for(appid)})
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            log.warning("WeChat token errcode %s", data.get("errcode"))
            raise WechatUnavailable("busy")
        ttl = int(data.get("expires_in") or 7200)
        self._tokens[appid] = (token, time.monotonic() + max(60, ttl - self.MARGIN))
        return token

    def forget(self, appid: str) -> None:
        self._tokens.pop(appid, None)


TOKENS = AccessTokens()  # one per process: the worker's sends share it


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    errcode: int | None = None
    retry: bool = True
    error: str | None = None


async def send_subscription_message(api: WechatApi, appid: str, message: dict[str, Any]) -> SendResult:
    """One subscription message; an access token WeChat calls invalid is fetched again once."""
    for _ in range(2):
        token = await TOKENS.get(api, appid)
        data = await api.call("POST", "/cgi-bin/message/subscribe/send", {"access_token": token}, message)
        errcode = int(data.get("errcode") or 0)
        if errcode == 0:
            return SendResult(ok=True)
        if errcode in TOKEN_INVALID:
            TOKENS.forget(appid)
            continue
        return SendResult(ok=False, errcode=errcode, retry=errcode not in REFUSED_BY_USER,
                          error=f"errcode {errcode}")
    return SendResult(ok=False, errcode=40001, error="access token refused twice")
