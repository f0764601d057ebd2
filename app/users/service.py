"""Accounts: creation with role bindings, profile changes, admin management within a scope."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import sessions
from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.core.security import hash_password
from app.db.helpers import flush_or_conflict
from app.org import policies as org_policies
from app.org import service as org_service
from app.org.models import Grid, GridLevel
from app.privacy import policies as privacy
from app.users import policies
from app.users.models import Role, User, UserGrid
from app.users.schemas import MeUpdate, UserCreate, UserRead, UserUpdate

# Which binding each role needs; the others must be empty.
_BINDING = {Role.resident: "building_id", Role.grid_worker: "grid_ids", Role.department: "department_id",
            Role.admin: "scope_grid_id"}


async def _resolve_bindings(db: AsyncSession, role: Role, *, building_id: int | None, grid_ids: list[int],
                            department_id: int | None, scope_grid_id: int | None) -> list[str]:
    """Check the role's binding exists and is active; return the anchor paths (for scope checks)."""
    given = {"building_id": building_id, "grid_ids": grid_ids, "department_id": department_id,
             "scope_grid_id": scope_grid_id}
    needed = _BINDING[role]
    extra = [k for k, v in given.items() if k != needed and v]
    if extra or not given[needed]:
        raise InvalidInput("validation_error", {"role": role, "requires": needed, "not_allowed": extra})
    if role is Role.resident:
        return [(await org_service.active_node(db, building_id, GridLevel.building)).path]
    if role is Role.grid_worker:
        return [(await org_service.active_node(db, g, GridLevel.grid)).path for g in dict.fromkeys(grid_ids)]
    if role is Role.department:
        return [(await org_service.active_department(db, department_id))[1]]
    return [(await org_service.active_node(db, scope_grid_id)).path]


async def create_user(db: AsyncSession, settings: Settings, *, phone: str, password: str | None, display_name: str,
                      role: Role, building_id: int | None = None, grid_ids: list[int] | None = None,
                      department_id: int | None = None, scope_grid_id: int | None = None,
                      is_building_lead: bool = False, scope: Principal | None = None,
                      password_hash: str | None = None) -> User:
    """Create an account. With `scope`, every binding must lie inside that admin's subtree."""
    grid_ids = list(dict.fromkeys(grid_ids or []))
    paths = await _resolve_bindings(db, role, building_id=building_id, grid_ids=grid_ids,
                                    department_id=department_id, scope_grid_id=scope_grid_id)
    if scope is not None and not all(policies.anchor_ok(scope, role, path) for path in paths):
        raise InvalidInput("invalid_reference", {"binding": _BINDING[role]})
    if (await db.execute(select(User.id).where(User.phone == phone))).first():
        raise Conflict("phone_taken")
    user = User(phone=phone, password_hash=password_hash or hash_password(settings, password or ""),
                display_name=display_name,
                role=role, building_id=building_id,
                community_id=org_policies.community_of(paths[0]) if role is Role.resident else None,
                department_id=department_id, scope_grid_id=scope_grid_id, is_building_lead=is_building_lead)
    db.add(user)
    await flush_or_conflict(db, "phone_taken")
    for g in grid_ids:
        db.add(UserGrid(user_id=user.id, grid_id=g))
    await db.flush()
    return user


