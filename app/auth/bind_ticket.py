"""Bind tickets (pure): a short-lived, signed statement "this WeChat identity (appid, openid, unionid) asked to
sign in", handed to a client whose openid is not bound yet, and brought back with a verified phone number.

`<payload>.<signature>`, both base64url: the payload is JSON, the signature HMAC-SHA256 under a key derived from
the JWT secret. The openid is not secret from the app (WeChat gives it to the app's own server too), so the
ticket is signed, not encrypted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ticket:
    appid: str
    openid: str
    unionid: str | None
    expires: int  # unix seconds


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"weilinli-wechat-bind-ticket", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, ticket: Ticket) -> str:
    payload = _b64(json.dumps({"a": ticket.appid, "o": ticket.openid, "u": ticket.unionid, "e": ticket.expires},
                              separators=(",", ":")).encode())
    return payload + "." + _b64(hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest())


def read(secret: str, text: str, now: float) -> Ticket | None:
    """The ticket, if it is ours, intact and not expired; None otherwise."""
    payload, _, signature = text.partition(".")
    expected = _b64(hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(_unb64(payload))
        ticket = Ticket(appid=str(data["a"]), openid=str(data["o"]),
                        unionid=str(data["u"]) if data.get("u") else None, expires=int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return ticket if ticket.expires > now else None
