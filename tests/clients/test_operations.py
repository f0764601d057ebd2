"""Every operation has a scope rule (or is explicitly first-party only / open to any token), and the rules behave."""

from __future__ import annotations

import pytest

from app.clients.operations import FIRST_PARTY, NONE, RULES, Need, allowed, need_for
from app.clients.scopes import SCOPES
from app.openapi import current_openapi

METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def test_every_operation_is_covered_by_a_rule_and_documented():
    doc = current_openapi()
    uncovered = [f"{m} {p}" for m, p, _ in _operations(doc) if need_for(m, p) is None]
    assert uncovered == [], "add these paths to app/clients/operations.RULES: " + ", ".join(uncovered)
    for method, path, op in _operations(doc):
        need = need_for(method, path)
        assert op["x-client-scopes"] == sorted(need.any_of), (method, path)
        assert op.get("x-first-party-only", False) is need.first_party, (method, path)
        assert set(op["x-client-scopes"]) <= SCOPES


def test_the_rules_name_only_real_scopes():
    for reads, writes in RULES.values():
        assert reads.any_of <= SCOPES and writes.any_of <= SCOPES


@pytest.mark.parametrize("method, path, scopes, ok", [
    ("GET", "/api/v1/reports", frozenset({"reports:read"}), True),
    ("GET", "/api/v1/reports/{report_id}", frozenset({"reports:write"}), True),  # a write scope reads too
    ("POST", "/api/v1/reports", frozenset({"reports:read"}), False),
    ("POST", "/api/v1/reports/{report_id}/steps", frozenset({"reports:write"}), True),
    ("POST", "/api/v1/bookings", frozenset({"bookings:read"}), False),
    ("POST", "/api/v1/bookings", frozenset({"bookings:write"}), True),
    ("GET", "/api/v1/me", frozenset(), True),
    ("POST", "/api/v1/auth/logout", frozenset(), True),
    ("GET", "/api/v1/admin/clients", SCOPES, False),
    ("GET", "/api/v1/stats/figures", SCOPES, False),
    ("POST", "/api/v1/announcements", SCOPES, False),
    ("GET", "/api/v1/announcements", frozenset(), True),
    ("GET", "/api/v1/nowhere/covered", SCOPES, False),   # no rule: refused to apps (fail closed)
    ("GET", "/api/v1/reportsx", frozenset({"reports:read"}), False),  # a prefix is a whole path segment
    ("GET", "/api/v1/stats/reports.csv", SCOPES, False),
    ("GET", "/api/v1/admin/clients", None, True),       # first party: unrestricted
    ("GET", "/api/v1/nowhere/covered", None, True),
])
def test_allowed(method, path, scopes, ok):
    assert allowed(method, path, scopes)[0] is ok


def test_need_describes_itself():
    assert NONE.describe() == "none" and FIRST_PARTY.describe() == "first_party"
    assert Need(frozenset({"b", "a"})).describe() == "a | b"
