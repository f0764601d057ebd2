"""The worker tells the handler and the community's admins, once per deadline, that a report is overdue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.notifications.models import Notification
from app.reports import service
from app.reports.models import Report
from tests.reports.factories import make_report


async def _overdue_notices(app) -> dict[int, int]:
    async with app.state.db.session(write=False) as s:
        rows = (await s.execute(select(Notification.user_id, func.count()).where(
            Notification.type == "report.overdue").group_by(Notification.user_id))).all()
    return dict(rows)


async def _sweep(app, settings) -> int:
    async with app.state.db.session(write=True) as s:
        return await service.announce_overdue(s, settings, datetime.now(UTC))


async def test_an_overdue_report_is_announced_once_per_deadline(app, world, settings):
    report = await make_report(app, world, state="dispatched")  # handled by d1 (dept_in)
    fresh = await make_report(app, world, state="dispatched")
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report.id)
                        .values(resolve_by=datetime.now(UTC) - timedelta(hours=1)))
    results = await asyncio.gather(_sweep(app, settings), _sweep(app, settings))  # two workers at once
    assert sorted(results) == [0, 1]
    assert await _overdue_notices(app) == {world.users["dept_in"].id: 1, world.users["admin_c1"].id: 1}
    assert await _sweep(app, settings) == 0  # once per deadline
    # an extended deadline that passes again is announced again
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report.id)
                        .values(resolve_by=datetime.now(UTC) - timedelta(minutes=5)))
    assert await _sweep(app, settings) == 1
    assert await _overdue_notices(app) == {world.users["dept_in"].id: 2, world.users["admin_c1"].id: 2}
    assert fresh.id != report.id


async def test_a_report_waiting_for_intake_tells_the_grid(app, world, settings):
    report = await make_report(app, world, state="submitted")
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report.id)
                        .values(respond_by=datetime.now(UTC) - timedelta(hours=1)))
    assert await _sweep(app, settings) == 1
    assert set(await _overdue_notices(app)) == {world.users["worker_in"].id, world.users["admin_c1"].id}
