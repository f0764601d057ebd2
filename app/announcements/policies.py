"""Who publishes and who reads announcements. Pure: no database."""

from __future__ import annotations

from app.auth.principal import Principal
from app.users.roles import Role


def ancestors(path: str) -> list[int]:
    """The node ids on a materialised path '/1/4/9/' (the node itself included)."""
    return [int(x) for x in path.split("/") if x]


def can_publish(p: Principal, target_path: str) -> bool:
    """Admins publish to nodes in their scope (their scope node included)."""
    return p.in_scope(target_path)


def reads_as_resident(p: Principal) -> bool:
    return p.role is Role.resident


def can_read(p: Principal, target_path: str, home_path: str | None) -> bool:
    """Residents: announcements for a node above (or at) their building. Admins: those in their scope."""
    if p.role is Role.resident:
        return home_path is not None and home_path.startswith(target_path)
    return p.in_scope(target_path)