async def grid_ids_of(db: AsyncSession, user_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {u: [] for u in user_ids}
    if user_ids:
        rows = await db.execute(select(UserGrid.user_id, UserGrid.grid_id).where(UserGrid.user_id.in_(user_ids))
                                .order_by(UserGrid.grid_id))
        for uid, gid in rows:
            out[uid].append(gid)
    return out


async def to_read(db: AsyncSession, users: list[User], p: Principal, *, one_account: bool = True,
                  audit_read: bool = False) -> list[UserRead]:
    """Accounts as `p` sees them: the phone number full or masked by app/privacy/policies.py (one account read by
    an admin who manages it: full; lists: masked). `audit_read`: staff reading one resident's full profile leave
    an audit entry (issue 21)."""
    grids = await grid_ids_of(db, [u.id for u in users if u.role == Role.grid_worker])
    out = []
    for u in users:
        view = privacy.account_phone_view(p, u.id, one_account=one_account)
        if audit_read and view is privacy.PhoneView.full and privacy.audits_profile_read(p, u.id, u.role):
            audit.record(db, p.user_id, "user.profile_read", "user", u.id)
        out.append(UserRead.model_validate(u).model_copy(
            update={"grid_ids": grids.get(u.id, []), "phone": privacy.shown_phone(u.phone, view)}))
    return out


async def anchor_paths(db: AsyncSession, user: User) -> list[str]:
    ids = [i for i in (user.building_id, user.scope_grid_id) if i]
    ids += (await grid_ids_of(db, [user.id]))[user.id]
    paths = list((await db.execute(select(Grid.path).where(Grid.id.in_(ids)))).scalars()) if ids else []
    if user.department_id:
        path = await org_service.department_owner_path(db, user.department_id)
        paths += [path] if path else []
    return paths


# ---- self-service -------------------------------------------------------------------------------------------


async def get_me(db: AsyncSession, p: Principal) -> UserRead:
    user = await db.get(User, p.user_id)
    if user is None:
        raise NotFound()
    return (await to_read(db, [user], p))[0]


async def update_me(db: AsyncSession, p: Principal, data: MeUpdate) -> UserRead:
    user = await db.get(User, p.user_id)
    if user is None:
        raise NotFound()
    changes = data.model_dump(exclude_unset=True)
    if changes.get("display_name", "") is None:
        raise InvalidInput("validation_error", {"field": "display_name", "reason": "must not be null"})
    if "building_id" in changes:
        if user.role != Role.resident or changes["building_id"] is None:
            raise InvalidInput("validation_error", {"field": "building_id", "reason": "residents only"})
        building = await org_service.active_node(db, changes["building_id"], GridLevel.building)
        if org_policies.community_of(building.path) != user.community_id:
            # another community's feed, groups and votes: staff move a resident there (PATCH /admin/users/{id})
            raise Conflict("move_needs_staff", {"community_id": user.community_id,
                                                "to_community_id": org_policies.community_of(building.path)})
        if building.id != user.building_id:  # recorded for review (issue 13, items 14 and 17)
            audit.record(db, user.id, "user.self_move", "user", user.id, from_building_id=user.building_id,
                         to_building_id=building.id, from_community_id=user.community_id,
                         to_community_id=org_policies.community_of(building.path))
        user.community_id = org_policies.community_of(building.path)
        user.building_id = building.id
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    await db.flush()
    return (await to_read(db, [user], p))[0]


# ---- admin management ---------------------------------------------------------------------------------------


async def admin_create_user(db: AsyncSession, settings: Settings, p: Principal, data: UserCreate) -> UserRead:
    ensure_admin(p)
    user = await create_user(db, settings, phone=data.phone, password=data.password,
                             display_name=data.display_name, role=Role(data.role), building_id=data.building_id,
                             grid_ids=data.grid_ids, department_id=data.department_id,
                             scope_grid_id=data.scope_grid_id, is_building_lead=data.is_building_lead, scope=p)
    audit.record(db, p.user_id, "user.create", "user", user.id, role=user.role)
    return (await to_read(db, [user], p))[0]


async def _found_user(db: AsyncSession, p: Principal, user_id: int, *, grids_only: bool = False) -> tuple[User, bool]:
    """The account and whether this admin manages it whole (every anchor below the scope); 404 when not at all.
    `grids_only`: a grid worker bound partly inside the scope is found too (False), to change the bindings there."""
    ensure_admin(p)
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound()
    paths = await anchor_paths(db, user)
    role = Role(user.role)
    if policies.can_manage_user(p, role, paths):
        return user, True
    if grids_only and policies.can_rebind_own_grids(p, role, paths):
        return user, False
    raise NotFound()


async def _visible_user(db: AsyncSession, p: Principal, user_id: int) -> User:
    """The account if this admin manages it (every anchor below the scope), else 404."""
    return (await _found_user(db, p, user_id))[0]


async def admin_get_user(db: AsyncSession, p: Principal, user_id: int) -> UserRead:
    return (await to_read(db, [await _visible_user(db, p, user_id)], p, audit_read=True))[0]


async def admin_list_users(db: AsyncSession, p: Principal, *, role: Role | None, q: str | None,
                           include_inactive: bool, limit: int, cursor: str | None):
    ensure_admin(p)
    stmt = select(User).where(policies.visible_users(p))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(or_(User.display_name.contains(q, autoescape=True),
                              User.phone.startswith(q, autoescape=True)))
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    rows = (await db.execute(keyset(stmt, [User.id], [int], cursor, limit))).scalars().all()
    items, nxt = page_of(rows, limit, lambda u: [u.id])
    return await to_read(db, items, p, one_account=False), nxt


async def admin_update_user(db: AsyncSession, p: Principal, user_id: int, data: UserUpdate) -> UserRead:
    changes = data.model_dump(exclude_unset=True)
    user, whole = await _found_user(db, p, user_id, grids_only=changes.keys() == {"grid_ids"})
    if not whole:
        return await _rebind_grids_in_scope(db, p, user, changes["grid_ids"])
    binding_keys = {"building_id", "grid_ids", "department_id", "scope_grid_id"} & changes.keys()
    if not policies.can_change_self(p, user.id) and ({"is_active"} | binding_keys) & changes.keys():
        raise NotPermitted()
    for k in ("display_name", "is_active", "is_building_lead"):
        if k in changes and changes[k] is None:
            raise InvalidInput("validation_error", {"field": k, "reason": "must not be null"})
    role = Role(user.role)
    if binding_keys:
        current = {"building_id": user.building_id, "grid_ids": (await grid_ids_of(db, [user.id]))[user.id],
                   "department_id": user.department_id, "scope_grid_id": user.scope_grid_id}
        current.update({k: changes[k] for k in binding_keys})
        paths = await _resolve_bindings(db, role, building_id=current["building_id"],
                                        grid_ids=current["grid_ids"] or [], department_id=current["department_id"],
                                        scope_grid_id=current["scope_grid_id"])
        if not all(policies.anchor_ok(p, role, path) for path in paths):
            raise InvalidInput("invalid_reference", {"binding": _BINDING[role]})
        if role is Role.resident:
            user.building_id = current["building_id"]
            user.community_id = org_policies.community_of(paths[0])
        elif role is Role.grid_worker:
            await db.execute(delete(UserGrid).where(UserGrid.user_id == user.id))
            for g in dict.fromkeys(current["grid_ids"]):
                db.add(UserGrid(user_id=user.id, grid_id=g))
        elif role is Role.department:
            user.department_id = current["department_id"]
        else:
            user.scope_grid_id = current["scope_grid_id"]
    for k in ("display_name", "is_active", "is_building_lead"):
        if k in changes:
            setattr(user, k, changes[k])
    if changes.get("is_active") is False:
        await sessions.revoke_all(db, user.id)  # access tokens stop at once: get_principal checks is_active
    await db.flush()
    audit.record(db, p.user_id, "user.update", "user", user.id,
                 **{k: v for k, v in changes.items() if k != "password"})
    return (await to_read(db, [user], p))[0]


async def _rebind_grids_in_scope(db: AsyncSession, p: Principal, user: User, grid_ids: list[int]) -> UserRead:
    """A grid worker bound in several communities: this admin replaces only the bindings inside their scope; the
    others stay as they are."""
    requested = list(dict.fromkeys(grid_ids))
    paths = await _resolve_bindings(db, Role.grid_worker, building_id=None, grid_ids=requested,
                                    department_id=None, scope_grid_id=None) if requested else []
    if not all(p.in_scope(path) for path in paths):
        raise InvalidInput("invalid_reference", {"binding": "grid_ids"})
    current = (await grid_ids_of(db, [user.id]))[user.id]
    current_paths = dict((await db.execute(select(Grid.id, Grid.path).where(Grid.id.in_(current)))).all())
    kept = [g for g in current if not p.in_scope(current_paths.get(g))]
    final = list(dict.fromkeys(kept + requested))
    if not final:
        raise InvalidInput("validation_error", {"field": "grid_ids", "reason": "a grid worker needs a grid"})
    await db.execute(delete(UserGrid).where(UserGrid.user_id == user.id))
    for g in final:
        db.add(UserGrid(user_id=user.id, grid_id=g))
    await db.flush()
    audit.record(db, p.user_id, "user.update", "user", user.id, grid_ids=requested, kept_outside_scope=kept)
    return (await to_read(db, [user], p))[0]
