"""Grid tree, departments and categories: the rules of creating, changing and retiring them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.db.helpers import flush_or_conflict
from app.org import policies
from app.org.models import PARENT_LEVEL, Category, Department, Grid, GridLevel
from app.org.schemas import (
    CategoryCreate,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    GridCreate,
    GridUpdate,
)


async def _paged(db: AsyncSession, stmt: Select, id_col, cursor: str | None, limit: int) -> tuple[list, str | None]:
    rows = (await db.execute(keyset(stmt, [id_col], [int], cursor, limit))).scalars().all()
    return page_of(rows, limit, lambda r: [r.id])


# ---- lookups used by other domains --------------------------------------------------------------------------


def check_active_node(found: bool, retired_at: datetime | None, node_level: str | None, grid_id: int,
                      level: GridLevel | None = None) -> None:
    """422 invalid_reference unless the node was found, is active, and is of `level` (when given)."""
    if not found or retired_at is not None or (level and node_level != level):
        raise InvalidInput("invalid_reference", {"grid_id": grid_id, "level": level})


async def active_node(db: AsyncSession, grid_id: int, level: GridLevel | None = None) -> Grid:
    """An active node (optionally of a level), or 422 invalid_reference."""
    grid = await db.get(Grid, grid_id)
    check_active_node(grid is not None, grid and grid.retired_at, grid and grid.level, grid_id, level)
    return grid


async def active_department(db: AsyncSession, department_id: int) -> tuple[Department, str]:
    row = (await db.execute(select(Department, Grid.path).join(Grid, Grid.id == Department.grid_id)
                             .where(Department.id == department_id))).one_or_none()
    if row is None or row[0].retired_at is not None:
        raise InvalidInput("invalid_reference", {"department_id": department_id})
    return row[0], row[1]


async def department_owner_path(db: AsyncSession, department_id: int) -> str | None:
    """The path of the node owning a department, retired or not: its staff stay anchored there."""
    return (await db.execute(select(Grid.path).join(Department, Department.grid_id == Grid.id)
                             .where(Department.id == department_id))).scalar_one_or_none()


# ---- grids --------------------------------------------------------------------------------------------------


async def get_grid(db: AsyncSession, p: Principal, grid_id: int) -> Grid:
    ensure_admin(p)
    grid = await db.get(Grid, grid_id)
    if grid is None or not policies.can_read_node(p, grid.path):
        raise NotFound()
    return grid


async def list_grids(db: AsyncSession, p: Principal, *, parent_id: int | None, level: GridLevel | None,
                     q: str | None, include_retired: bool, limit: int, cursor: str | None):
    ensure_admin(p)
    stmt = select(Grid).where(policies.visible_grids(p))
    if parent_id is not None:
        stmt = stmt.where(Grid.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(Grid.level == level)
    if q:
        stmt = stmt.where(Grid.name.contains(q, autoescape=True))
    if not include_retired:
        stmt = stmt.where(Grid.retired_at.is_(None))
    return await _paged(db, stmt, Grid.id, cursor, limit)


async def add_node(db: AsyncSession, *, parent: Grid | None, level: GridLevel, name: str,
                   code: str | None = None) -> Grid:
    """Insert a node and set its materialised path (needs the id, so two statements)."""
    grid = Grid(parent_id=parent.id if parent else None, level=level, name=name, code=code, path="")
    db.add(grid)
    await flush_or_conflict(db, "code_taken")
    grid.path = f"{parent.path if parent else '/'}{grid.id}/"
    await db.flush()
    return grid


async def create_grid(db: AsyncSession, p: Principal, data: GridCreate) -> Grid:
    ensure_admin(p)
    parent = await db.get(Grid, data.parent_id)
    if parent is None or not policies.can_read_node(p, parent.path):
        raise InvalidInput("invalid_reference", {"parent_id": data.parent_id})
    if not policies.can_add_child(p, parent.path):
        raise NotPermitted()
    if data.level is GridLevel.street or PARENT_LEVEL[data.level] != parent.level or parent.retired_at:
        raise InvalidInput("invalid_parent", {"parent_level": parent.level, "level": data.level})
    grid = await add_node(db, parent=parent, level=data.level, name=data.name, code=data.code)
    audit.record(db, p.user_id, "grid.create", "grid", grid.id, name=grid.name, level=grid.level)
    return grid


def _apply(obj: Any, changes: dict[str, Any], not_null: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    """Set the changed fields and return them; an explicit null for a required field is a 422."""
    for k in not_null:
        if k in changes and changes[k] is None:
            raise InvalidInput("validation_error", {"field": k, "reason": "must not be null"})
    changed = {k: v for k, v in changes.items() if getattr(obj, k) != v}
    for k, v in changed.items():
        setattr(obj, k, v)
    return changed


async def update_grid(db: AsyncSession, p: Principal, grid_id: int, data: GridUpdate) -> Grid:
    grid = await get_grid(db, p, grid_id)
    if not policies.can_change_node(p, grid.path):
        raise NotPermitted()
    changed = _apply(grid, data.model_dump(exclude_unset=True))
    await flush_or_conflict(db, "code_taken")
    if changed:
        audit.record(db, p.user_id, "grid.update", "grid", grid.id, **changed)
    return grid


async def retire_grid(db: AsyncSession, p: Principal, grid_id: int) -> Grid:
    grid = await get_grid(db, p, grid_id)
    if not policies.can_change_node(p, grid.path):
        raise NotPermitted()
    if grid.retired_at is None:
        child = (await db.execute(select(Grid.id).where(Grid.parent_id == grid.id, Grid.retired_at.is_(None))
                                  .limit(1))).scalar_one_or_none()
        if child is not None:
            raise Conflict("conflict", {"reason": "has_active_children"})
        grid.retired_at = datetime.now(UTC)
        await db.flush()
        audit.record(db, p.user_id, "grid.retire", "grid", grid.id)
    return grid


async def list_places(db: AsyncSession, *, parent_id: int | None, level: GridLevel | None, limit: int,
                      cursor: str | None):
    """Public: active nodes, to pick a building at registration."""
    stmt = select(Grid).where(Grid.retired_at.is_(None))
    if parent_id is not None:
        stmt = stmt.where(Grid.parent_id == parent_id)
    elif level is None:
        stmt = stmt.where(Grid.parent_id.is_(None))
    if level is not None:
        stmt = stmt.where(Grid.level == level)
    return await _paged(db, stmt, Grid.id, cursor, limit)


# ---- departments and categories: owned by a node ------------------------------------------------------------


async def _get_owned(db: AsyncSession, p: Principal, model: type[Department] | type[Category], obj_id: int):
    ensure_admin(p)
    row = (await db.execute(select(model, Grid.path).join(Grid, Grid.id == model.grid_id)
                            .where(model.id == obj_id))).one_or_none()
    if row is None or not policies.can_manage_owned(p, row[1]):
        raise NotFound()
    return row[0]


async def _owner_in_scope(db: AsyncSession, p: Principal, grid_id: int) -> Grid:
    grid = await active_node(db, grid_id)
    if not policies.can_manage_owned(p, grid.path):
        raise InvalidInput("invalid_reference", {"grid_id": grid_id})
    return grid


async def _list_owned(db: AsyncSession, p: Principal, model, *, include_retired: bool, q: str | None,
                      limit: int, cursor: str | None):
    ensure_admin(p)
    stmt = select(model).join(Grid, Grid.id == model.grid_id).where(policies.visible_grids(p))
    if not include_retired:
        stmt = stmt.where(model.retired_at.is_(None))
    if q:
        stmt = stmt.where(model.name.contains(q, autoescape=True))
    return await _paged(db, stmt, model.id, cursor, limit)


async def _retire_owned(db: AsyncSession, p: Principal, model, obj_id: int, kind: str):
    obj = await _get_owned(db, p, model, obj_id)
    if obj.retired_at is None:
        dependants = await _dependants(db, kind, obj.id)
        if any(dependants.values()):  # move them first: reassign the reports, change the categories' default
            raise Conflict("has_dependants", dependants)
        obj.retired_at = datetime.now(UTC)
        await db.flush()
        audit.record(db, p.user_id, f"{kind}.retire", kind, obj.id)
    return obj


async def get_department(db: AsyncSession, p: Principal, department_id: int) -> Department:
    return await _get_owned(db, p, Department, department_id)


async def list_departments(db: AsyncSession, p: Principal, **kw):
    return await _list_owned(db, p, Department, **kw)


async def create_department(db: AsyncSession, p: Principal, data: DepartmentCreate) -> Department:
    ensure_admin(p)
    await _owner_in_scope(db, p, data.grid_id)
    dept = Department(**data.model_dump())
    db.add(dept)
    await flush_or_conflict(db, "code_taken")
    audit.record(db, p.user_id, "department.create", "department", dept.id, name=dept.name)
    return dept


async def update_department(db: AsyncSession, p: Principal, department_id: int, data: DepartmentUpdate):
    dept = await _get_owned(db, p, Department, department_id)
    changed = _apply(dept, data.model_dump(exclude_unset=True))
    await db.flush()
    if changed:
        audit.record(db, p.user_id, "department.update", "department", dept.id, **changed)
    return dept


async def retire_department(db: AsyncSession, p: Principal, department_id: int) -> Department:
    return await _retire_owned(db, p, Department, department_id, "department")


async def _check_default_department(db: AsyncSession, p: Principal, department_id: int | None,
                                    category_path: str) -> None:
    """A category's default handler is an active department the category's reports can be dispatched to: one
    owned by the category's node or a node above it (a community's category may default to a street department),
    or one inside the admin's scope."""
    if department_id is None:
        return
    _, path = await active_department(db, department_id)
    if not (policies.can_manage_owned(p, path) or category_path.startswith(path)):
        raise InvalidInput("invalid_reference", {"default_department_id": department_id})


