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
from app.core.errors import Unauthenticated
from app.core.security import InvalidToken, TokenClaims, decode_token
from app.db.reader import Row, Rows, SessionRows
from app.db.session import DbSession, ReadRows
from app.org.models import Grid
from app.privacy.consent import ensure_consent
from app.users.models import Role, User, UserGrid

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Built once: the user, their admin scope node, and (one row each) a grid worker's grids, in one round trip.
_SESSION_LIVE = exists().where(RefreshToken.family == bindparam("sid", type_=RefreshToken.family.type),
                               RefreshToken.revoked_at.is_(None)).label("session_live")
_PRINCIPAL_ROWS = (
    select(User.id, User.role, User.is_active, User.building_id, User.community_id, User.department_id,
           User.scope_grid_id, Grid.path, Grid.level, User.password_changed_at, UserGrid.grid_id, _SESSION_LIVE,
           User.privacy_version)
    .outerjoin(Grid, Grid.id == User.scope_grid_id)
    .outerjoin(UserGrid, UserGrid.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


async def load_principal(db: AsyncSession, user_id: int, *, role: str | None = None,
                         issued_at: datetime | None = None) -> Principal | None:
    """The Principal of an active user (None if missing, inactive, of another role than the token says, or
    when the token predates a password change)."""
    return principal_of(await SessionRows(db).all(_PRINCIPAL_ROWS, {"user_id": user_id, "sid": None}), role=role,
                        issued_at=issued_at, sid=None)


def principal_of(rows: Sequence[Row], *, role: str | None, issued_at: datetime | None,
                 sid: str | None) -> Principal | None:
    """The checks against the token run on every request, cached rows or not. A token of a sign-in session
    (sid) works only while that session is live: logout, refresh-token reuse, a password change and disabling
    revoke it, and its access tokens stop at once."""
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
    user_role = Role(row["role"])
    grid_ids = frozenset(r["grid_id"] for r in rows if r["grid_id"] is not None) \
        if user_role is Role.grid_worker else frozenset()
    admin = user_role is Role.admin
    return Principal(user_id=row["id"], role=user_role, building_id=row["building_id"],
                     community_id=row["community_id"], grid_ids=grid_ids, department_id=row["department_id"],
                     scope_grid_id=row["scope_grid_id"], scope_path=row["path"] if admin else None,
                     scope_level=row["level"] if admin else None)


async def _principal_rows(cache: PrincipalCache, claims: TokenClaims, rows: Rows) -> Sequence[Row]:
    user_id = int(claims.sub)
    found = cache.get(user_id, claims.sid)
    if found is None:
        generation = cache.generation  # before the read: a change noticed meanwhile keeps these rows out
        found = await rows.all(_PRINCIPAL_ROWS, {"user_id": user_id, "sid": claims.sid})
        cache.put(user_id, found, generation, claims.sid)
    return found


async def principal_for(cache: PrincipalCache, claims: TokenClaims, rows: Rows) -> Principal | None:
    """The principal an access token's claims stand for right now (None: no longer valid). Live streams call it
    again on each heartbeat, since their token was checked only when they opened."""
    return principal_of(await _principal_rows(cache, claims, rows), role=claims.role, issued_at=claims.iat,
                        sid=claims.sid)


async def _principal(request: Request, token: str | None, rows: Rows) -> Principal:
    if not token:
        raise Unauthenticated()
    state = request.app.state
    try:
        claims = decode_token(state.settings, state.jwt_secret, token, expected="access")
    except InvalidToken as exc:
        raise Unauthenticated() from exc
    found = await _principal_rows(state.principals, claims, rows)
    principal = principal_of(found, role=claims.role, issued_at=claims.iat, sid=claims.sid)
    request.state.session_id = claims.sid
    request.state.token_claims = claims
    if principal is None:
        raise Unauthenticated()
    request.state.user_id = principal.user_id
    # the privacy notice (issue 21): read with the principal's row, so no statement of its own
    ensure_consent(state.settings, principal.role, found[0]["privacy_version"], request.method, request.url.path)
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
