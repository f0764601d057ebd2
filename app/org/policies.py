"""Who may administer which part of the grid tree. Pure functions: no database."""

from __future__ import annotations

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.org.models import Grid


def can_read_node(p: Principal, path: str) -> bool:
    return p.in_scope(path)


def can_change_node(p: Principal, path: str) -> bool:
    """Rename or retire a node: strictly inside the scope (the scope node belongs to the level above)."""
    return p.strictly_below_scope(path)


def can_add_child(p: Principal, parent_path: str) -> bool:
    return p.in_scope(parent_path)


def can_manage_owned(p: Principal, owner_path: str) -> bool:
    """Departments and categories hang on a node; an admin whose scope covers that node manages them."""
    return p.in_scope(owner_path)


def visible_grids(p: Principal) -> ColumnElement[bool]:
    if not p.is_admin or not p.scope_path:
        return false()
    return Grid.path.startswith(p.scope_path, autoescape=True)


def community_of(path: str) -> int | None:
    """The community id on a materialised path '/street/community/...', if the path reaches that deep."""
    parts = [x for x in path.split("/") if x]
    return int(parts[1]) if len(parts) >= 2 else None
