"""The closed set of scopes an app can be granted (pure: no I/O)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    reports_read = "reports:read"
    reports_write = "reports:write"
    bookings_read = "bookings:read"
    bookings_write = "bookings:write"
    groups_write = "groups:write"
    deliberation_write = "deliberation:write"
    notifications_read = "notifications:read"
    open311 = "open311"


SCOPES: frozenset[str] = frozenset(s.value for s in Scope)


def unknown_scopes(names: list[str] | tuple[str, ...] | frozenset[str]) -> list[str]:
    """The names that are not scopes, in the order given."""
    return [n for n in names if n not in SCOPES]
