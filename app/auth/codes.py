"""SMS code values (pure): six digits from `secrets`, kept only as an HMAC under a server key.

Six digits are a million values: a plain hash in a leaked table is reversed in a blink, a keyed one is not
without the key (derived from the JWT secret, which never sits in the database)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

DIGITS = 6
TTL_SECONDS = 300  # five minutes (issue 18)
MAX_ATTEMPTS = 5   # the fifth wrong try kills the code
PURPOSES = ("login", "register", "reset_password", "bind", "erase")


def new_code() -> str:
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def code_hash(key: str, phone: str, purpose: str, code: str) -> str:
    """Bound to the number and purpose: a code sent for a login does not reset a password."""
    derived = hmac.new(key.encode(), b"weilinli-sms-code", hashlib.sha256).digest()
    return hmac.new(derived, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def matches(key: str, phone: str, purpose: str, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hash(key, phone, purpose, code), stored)
