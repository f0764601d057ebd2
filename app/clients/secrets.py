"""Client ids and secrets (pure: no I/O).

A secret is '<client_id>.<43 url-safe chars>' (256 random bits), shown once. It is stored as its sha256 hex digest:
with that much entropy a slow password hash adds nothing, and a fast one keeps every server-to-server call cheap.
The secret names its own app (the part before the first '.'), so a server presents one string."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CLIENT_ID_PREFIX = "wlc_"


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(12)  # 16 url-safe characters


def new_secret(client_id: str) -> str:
    return f"{client_id}.{secrets.token_urlsafe(32)}"  # 43 url-safe characters


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of the presented secret's digest with the stored one."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def client_id_of(secret: str) -> str | None:
    """The client id a secret names (None when it has no '.')."""
    head, dot, _ = secret.partition(".")
    return head if dot and head else None
