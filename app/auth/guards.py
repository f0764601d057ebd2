"""The one admin guard: every service and router that serves admins only calls ensure_admin (scope is then
checked per object by each domain's policies)."""

from __future__ import annotations

from app.auth.principal import Principal
from app.core.errors import NotPermitted


def ensure_admin(p: Principal) -> None:
    """403 for anyone but an admin."""
    if not p.is_admin:
        raise NotPermitted()
