"""The demo community: one street, two communities, grids, buildings, departments, categories, one account per role.

Loaded by `weilinli demo` into an empty database; the accounts and passwords are printed on start.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.org import service as org_service
from app.org.models import Category, Department, Grid, GridLevel
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role, User

HOUR = 60
DAY = 24 * HOUR

DEPARTMENTS = [("城管", "chengguan"), ("物业", "wuye"), ("市政", "shizheng"), ("司法所", "sifasuo"), ("应急", "yingji")]

# name, code, department code, respond within, resolve within (GLOSSARY.md: 12345 practice)
CATEGORIES = [
    ("环境卫生", "sanitation", "chengguan", 24 * HOUR, 7 * DAY),
    ("市政设施 路灯/井盖", "municipal", "shizheng", 24 * HOUR, 7 * DAY),
    ("供水供电供气", "utilities", "shizheng", 2 * HOUR, 24 * HOUR),
    ("物业服务", "property", "wuye", 24 * HOUR, 7 * DAY),
    ("违章搭建", "illegal-building", "chengguan", 24 * HOUR, 15 * DAY),
    ("邻里纠纷", "neighbour-dispute", "sifasuo", 24 * HOUR, 15 * DAY),
    ("安全隐患", "safety-hazard", "yingji", 2 * HOUR, 24 * HOUR),
]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    phone: str
    password: str
    name: str
    where: str


# The demo accounts: fixed, so a second `weilinli demo` can say how to log in (the names follow from the tree
# that seed() builds: 阳光社区 and 和平社区, each with two grids of buildings 101-103 and 201-203).
ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("resident", "13800000001", "demo-resident-1", "张阿姨", "阳光社区 101号楼"),
    DemoAccount("resident", "13800000002", "demo-resident-2", "李先生", "阳光社区 201号楼"),
    DemoAccount("resident", "13800000003", "demo-resident-3", "王同学", "和平社区 101号楼"),
    DemoAccount("grid_worker", "13900000001", "demo-grid-1", "赵网格员", "阳光社区第1网格, 阳光社区第2网格"),
    DemoAccount("grid_worker", "13900000002", "demo-grid-2", "钱网格员", "和平社区第1网格"),
    DemoAccount("department", "13700000001", "demo-dept-1", "孙城管", "城管"),
    DemoAccount("department", "13700000002", "demo-dept-2", "周物业", "物业"),
    DemoAccount("admin", "13600000001", "demo-admin-1", "吴主任(街道)", "幸福街道"),
    DemoAccount("admin", "13600000002", "demo-admin-2", "郑书记(社区)", "阳光社区"),
)


async def existing_accounts(db: AsyncSession) -> list[DemoAccount]:
    """The demo accounts that exist in this database (a second `weilinli demo` prints them)."""
    phones = set((await db.execute(select(User.phone).where(User.phone.in_([a.phone for a in ACCOUNTS]))))
                 .scalars())
    return [a for a in ACCOUNTS if a.phone in phones]


async def seed(db: AsyncSession, settings: Settings) -> list[DemoAccount] | None:
    """Load the demo community into an empty database; None when the database already has a grid tree."""
    if (await db.execute(select(Grid.id).limit(1))).first():
        return None
    street = await org_service.add_node(db, parent=None, level=GridLevel.street, name="幸福街道", code="xingfu")
    communities, grids, buildings = [], [], []
    for ci, cname in enumerate(["阳光社区", "和平社区"], start=1):
        community = await org_service.add_node(db, parent=street, level=GridLevel.community, name=cname,
                                               code=f"c{ci}")
        communities.append(community)
        for gi in range(1, 3):
            grid = await org_service.add_node(db, parent=community, level=GridLevel.grid,
                                              name=f"{cname}第{gi}网格", code=f"c{ci}-g{gi}")
            grids.append(grid)
            for bi in range(1, 4):
                buildings.append(await org_service.add_node(
                    db, parent=grid, level=GridLevel.building, name=f"{gi}{bi:02d}号楼", code=f"c{ci}-g{gi}-b{bi}"))
    depts = {}
    for name, code in DEPARTMENTS:
        dept = Department(grid_id=street.id, name=name, code=code)
        db.add(dept)
        depts[code] = dept
    await db.flush()
    for name, code, dept_code, respond, resolve in CATEGORIES:
        db.add(Category(grid_id=street.id, name=name, code=code, default_department_id=depts[dept_code].id,
                        respond_within_minutes=respond, resolve_within_minutes=resolve))
    await db.flush()

    plan = list(ACCOUNTS)
    bindings = [
        {"building_id": buildings[0].id}, {"building_id": buildings[3].id}, {"building_id": buildings[6].id},
        {"grid_ids": [grids[0].id, grids[1].id]}, {"grid_ids": [grids[2].id]},
        {"department_id": depts["chengguan"].id}, {"department_id": depts["wuye"].id},
        {"scope_grid_id": street.id}, {"scope_grid_id": communities[0].id},
    ]
    users = {}
    for acct, bind in zip(plan, bindings, strict=True):
        users[acct.phone] = await users_service.create_user(db, settings, phone=acct.phone, password=acct.password,
                                                            display_name=acct.name, role=Role(acct.role), **bind)
        if acct.role == Role.resident:  # the demo residents have read the current privacy notice (issue 21)
            await record_consent(db, users[acct.phone].id, settings.privacy_notice_version, via="register",
                                 settings=settings)
    await _demo_reports(db, settings, users, depts)
    return plan


async def _demo_reports(db: AsyncSession, settings: Settings, users: dict, depts: dict) -> None:
    """A few reports along the lifecycle, made through the same services the API uses (timelines included)."""
    from app.auth.deps import load_principal
    from app.reports import service as reports_service
    from app.reports.lifecycle import Action
    from app.reports.schemas import ReportCreate, StepIn

    category = (await db.execute(select(Category).where(Category.code == "sanitation"))).scalar_one()
    lamp = (await db.execute(select(Category).where(Category.code == "municipal"))).scalar_one()
    resident = await load_principal(db, users["13800000001"].id)
    worker = await load_principal(db, users["13900000001"].id)
    dept = await load_principal(db, users["13700000001"].id)

    async def step(report, who, action, **fields):
        return await reports_service.take_step(db, settings, who, report["id"],
                                               StepIn(action=action, expected_version=report["version"], **fields))

    await reports_service.submit_report(db, resident, ReportCreate(
        category_id=lamp.id, title="3号楼门口路灯不亮", description="晚上很黑，老人出门不方便"))
    r = await reports_service.submit_report(db, resident, ReportCreate(
        category_id=category.id, title="楼道堆放纸箱", description="1单元楼道被纸箱堵住，有消防隐患"))
    r = await step(r, worker, Action.accept, note="已受理")
    r = await step(r, worker, Action.dispatch, department_id=depts["chengguan"].id)
    r = await step(r, dept, Action.start)
    await step(r, dept, Action.resolve, note="纸箱已清理，已提醒住户")
