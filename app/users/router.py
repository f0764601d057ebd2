from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.auth import service as auth_service
from app.auth.deps import AdminOnly, CurrentPrincipal, ReadPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.i18n import wants_english
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import ADMIN_READ, ADMIN_WRITE, AUTHED, PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession, get_database
from app.users import erasure, export, service
from app.users.export_schemas import UserExport
from app.users.models import Role
from app.users.schemas import MeUpdate, PasswordChange, UserCreate, UserRead, UserUpdate

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1")


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


@router.get("/me/export", tags=["me"], summary="Download all my data (one JSON document)", response_model=UserExport,
            responses=AUTHED,
            description="Everything the service holds about you (PIPL art. 45): profile, reports with the steps you "
                        "may see, ratings, uploads, bookings, groups and activities, points, proposals, comments, "
                        "ballots (that you voted, never how), notifications, consents. Other people appear only as "
                        "the role that acted, never by name, id or phone.")
async def export_my_data(request: Request, db: DbSession, p: CurrentPrincipal) -> UserExport:
    return await export.export_me(db, p, english=wants_english(request.headers.get("accept-language")))


@router.post("/me/erase", tags=["me"], status_code=status.HTTP_204_NO_CONTENT, summary="Erase my account (注销)",
             description="Residents only (staff: 403 `staff_not_erasable`; admins deactivate staff accounts). "
                         "Confirm with the password (`method: password`) or an SMS code of purpose `erase` sent to "
                         "your number (`method: sms_code`; wrong codes: 401 `sms_code_invalid` etc., as at SMS "
                         "sign-in). At once: sign-in is impossible and every "
                         "token stops; future bookings, signups, group memberships and requested redemptions are "
                         "cancelled; points are forfeited (a ledger entry); photos of your private reports are "
                         "deleted; your name and phone are erased. Your reports, ratings, comments and proposals "
                         "stay for the community's record, shown as 已注销居民. Ballots keep counting with no link "
                         "to you. Wrong passwords count like wrong current passwords (429 with `Retry-After`). "
                         "409: something of yours changed at the same moment (a booking taken by staff); nothing "
                         "was erased, send it again.",
             responses=error_responses(401, 403, 409, 413, 422, 429, 500))
async def erase_my_account(request: Request, settings: AppSettings, p: ReadPrincipal,
                           body: erasure.ErasureRequest) -> None:
    # no request session: the hash check runs outside any write transaction, then one transaction erases
    await erasure.erase_account(get_database(request), settings, request.app.state.storage, p, body,
                                request.app.state.jwt_secret)


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
