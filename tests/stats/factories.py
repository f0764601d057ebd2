"""Reports with hand-chosen columns, for figures computed by hand.

`put_report(app, world, created="2026-03-01T15:59:00Z", state="closed", accepted=1, resolved=10, rating=5)`
inserts one row directly (no lifecycle): times are given in hours after created_at, so a fixture reads like
the table of a hand computation. respond_by defaults to created + 24 h, resolve_by to accepted + 7 days.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from app.org import service as org_service
from app.org.models import Category, Department, Grid, GridLevel
from app.reports.models import Report
from app.stats import rollups

FAR = datetime.fromisoformat("2099-01-01T00:00:00+00:00")
_numbers = itertools.count(1)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _later(created: datetime, hours: float | None) -> datetime | None:
    return None if hours is None else created + timedelta(hours=hours)


async def put_report(app, world, *, created: str, state: str, place: tuple[Grid, Grid, Grid] | None = None,
                     reporter: str = "resident_a", category: Category | None = None,
                     handler: Department | None = None, respond_by: datetime | None = None,
                     responded: float | None = None, accepted: float | None = None, resolved: float | None = None,
                     closed: float | None = None, resolve_by: datetime | str | None = None, rating: int | None = None,
                     reopen_count: int = 0, auto_closed: bool = False) -> Report:
    """One report in `place` = (community, grid, building) (default: c1, g1, b1)."""
    community, grid, building = place or (world.c1, world.g1, world.b1)
    created_at = at(created)
    accepted_at = _later(created_at, accepted)
    if isinstance(resolve_by, str):
        resolve_by = at(resolve_by)
    report = Report(
        number=f"ST{next(_numbers):08d}", street_id=world.street.id, community_id=community.id, grid_id=grid.id,
        building_id=building.id, grid_path=f"{grid.path}", category_id=(category or world.cat).id,
        title="手工构造的报事", description="", is_public=True, hide_reporter=False, source="app",
        reporter_id=world.users[reporter].id, filed_by_id=world.users[reporter].id, state=state, version=1,
        handler_department_id=handler.id if handler else None,
        respond_by=respond_by or created_at + timedelta(hours=24),
        responded_at=_later(created_at, responded if responded is not None else accepted),
        accepted_at=accepted_at,
        resolve_by=resolve_by or (accepted_at + timedelta(days=7) if accepted_at else None),
        resolved_at=_later(created_at, resolved), closed_at=_later(created_at, closed), rating=rating,
        rated_at=_later(created_at, closed) if rating is not None else None, reopen_count=reopen_count,
        auto_closed=auto_closed, created_at=created_at, updated_at=created_at)
    async with app.state.db.session(write=True) as s:
        s.add(report)
        await s.flush()
        # what a submission and its steps would have left in the figures' roll-ups (issue 20)
        await rollups.apply(s, None, rollups.fields_of(report))
    return report


async def add_department(app, world, name: str, code: str, owner: Grid | None = None) -> Department:
    async with app.state.db.session(write=True) as s:
        dept = Department(grid_id=(owner or world.street).id, name=name, code=code)
        s.add(dept)
    return dept


async def add_category(app, world, name: str, code: str) -> Category:
    async with app.state.db.session(write=True) as s:
        cat = Category(grid_id=world.street.id, name=name, code=code, default_department_id=world.d1.id,
                       respond_within_minutes=24 * 60, resolve_within_minutes=15 * 24 * 60)
        s.add(cat)
    return cat


async def add_grid(app, parent: Grid, name: str) -> tuple[Grid, Grid]:
    """A grid under `parent` (a community) with one building: (grid, building)."""
    async with app.state.db.session(write=True) as s:
        grid = await org_service.add_node(s, parent=parent, level=GridLevel.grid, name=name)
        building = await org_service.add_node(s, parent=grid, level=GridLevel.building, name=name + "1号楼")
    return grid, building
