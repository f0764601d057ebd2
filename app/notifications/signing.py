"""Standard Webhooks signatures (https://www.standardwebhooks.com): pure functions, no I/O.

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes. A delivery carries
`webhook-id` (stable across retries), `webhook-timestamp` (unix seconds of the attempt) and
`webhook-signature`: space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret
still valid (two for a while after a rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MESSAGE_PREFIX = "msg_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_event_id() -> str:
    """An event's id: the webhook-id of each of its deliveries is this, '_' and the subscription's id (at most 40
    characters with ids below 10^15)."""
    return MESSAGE_PREFIX + secrets.token_hex(10)


def new_message_id() -> str:
    """A webhook-id: unique, URL-safe, no '.' (the id is part of the signed content)."""
    return MESSAGE_PREFIX + secrets.token_hex(16)


def secret_key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `{id}.{timestamp}.{body}`."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one attempt, signed with every given secret (the current one first)."""
    return {
        "content-type": "application/json",
        "user-agent": "weilinli-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets_),
    }
