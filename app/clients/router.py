"""Admin API of registered apps (issue 18): register, list, read, change, rotate the secret, suspend, reactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from app.auth.deps import AdminOnly, CurrentPrincipal
from app.clients import manage
from app.clients.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    ApiClientSecretRotated,
    ApiClientUpdate,
    ClientKind,
    ClientStatus,
    StatusChange,
)
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import ADMIN_READ, ADMIN_WRITE, PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession

router = PrefixRouter(prefix="/api/v1/admin/clients", tags=["admin: apps"], dependencies=[AdminOnly],
                   route_class=IdempotentRoute)


@router.get("", summary="List the registered apps in your scope", response_model=Page[ApiClientRead],
            responses=error_responses(400, 401, 403, 422, 500))
async def list_api_clients(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None,
                           grid_id: Annotated[IdQuery, Query(description="Only this community's or street's.")] = None,
                           status: ClientStatus | None = None, kind: ClientKind | None = None):
    items, nxt = await manage.list_clients(db, p, grid_id=grid_id, status=status, kind=kind, limit=limit,
                                           cursor=cursor)
    return Page[ApiClientRead](items=[ApiClientRead.model_validate(c) for c in items], next_cursor=nxt)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an app (its secret is shown once)",
             response_model=ApiClientCreated, responses=ADMIN_WRITE,
             description="The app gets a public `client_id` and a `secret` shown in this answer only (stored hashed). "
                         "Sign-ins naming the app in `X-Client-Id` get tokens limited to its `scopes`; its `origins` "
                         "are allowed by CORS while it is active.")
async def register_api_client(db: DbSession, p: CurrentPrincipal, body: ApiClientCreate):
    client, secret = await manage.register_client(db, p, body)
    return ApiClientCreated.model_validate({**ApiClientRead.model_validate(client).model_dump(), "secret": secret})


@router.get("/{api_client_id}", summary="Read a registered app", response_model=ApiClientRead, responses=ADMIN_READ)
async def get_api_client(db: DbSession, p: CurrentPrincipal, api_client_id: IdPath):
    return await manage.get_client(db, p, api_client_id)


@router.patch("/{api_client_id}", summary="Change an app's name, origins, scopes or WeChat appid",
              response_model=ApiClientRead, responses=ADMIN_WRITE)
async def update_api_client(db: DbSession, p: CurrentPrincipal, api_client_id: IdPath, body: ApiClientUpdate):
    return await manage.update_client(db, p, api_client_id, body)


@router.post("/{api_client_id}/rotate-secret", summary="Replace an app's secret (the old one stops at once)",
             response_model=ApiClientSecretRotated, responses=ADMIN_READ)
async def rotate_api_client_secret(db: DbSession, p: CurrentPrincipal, api_client_id: IdPath):
    return await manage.rotate_secret(db, p, api_client_id)


@router.post("/{api_client_id}/suspend", summary="Suspend an app (takes effect at once)",
             response_model=ApiClientRead, responses=ADMIN_WRITE,
             description="Sign-ins and refreshes through the app answer 403 `client_suspended`, and so do its users' "
                         "access tokens on their next request; its secret is refused; its origins leave CORS.",
             dependencies=[Idempotent])
async def suspend_api_client(db: DbSession, p: CurrentPrincipal, api_client_id: IdPath, body: StatusChange):
    return await manage.set_status(db, p, api_client_id, body.expected_version, ClientStatus.suspended)


@router.post("/{api_client_id}/reactivate", summary="Reactivate a suspended app", response_model=ApiClientRead,
             responses=ADMIN_WRITE, dependencies=[Idempotent])
async def reactivate_api_client(db: DbSession, p: CurrentPrincipal, api_client_id: IdPath, body: StatusChange):
    return await manage.set_status(db, p, api_client_id, body.expected_version, ClientStatus.active)
