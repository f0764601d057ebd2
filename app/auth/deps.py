"""Dependencies: the current principal from the bearer token."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.models import RefreshToken
from app.auth.principal import Principal
from app.auth.principal_cache import PrincipalCache
from app.clients import operations
from app.clients.errors import ClientScopeMissing, ClientSuspended, ClientUnknown
from app.clients.models import ApiClient
from app.core.errors import Unauthenticated
from app.core.security import InvalidToken, TokenClaims, decode_token
from app.db.reader import Row, Rows, SessionRows
from app.db.session import DbSession, ReadRows
from app.org.models import Grid
from app.privacy.consent import ensure_consent
from app.users.models import Role, User, UserGrid

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Built once: the user, their admin scope node, (one row each) a grid worker's grids, whether the token's sign-in
# session is live, and (for a token issued through a registered app) that app's status and scopes, in one round trip.
_SESSION_LIVE = exists().where(RefreshToken.family == bindparam("sid", type_=RefreshToken.family.type),
                               RefreshToken.revoked_at.is_(None)).label("session_live")
_PRINCIPAL_ROWS = (
    select(User.id, User.role, User.is_active, User.building_id, User.community_id, User.department_id,
           User.scope_grid_id, Grid.path, Grid.level, User.password_changed_at, UserGrid.grid_id, _SESSION_LIVE,
           ApiClient.status.label("client_status"), ApiClient.scopes.label("client_scopes"), User.privacy_version)
    .outerjoin(Grid, Grid.id == User.scope_grid_id)
    .outerjoin(UserGrid, UserGrid.user_id == User.id)
    .outerjoin(ApiClient, ApiClient.client_id == bindparam("cid", type_=ApiClient.client_id.type))
    .where(User.id == bindparam("user_id"))
)


async def load_principal(db: AsyncSession, user_id: int, *, role: str | None = None,
                         issued_at: datetime | None = None) -> Principal | None:
    """The Principal of an active user (None if missing, inactive, of another role than the token says, or
    when the token predates a password change)."""
    rows = await SessionRows(db).all(_PRINCIPAL_ROWS, {"user_id": user_id, "sid": None, "cid": None})
    return principal_of(rows, role=role, issued_at=issued_at, sid=None)


def principal_of(rows: Sequence[Row], *, role: str | None, issued_at: datetime | None,
                 sid: str | None, cid: str | None = None, scp: tuple[str, ...] | None = None) -> Principal | None:
    """The checks against the token run on every request, cached rows or not. A token of a sign-in session
    (sid) works only while that session is live: logout, refresh-token reuse, a password change and disabling
    revoke it, and its access tokens stop at once. A token issued through an app (cid) works only while the app
    is active, with the scopes both the token and the app hold now (an admin's narrowing applies at once)."""
    if not rows:
        return None
    row = rows[0]
    if not row["is_active"] or (role is not None and row["role"] != role):
        return None
    if sid is not None and not row["session_live"]:
        return None
    changed = row["password_changed_at"]
    if issued_at is not None and changed is not None and issued_at < changed.replace(microsecond=0):
        return None
    scopes: frozenset[str] | None = None
    if cid is not None:
        if row["client_status"] != "active":
            return None
        scopes = frozenset(scp or ()) & frozenset(row["client_scopes"] or ())
    user_role = Role(row["role"])
    grid_ids = frozenset(r["grid_id"] for r in rows if r["grid_id"] is not None) \
        if user_role is Role.grid_worker else frozenset()
    admin = user_role is Role.admin
    return Principal(user_id=row["id"], role=user_role, building_id=row["building_id"],
                     community_id=row["community_id"], grid_ids=grid_ids, department_id=row["department_id"],
                     scope_grid_id=row["scope_grid_id"], scope_path=row["path"] if admin else None,
                     scope_level=row["level"] if admin else None, client_id=cid, scopes=scopes)


async def _rows_for(cache: PrincipalCache, claims: TokenClaims, rows: Rows) -> Sequence[Row]:
    user_id = int(claims.sub)
    # an app's tokens are cached apart (a session belongs to one app; the key says so even for tokens without one)
    key = claims.sid if claims.cid is None else f"{claims.sid}|{claims.cid}"
    found = cache.get(user_id, key)
    if found is None:
        generation = cache.generation  # before the read: a change noticed meanwhile keeps these rows out
        found = await rows.all(_PRINCIPAL_ROWS, {"user_id": user_id, "sid": claims.sid, "cid": claims.cid})
        cache.put(user_id, found, generation, key)
    return found


def _principal_from(found: Sequence[Row], claims: TokenClaims) -> Principal | None:
    return principal_of(found, role=claims.role, issued_at=claims.iat, sid=claims.sid, cid=claims.cid,
                        scp=claims.scp)


async def principal_for(cache: PrincipalCache, claims: TokenClaims, rows: Rows) -> Principal | None:
    """The principal an access token's claims stand for right now (None: no longer valid). Live streams call it
    again on each heartbeat, since their token was checked only when they opened."""
    return _principal_from(await _rows_for(cache, claims, rows), claims)


async def _principal(request: Request, token: str | None, rows: Rows) -> Principal:
    if not token:
        raise Unauthenticated()
    state = request.app.state
    try:
        claims = decode_token(state.settings, state.jwt_secret, token, expected="access")
    except InvalidToken as exc:
        raise Unauthenticated() from exc
    found = await _rows_for(state.principals, claims, rows)
    principal = _principal_from(found, claims)
    request.state.session_id = claims.sid
    request.state.token_claims = claims
    if principal is None:
        if claims.cid is not None and found and found[0]["client_status"] != "active":
            raise ClientSuspended() if found[0]["client_status"] == "suspended" else ClientUnknown()
        raise Unauthenticated()
    request.state.user_id = principal.user_id
    # the privacy notice (issue 21): read with the principal's row, so no statement of its own
    ensure_consent(state.settings, principal.role, found[0]["privacy_version"], request.method, request.url.path)
    if principal.scopes is not None:  # a token of a registered app: the operation's scope (app/clients/operations)
        route = request.scope.get("route")
        ok, need = operations.allowed(request.method, getattr(route, "path_format", request.url.path),
                                      principal.scopes)
        if not ok:
            raise ClientScopeMissing(need.describe())
    return principal


async def get_principal(request: Request, db: DbSession,
                        token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """The principal of a request with a unit of work (read through its session)."""
    return await _principal(request, token, SessionRows(db))


async def get_read_principal(request: Request, reader: ReadRows,
                             token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """The principal of a hot read (ReadRows, no session)."""
    return await _principal(request, token, reader)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
# Route-level guards (AdminOnly) use it too: they run before the route's own DbSession opens, so they never hold
# a second connection.
ReadPrincipal = Annotated[Principal, Depends(get_read_principal)]


async def require_admin(p: ReadPrincipal) -> Principal:
    """Router guard of /admin/*: anyone but an admin gets 403 before the body or parameters are validated.
    The services check again (and check scope per object); this only refuses early and uniformly."""
    ensure_admin(p)
    return p


AdminOnly = Depends(require_admin)
# A hot read's principal, refused (403) unless an admin, before its parameters are validated: in place of
# dependencies=[AdminOnly] beside ReadPrincipal. FastAPI solves a dependency's own dependencies again even when its
# result is cached, so the pair resolved the principal's tree twice (3 % of a street's figures, in instructions).
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
