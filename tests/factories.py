"""Factories: a two-community world with one account of every role and relation, in one call."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import issue_token
from app.org import service as org_service
from app.org.models import Category, Department, Grid, GridLevel
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role, User

PASSWORD = "correct-horse-9"


@dataclass
class World:
    settings: Settings
    street: Grid
    c1: Grid
    c2: Grid
    g1: Grid  # in c1
    g2: Grid  # in c2
    b1: Grid  # in g1
    b2: Grid  # in g1
    b3: Grid  # in g2
    d1: Department
    d2: Department
    cat: Category
    users: dict[str, User] = field(default_factory=dict)
    _phones: int = 0

    def headers(self, who: str | User, **extra: str) -> dict[str, str]:
        user = self.users[who] if isinstance(who, str) else who
        token = issue_token(self.settings, self.settings.jwt_secret, user_id=user.id, role=user.role,
                            typ="access").token
        return {"Authorization": f"Bearer {token}", **extra}


def next_phone(n: int) -> str:
    return f"139{n:08d}"


async def make_user(db: AsyncSession, settings: Settings, role: Role, n: int, **binding) -> User:
    user = await users_service.create_user(db, settings, phone=next_phone(n), password=PASSWORD,
                                           display_name=f"{role.value}-{n}", role=role, **binding)
    if role is Role.resident:  # residents of the test world have accepted the current privacy notice (issue 21)
        await record_consent(db, user.id, settings.privacy_notice_version, via="register", settings=settings)
    return user


async def build_world(db: AsyncSession, settings: Settings) -> World:
    street = await org_service.add_node(db, parent=None, level=GridLevel.street, name="街道")
    c1 = await org_service.add_node(db, parent=street, level=GridLevel.community, name="社区一")
    c2 = await org_service.add_node(db, parent=street, level=GridLevel.community, name="社区二")
    g1 = await org_service.add_node(db, parent=c1, level=GridLevel.grid, name="网格一")
    g2 = await org_service.add_node(db, parent=c2, level=GridLevel.grid, name="网格二")
    b1 = await org_service.add_node(db, parent=g1, level=GridLevel.building, name="1号楼")
    b2 = await org_service.add_node(db, parent=g1, level=GridLevel.building, name="2号楼")
    b3 = await org_service.add_node(db, parent=g2, level=GridLevel.building, name="3号楼")
    d1 = Department(grid_id=street.id, name="城管", code="d1")
    d2 = Department(grid_id=c2.id, name="社区二物业", code="d2")
    db.add_all([d1, d2])
    await db.flush()
    cat = Category(grid_id=street.id, name="环境卫生", code="sanitation", default_department_id=d1.id,
                   respond_within_minutes=24 * 60, resolve_within_minutes=7 * 24 * 60)
    db.add(cat)
    await db.flush()
    w = World(settings, street, c1, c2, g1, g2, b1, b2, b3, d1, d2, cat)
    plan = {
        "resident_a": (Role.resident, {"building_id": b1.id}),
        "resident_b": (Role.resident, {"building_id": b2.id}),     # same community as a
        "resident_c": (Role.resident, {"building_id": b3.id}),     # other community
        "worker_in": (Role.grid_worker, {"grid_ids": [g1.id]}),
        "worker_out": (Role.grid_worker, {"grid_ids": [g2.id]}),
        "dept_in": (Role.department, {"department_id": d1.id}),
        "dept_out": (Role.department, {"department_id": d2.id}),
        "admin_street": (Role.admin, {"scope_grid_id": street.id}),
        "admin_c1": (Role.admin, {"scope_grid_id": c1.id}),
        "admin_c2": (Role.admin, {"scope_grid_id": c2.id}),
    }
    for i, (name, (role, binding)) in enumerate(plan.items(), start=1):
        w.users[name] = await make_user(db, settings, role, i, **binding)
    return w
