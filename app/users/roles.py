"""The roles of an account: a plain enum, kept out of the ORM module so pure modules (lifecycles, the principal)
need no models."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"
    department = "department"
    admin = "admin"


STAFF_ROLES = frozenset({Role.grid_worker, Role.department, Role.admin})
