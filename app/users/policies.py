"""Who may see and manage which accounts. Pure functions over the account's anchor paths."""

from __future__ import annotations

from sqlalchemy import exists, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.org.models import Department, Grid
from app.users.models import User, UserGrid


def can_manage_user(p: Principal, anchor_paths: list[str]) -> bool:
    """An admin manages an account anchored (home, grids, department or scope) inside their subtree."""
    return p.is_admin and any(p.in_scope(path) for path in anchor_paths)


def can_change_self(p: Principal, user_id: int) -> bool:
    """An admin may not deactivate or rebind their own account (another admin does that)."""
    return p.user_id != user_id


def visible_users(p: Principal) -> ColumnElement[bool]:
    """SQL: accounts an admin may see; the same rule as can_manage_user."""
    if not p.is_admin or not p.scope_path:
        return false()
    in_scope = select(Grid.id).where(Grid.path.startswith(p.scope_path, autoescape=True))
    return or_(
        User.building_id.in_(in_scope),
        User.scope_grid_id.in_(in_scope),
        User.department_id.in_(select(Department.id).where(Department.grid_id.in_(in_scope))),
        exists().where(UserGrid.user_id == User.id, UserGrid.grid_id.in_(in_scope)),
    )
