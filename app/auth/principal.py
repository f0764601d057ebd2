"""Who is asking: a frozen Principal built once per request from the token and the user row."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.users.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: Role
    building_id: int | None = None
    community_id: int | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    department_id: int | None = None
    scope_grid_id: int | None = None
    scope_path: str | None = None  # admin: materialised path of the scope node, e.g. '/1/4/'
    scope_level: str | None = None  # admin: level of the scope node (street, community, grid, building)
    client_id: str | None = None  # the registered app the token was issued through (None: first party)
    scopes: frozenset[str] | None = None  # that app's scopes (None: a first-party token, no scope restriction)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def in_scope(self, path: str | None) -> bool:
        """True when a node with this materialised path lies in the admin's subtree (scope node included)."""
        return bool(self.is_admin and self.scope_path and path and path.startswith(self.scope_path))

    def strictly_below_scope(self, path: str | None) -> bool:
        return self.in_scope(path) and path != self.scope_path
