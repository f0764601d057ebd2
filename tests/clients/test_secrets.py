"""Client ids and secrets: shape, hashing, the id a secret names (pure)."""

from __future__ import annotations

import re

from app.clients import secrets
from app.clients.scopes import SCOPES, Scope, unknown_scopes


def test_client_id_and_secret_shape():
    cid = secrets.new_client_id()
    assert re.fullmatch(r"wlc_[A-Za-z0-9_-]{16}", cid)
    secret = secrets.new_secret(cid)
    head, _, tail = secret.partition(".")
    assert head == cid and re.fullmatch(r"[A-Za-z0-9_-]{43}", tail)
    assert secrets.new_secret(cid) != secret and secrets.new_client_id() != cid


def test_hash_is_sha256_hex_and_compared():
    secret = secrets.new_secret(secrets.new_client_id())
    digest = secrets.hash_secret(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and secret not in digest
    assert secrets.secret_matches(secret, digest)
    assert not secrets.secret_matches(secret + "x", digest)
    assert not secrets.secret_matches(secret, "0" * 64)


def test_client_id_of_splits_at_the_first_dot():
    assert secrets.client_id_of("wlc_abc.def.ghi") == "wlc_abc"
    assert secrets.client_id_of("no-dot") is None
    assert secrets.client_id_of(".tail") is None
    assert secrets.client_id_of("") is None


def test_scopes_are_a_closed_set():
    assert SCOPES == {"reports:read", "reports:write", "bookings:read", "bookings:write", "groups:write",
                      "deliberation:write", "notifications:read", "open311"}
    assert Scope("open311") is Scope.open311
    assert unknown_scopes(["reports:read", "admin", "open311", "reports:*"]) == ["admin", "reports:*"]
