from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import AdminOnly, CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import ADMIN_READ, ADMIN_WRITE, PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession
from app.org import service
from app.org.models import Category, Department, GridLevel
from app.org.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    GridCreate,
    GridRead,
    GridUpdate,
    PlaceRead,
)

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1")
Q = Annotated[str | None, Query(max_length=100, description="Substring of the name.")]
IncludeRetired = Annotated[bool, Query(description="Include retired objects.")]


@router.get("/places", tags=["places"], summary="Browse active places (public, for registration)",
            response_model=Page[PlaceRead], responses=error_responses(400, 422, 500))
async def list_places(db: DbSession, parent_id: IdQuery = None,
                      level: GridLevel | None = None, limit: Limit = 50, cursor: Cursor = None):
    items, nxt = await service.list_places(db, parent_id=parent_id, level=level, limit=limit, cursor=cursor)
    return Page[PlaceRead](items=items, next_cursor=nxt)


@router.get("/categories", tags=["places"], summary="Report categories I can use (for the report form)",
            response_model=list[CategoryRead], responses=error_responses(401, 500),
            description="Active categories owned by the nodes above you (your street, community ...), by name.")
async def usable_categories(db: DbSession, p: CurrentPrincipal):
    return await service.usable(db, p, Category)


@router.get("/departments", tags=["places"], summary="Departments I can dispatch to",
            response_model=list[DepartmentRead],
            responses=error_responses(401, 500),
            description="Active departments owned by the nodes above you (admins: also below their scope), by name.")
async def usable_departments(db: DbSession, p: CurrentPrincipal):
    return await service.usable(db, p, Department)


# ---- grids --------------------------------------------------------------------------------------------------

grids = APIRouter(route_class=IdempotentRoute, prefix="/admin/grids", tags=["admin: grids"], dependencies=[AdminOnly])


@grids.get("", summary="List grid nodes in your scope", response_model=Page[GridRead],
           responses=error_responses(400, 401, 403, 422, 500))
async def list_grids(db: DbSession, p: CurrentPrincipal, parent_id: IdQuery = None,
                     level: GridLevel | None = None, q: Q = None, include_retired: IncludeRetired = False,
                     limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await service.list_grids(db, p, parent_id=parent_id, level=level, q=q,
                                          include_retired=include_retired, limit=limit, cursor=cursor)
    return Page[GridRead](items=items, next_cursor=nxt)


@grids.post("", status_code=status.HTTP_201_CREATED, summary="Add a node under one in your scope",
            response_model=GridRead, responses=ADMIN_WRITE,
            dependencies=[Idempotent])
async def create_grid(db: DbSession, p: CurrentPrincipal, body: GridCreate):
    return await service.create_grid(db, p, body)


@grids.get("/{grid_id}", summary="Read a grid node", response_model=GridRead, responses=ADMIN_READ)
async def get_grid(db: DbSession, p: CurrentPrincipal, grid_id: IdPath):
    return await service.get_grid(db, p, grid_id)


@grids.patch("/{grid_id}", summary="Rename or re-code a node", response_model=GridRead, responses=ADMIN_WRITE)
async def update_grid(db: DbSession, p: CurrentPrincipal, grid_id: IdPath, body: GridUpdate):
    return await service.update_grid(db, p, grid_id, body)


@grids.post("/{grid_id}/retire", summary="Retire a node (no active children)", response_model=GridRead,
            responses=ADMIN_WRITE,
            dependencies=[Idempotent])
async def retire_grid(db: DbSession, p: CurrentPrincipal, grid_id: IdPath):
    return await service.retire_grid(db, p, grid_id)


# ---- departments --------------------------------------------------------------------------------------------

departments = APIRouter(prefix="/admin/departments", tags=["admin: departments"], dependencies=[AdminOnly],
                        route_class=IdempotentRoute)


@departments.get("", summary="List departments in your scope", response_model=Page[DepartmentRead],
                 responses=error_responses(400, 401, 403, 422, 500))
async def list_departments(db: DbSession, p: CurrentPrincipal, q: Q = None, include_retired: IncludeRetired = False,
                           limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await service.list_departments(db, p, q=q, include_retired=include_retired, limit=limit,
                                                cursor=cursor)
    return Page[DepartmentRead](items=items, next_cursor=nxt)


@departments.post("", status_code=status.HTTP_201_CREATED, summary="Create a department",
                  response_model=DepartmentRead, responses=ADMIN_WRITE,
                  dependencies=[Idempotent])
async def create_department(db: DbSession, p: CurrentPrincipal, body: DepartmentCreate):
    return await service.create_department(db, p, body)


@departments.get("/{department_id}", summary="Read a department", response_model=DepartmentRead,
                 responses=ADMIN_READ)
async def get_department(db: DbSession, p: CurrentPrincipal, department_id: IdPath):
    return await service.get_department(db, p, department_id)


@departments.patch("/{department_id}", summary="Update a department", response_model=DepartmentRead,
                   responses=ADMIN_WRITE)
async def update_department(db: DbSession, p: CurrentPrincipal, department_id: IdPath, body: DepartmentUpdate):
    return await service.update_department(db, p, department_id, body)


@departments.post("/{department_id}/retire", summary="Retire a department", response_model=DepartmentRead,
                  responses=ADMIN_WRITE,
                  dependencies=[Idempotent])
async def retire_department(db: DbSession, p: CurrentPrincipal, department_id: IdPath):
    return await service.retire_department(db, p, department_id)


# ---- categories ---------------------------------------------------------------------------------------------

categories = APIRouter(prefix="/admin/categories", tags=["admin: categories"], dependencies=[AdminOnly],
                       route_class=IdempotentRoute)


@categories.get("", summary="List report categories in your scope", response_model=Page[CategoryRead],
                responses=error_responses(400, 401, 403, 422, 500))
async def list_categories(db: DbSession, p: CurrentPrincipal, q: Q = None, include_retired: IncludeRetired = False,
                          limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await service.list_categories(db, p, q=q, include_retired=include_retired, limit=limit,
                                               cursor=cursor)
    return Page[CategoryRead](items=items, next_cursor=nxt)


@categories.post("", status_code=status.HTTP_201_CREATED, summary="Create a report category",
                 response_model=CategoryRead, responses=ADMIN_WRITE,
                 dependencies=[Idempotent])
async def create_category(db: DbSession, p: CurrentPrincipal, body: CategoryCreate):
    return await service.create_category(db, p, body)


@categories.get("/{category_id}", summary="Read a report category", response_model=CategoryRead,
                responses=ADMIN_READ)
async def get_category(db: DbSession, p: CurrentPrincipal, category_id: IdPath):
    return await service.get_category(db, p, category_id)


@categories.patch("/{category_id}", summary="Update a report category", response_model=CategoryRead,
                  responses=ADMIN_WRITE)
async def update_category(db: DbSession, p: CurrentPrincipal, category_id: IdPath, body: CategoryUpdate):
    return await service.update_category(db, p, category_id, body)


@categories.post("/{category_id}/retire", summary="Retire a report category", response_model=CategoryRead,
                 responses=ADMIN_WRITE,
                 dependencies=[Idempotent])
async def retire_category(db: DbSession, p: CurrentPrincipal, category_id: IdPath):
    return await service.retire_category(db, p, category_id)


router.include_router(grids)
router.include_router(departments)
router.include_router(categories)
