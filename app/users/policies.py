"""Who may see and manage which accounts. Pure functions over the account's anchor paths."""

from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.org.models import Department, Grid
from app.users.models import Role, User, UserGrid


def anchor_ok(p: Principal, role: Role, path: str) -> bool:
    """One anchor of an account lies below the admin's scope. An admin account's anchor is its scope node, which
    must be strictly below (an admin never manages an equal); a building, grid or department hangs from its node,
    so one in the scope's subtree (the scope node included) is below it."""
    return p.strictly_below_scope(path) if role is Role.admin else p.in_scope(path)


def can_manage_user(p: Principal, role: Role, anchor_paths: list[str]) -> bool:
    """An admin reads, disables and rebinds an account only when every anchor of it (home, grids, department or
    scope) lies below their own scope: a grid worker bound in two communities is the street's to manage."""
    return p.is_admin and bool(anchor_paths) and all(anchor_ok(p, role, a) for a in anchor_paths)


def can_rebind_own_grids(p: Principal, role: Role, anchor_paths: list[str]) -> bool:
    """A grid worker bound partly inside an admin's scope: that admin may change the bindings inside it."""
    return p.is_admin and role is Role.grid_worker and any(p.in_scope(a) for a in anchor_paths)


def can_change_self(p: Principal, user_id: int) -> bool:
    """An admin may not deactivate or rebind their own account (another admin does that)."""
    return p.user_id != user_id


def visible_users(p: Principal) -> ColumnElement[bool]:
    """SQL: accounts an admin may see; the same rule as can_manage_user (every anchor below the scope)."""
    if not p.is_admin or not p.scope_path:
        return false()
    in_scope = select(Grid.id).where(Grid.path.startswith(p.scope_path, autoescape=True))
    below = in_scope.where(Grid.id != p.scope_grid_id)
    return or_(
        and_(User.role == Role.resident, User.building_id.in_(in_scope)),
        and_(User.role == Role.admin, User.scope_grid_id.in_(below)),
        and_(User.role == Role.department,
             User.department_id.in_(select(Department.id).where(Department.grid_id.in_(in_scope)))),
        and_(User.role == Role.grid_worker,
             exists().where(UserGrid.user_id == User.id),
             ~exists().where(UserGrid.user_id == User.id, UserGrid.grid_id.not_in(in_scope))),
    )
