from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.auth import service as auth_service
from app.auth.deps import AdminOnly, CurrentPrincipal, ReadPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import ADMIN_READ, ADMIN_WRITE, AUTHED
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession, get_database
from app.users import service
from app.users.models import Role
from app.users.schemas import MeUpdate, PasswordChange, UserCreate, UserRead, UserUpdate

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1")


@router.get("/me", tags=["me"], summary="My profile", response_model=UserRead, responses=AUTHED)
async def get_me(db: DbSession, p: CurrentPrincipal):
    return await service.get_me(db, p)


@router.patch("/me", tags=["me"], summary="Update my profile", response_model=UserRead,
              responses=error_responses(401, 409, 413, 422, 500))
async def update_me(db: DbSession, p: CurrentPrincipal, body: MeUpdate):
    return await service.update_me(db, p, body)


@router.post("/me/password", tags=["me"], status_code=status.HTTP_204_NO_CONTENT, summary="Change my password",
             description="Ends every session of the account: log in again with the new password. Wrong current "
                         "passwords are limited like logins: 429 with `Retry-After`.",
             responses=error_responses(401, 413, 422, 429, 500))
async def change_password(request: Request, settings: AppSettings, p: ReadPrincipal, body: PasswordChange) -> None:
    # no request session: the hashes are computed outside any write transaction
    await auth_service.change_password(get_database(request), settings, p.user_id, body.current_password,
                                       body.new_password)


users = APIRouter(route_class=IdempotentRoute, prefix="/admin/users", tags=["admin: users"], dependencies=[AdminOnly])


@users.get("", summary="List accounts in your scope", response_model=Page[UserRead],
           responses=error_responses(400, 401, 403, 422, 500))
async def list_users(db: DbSession, p: CurrentPrincipal, role: Role | None = None,
                     q: Annotated[str | None, Query(max_length=40, description="Name substring or phone prefix.")]
                     = None, include_inactive: bool = False, limit: Limit = 20, cursor: Cursor = None):
    items, nxt = await service.admin_list_users(db, p, role=role, q=q, include_inactive=include_inactive,
                                                limit=limit, cursor=cursor)
    return Page[UserRead](items=items, next_cursor=nxt)


@users.post("", status_code=status.HTTP_201_CREATED, summary="Create an account (staff, or a resident offline)",
            response_model=UserRead, responses=ADMIN_WRITE,
            dependencies=[Idempotent])
async def create_user(db: DbSession, settings: AppSettings, p: CurrentPrincipal, body: UserCreate):
    return await service.admin_create_user(db, settings, p, body)


@users.get("/{user_id}", summary="Read an account", response_model=UserRead, responses=ADMIN_READ)
async def get_user(db: DbSession, p: CurrentPrincipal, user_id: IdPath):
    return await service.admin_get_user(db, p, user_id)


@users.patch("/{user_id}", summary="Change an account's name, status or bindings", response_model=UserRead,
             responses=ADMIN_WRITE)
async def update_user(db: DbSession, p: CurrentPrincipal, user_id: IdPath, body: UserUpdate):
    return await service.admin_update_user(db, p, user_id, body)


router.include_router(users)