async def _open_reports(db: AsyncSession, where) -> int:
    from app.reports.lifecycle import OPEN_STATES  # pure module; org is below reports in the import order
    from app.reports.models import Report

    return (await db.execute(select(func.count()).select_from(Report)
                             .where(where, Report.state.in_([s.value for s in OPEN_STATES])))).scalar_one()


async def _dependants(db: AsyncSession, kind: str, obj_id: int) -> dict[str, int]:
    """What still depends on a department or category: retiring it would strand these."""
    from app.reports.models import Report

    if kind == "department":
        categories = (await db.execute(select(func.count()).select_from(Category).where(
            Category.default_department_id == obj_id, Category.retired_at.is_(None)))).scalar_one()
        return {"open_reports": await _open_reports(db, Report.handler_department_id == obj_id),
                "active_categories": categories}
    return {"open_reports": await _open_reports(db, Report.category_id == obj_id), "active_categories": 0}


async def get_category(db: AsyncSession, p: Principal, category_id: int) -> Category:
    return await _get_owned(db, p, Category, category_id)


async def list_categories(db: AsyncSession, p: Principal, **kw):
    return await _list_owned(db, p, Category, **kw)


async def create_category(db: AsyncSession, p: Principal, data: CategoryCreate) -> Category:
    ensure_admin(p)
    owner = await _owner_in_scope(db, p, data.grid_id)
    await _check_default_department(db, p, data.default_department_id, owner.path)
    cat = Category(**data.model_dump())
    db.add(cat)
    await flush_or_conflict(db, "code_taken")
    audit.record(db, p.user_id, "category.create", "category", cat.id, name=cat.name)
    return cat


