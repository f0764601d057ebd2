"""Admins register, change, rotate, suspend and reactivate apps. One transaction per request (flush, never commit).

Scope: an app hangs on a community or a street node, like a webhook subscription or a department; an admin whose
scope covers that node manages it (`org.policies.can_manage_owned`). Someone else's app answers 404; a node out of
scope in the body is 422 `invalid_reference`. Every change is audited (never with a secret)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.clients import secrets
from app.clients.errors import ClientOriginInvalid
from app.clients.models import ApiClient
from app.clients.origins import OriginInvalid, normalize_all
from app.clients.schemas import ApiClientCreate, ApiClientUpdate, ClientKind, ClientStatus
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import keyset, page_of
from app.org import policies as org_policies
from app.org.models import Grid, GridLevel
from app.org.service import active_node

C = ApiClient
OWNER_LEVELS = frozenset({GridLevel.community, GridLevel.street})
# session.info key: this transaction changed an app's origins or status (app/clients/cors.py forgets its cache)
CHANGED = "api_clients_changed"


def _origins(values: list[str]) -> list[str]:
    try:
        return normalize_all(values)
    except OriginInvalid as exc:
        raise ClientOriginInvalid(details={"field": "origins", "value": exc.args[1][:200],
                                           "reason": exc.args[0]}) from exc


async def _owner(db: AsyncSession, p: Principal, grid_id: int) -> Grid:
    grid = await active_node(db, grid_id)
    if grid.level not in OWNER_LEVELS or not org_policies.can_manage_owned(p, grid.path):
        raise InvalidInput("invalid_reference", {"grid_id": grid_id, "reason": "a community or street in your scope"})
    return grid


async def _flush(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:  # the one unique field an admin chooses
        raise Conflict("conflict", {"reason": "wechat_appid_taken"}) from exc


def _changed(db: AsyncSession) -> None:
    db.info[CHANGED] = True


async def get_client(db: AsyncSession, p: Principal, api_client_id: int) -> ApiClient:
    """The app if the admin's scope covers its node; 404 otherwise (as if it did not exist)."""
    ensure_admin(p)
    row = (await db.execute(select(C, Grid.path).join(Grid, Grid.id == C.grid_id)
                            .where(C.id == api_client_id))).one_or_none()
    if row is None or not org_policies.can_manage_owned(p, row[1]):
        raise NotFound()
    return row[0]


async def list_clients(db: AsyncSession, p: Principal, *, grid_id: int | None, status: ClientStatus | None,
                       kind: ClientKind | None, limit: int, cursor: str | None) -> tuple[list[ApiClient], str | None]:
    """The apps on nodes in the admin's scope, oldest first (keyset on id)."""
    ensure_admin(p)
    stmt = select(C).join(Grid, Grid.id == C.grid_id).where(org_policies.visible_grids(p))
    if grid_id is not None:
        stmt = stmt.where(C.grid_id == grid_id)
    if status is not None:
        stmt = stmt.where(C.status == status.value)
    if kind is not None:
        stmt = stmt.where(C.kind == kind.value)
    rows: list[ApiClient] = list((await db.execute(keyset(stmt, [C.__table__.c.id], [int], cursor, limit))).scalars())
    return page_of(rows, limit, lambda c: [c.id])


async def register_client(db: AsyncSession, p: Principal, data: ApiClientCreate) -> tuple[ApiClient, str]:
    """A new active app and its secret (answered once, stored hashed)."""
    ensure_admin(p)
    await _owner(db, p, data.grid_id)
    origins = _origins(data.origins)
    client_id = secrets.new_client_id()
    secret = secrets.new_secret(client_id)
    client = C(client_id=client_id, name=data.name, kind=data.kind.value, origins=origins,
               scopes=sorted({s.value for s in data.scopes}), wechat_appid=data.wechat_appid,
               secret_hash=secrets.hash_secret(secret), status=ClientStatus.active.value, grid_id=data.grid_id,
               created_by=p.user_id, version=1)
    db.add(client)
    await _flush(db)
    _changed(db)
    audit.record(db, p.user_id, "api_client.register", "api_client", client.id, client_id=client_id,
                 name=client.name, kind=client.kind, origins=origins, scopes=client.scopes,
                 wechat_appid=client.wechat_appid)
    return client, secret


async def _conditional(db: AsyncSession, client: ApiClient, expected_version: int, **values: Any) -> ApiClient:
    """UPDATE ... WHERE version = expected: of two concurrent changes one wins, the other learns it lost (409)."""
    done = await db.execute(update(C).where(C.id == client.id, C.version == expected_version)
                            .values(**values, version=C.version + 1, updated_at=datetime.now(UTC))
                            .returning(C.id).execution_options(synchronize_session=False))
    if done.first() is None:
        current = (await db.execute(select(C.version, C.status).where(C.id == client.id))).one()
        raise Conflict("stale_version", {"current_version": current.version, "state": current.status})
    await db.refresh(client)
    return client


def _stale(client: ApiClient, expected_version: int) -> None:
    if expected_version != client.version:  # a lost race is reported before anything else
        raise Conflict("stale_version", {"current_version": client.version, "state": client.status})


async def update_client(db: AsyncSession, p: Principal, api_client_id: int, data: ApiClientUpdate) -> ApiClient:
    client = await get_client(db, p, api_client_id)
    _stale(client, data.expected_version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"expected_version"})
    if "origins" in changes:
        changes["origins"] = _origins(changes["origins"])
    if "scopes" in changes:
        changes["scopes"] = sorted({getattr(s, "value", s) for s in changes["scopes"]})
    try:
        client = await _conditional(db, client, data.expected_version, **changes)
    except IntegrityError as exc:
        raise Conflict("conflict", {"reason": "wechat_appid_taken"}) from exc
    _changed(db)
    audit.record(db, p.user_id, "api_client.update", "api_client", client.id, **changes)
    return client


async def rotate_secret(db: AsyncSession, p: Principal, api_client_id: int) -> dict[str, Any]:
    """A new secret (answered once); the old one stops with this transaction's commit."""
    client = await get_client(db, p, api_client_id)
    secret = secrets.new_secret(client.client_id)
    row = (await db.execute(update(C).where(C.id == client.id).values(
        secret_hash=secrets.hash_secret(secret), version=C.version + 1, updated_at=datetime.now(UTC))
        .returning(C.version).execution_options(synchronize_session=False))).one()
    audit.record(db, p.user_id, "api_client.rotate_secret", "api_client", client.id, client_id=client.client_id)
    return {"id": client.id, "client_id": client.client_id, "version": row.version, "secret": secret}


async def set_status(db: AsyncSession, p: Principal, api_client_id: int, expected_version: int,
                     status: ClientStatus) -> ApiClient:
    """Suspend or reactivate. Suspension takes effect at once: sign-ins and refreshes through the app are refused,
    its access tokens are refused on their next request, its secret stops, its origins leave CORS."""
    client = await get_client(db, p, api_client_id)
    _stale(client, expected_version)
    if client.status == status.value:
        raise Conflict("conflict", {"reason": f"already {status.value}"})
    client = await _conditional(db, client, expected_version, status=status.value)
    _changed(db)
    action = "suspend" if status is ClientStatus.suspended else "reactivate"
    audit.record(db, p.user_id, f"api_client.{action}", "api_client", client.id, client_id=client.client_id)
    return client
