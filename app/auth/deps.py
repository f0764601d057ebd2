"""Dependencies: the current principal from the bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select

from app.auth.principal import Principal
from app.core.errors import Unauthenticated
from app.core.security import InvalidToken, decode_token
from app.db.session import DbSession
from app.org.models import Grid
from app.users.models import Role, User, UserGrid

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_principal(request: Request, db: DbSession,
                        token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    if not token:
        raise Unauthenticated()
    settings = request.app.state.settings
    try:
        claims = decode_token(settings, request.app.state.jwt_secret, token, expected="access")
    except InvalidToken as exc:
        raise Unauthenticated() from exc
    row = (await db.execute(
        select(User.id, User.role, User.is_active, User.building_id, User.community_id, User.department_id,
               User.scope_grid_id, Grid.path, Grid.level, User.password_changed_at)
        .outerjoin(Grid, Grid.id == User.scope_grid_id)
        .where(User.id == int(claims.sub))
    )).one_or_none()
    if row is None or not row.is_active or row.role != claims.role:
        raise Unauthenticated()
    if row.password_changed_at is not None and claims.iat < row.password_changed_at.replace(microsecond=0):
        raise Unauthenticated()
    role = Role(row.role)
    grid_ids: frozenset[int] = frozenset()
    if role is Role.grid_worker:
        grid_ids = frozenset((await db.execute(
            select(UserGrid.grid_id).where(UserGrid.user_id == row.id))).scalars())
    principal = Principal(user_id=row.id, role=role, building_id=row.building_id, community_id=row.community_id,
                          grid_ids=grid_ids, department_id=row.department_id, scope_grid_id=row.scope_grid_id,
                          scope_path=row.path if role is Role.admin else None,
                          scope_level=row.level if role is Role.admin else None)
    request.state.user_id = principal.user_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