async def update_category(db: AsyncSession, p: Principal, category_id: int, data: CategoryUpdate) -> Category:
    cat = await _get_owned(db, p, Category, category_id)
    changes = data.model_dump(exclude_unset=True)
    if "default_department_id" in changes:
        owner_path = (await db.execute(select(Grid.path).where(Grid.id == cat.grid_id))).scalar_one()
        await _check_default_department(db, p, changes["default_department_id"], owner_path)
    changed = _apply(cat, changes, ("name", "respond_within_minutes", "resolve_within_minutes"))
    await db.flush()
    if changed:
        audit.record(db, p.user_id, "category.update", "category", cat.id, **changed)
    return cat


async def retire_category(db: AsyncSession, p: Principal, category_id: int) -> Category:
    return await _retire_owned(db, p, Category, category_id, "category")


# ---- what a user may pick: categories to report under, departments to dispatch to --------------------------


async def home_path(db: AsyncSession, p: Principal) -> str | None:
    """The path of the node a user works or lives at: building, a grid, their department's node, or scope."""
    if p.scope_path:
        return p.scope_path
    if p.department_id is not None:
        return await department_owner_path(db, p.department_id)
    node = p.building_id or (min(p.grid_ids) if p.grid_ids else None)
    if node is None:
        return None
    return (await db.execute(select(Grid.path).where(Grid.id == node))).scalar_one_or_none()


def _on_my_path(path: str, owner_path_col, *, include_below: bool):
    """Owned by a node above me (or mine); admins also see what hangs below their scope."""
    above = literal(path).startswith(owner_path_col)
    return or_(above, owner_path_col.startswith(path, autoescape=True)) if include_below else above


async def usable(db: AsyncSession, p: Principal, model: type[Category] | type[Department]) -> list:
    """Active categories (or departments) owned by nodes on the user's path up the tree, by name."""
    path = await home_path(db, p)
    if path is None:
        return []
    stmt = (select(model).join(Grid, Grid.id == model.grid_id)
            .where(model.retired_at.is_(None), _on_my_path(path, Grid.path, include_below=p.is_admin))
            .order_by(model.name, model.id).limit(500))
    return list((await db.execute(stmt)).scalars())
