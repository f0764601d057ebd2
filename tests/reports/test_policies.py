"""The SQL visibility filter and its pure mirror agree, for every viewer and every kind of report."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from app.reports import policies
from app.reports.models import Report
from app.reports.queries import facts_of
from tests.reports.factories import make_report, principal

VIEWERS = ["resident_a", "resident_b", "resident_c", "worker_in", "worker_out", "dept_in", "dept_out",
           "admin_street", "admin_c1", "admin_c2"]


async def test_visible_reports_matches_can_view(app, world):
    made = []
    for state, public, reporter in itertools.product(["submitted", "dispatched", "withdrawn"], [True, False],
                                                     ["resident_a", "resident_c"]):
        made.append(await make_report(app, world, state=state, is_public=public, reporter=reporter))
    async with app.state.db.session(write=False) as s:
        reports = (await s.execute(select(Report).where(Report.id.in_([r.id for r in made])))).scalars().all()
        for who in VIEWERS:
            p = await principal(app, world.users[who])
            sql = set((await s.execute(select(Report.id).where(Report.id.in_([r.id for r in made]),
                                                               policies.visible_reports(p)))).scalars())
            pure = {r.id for r in reports if policies.can_view(p, facts_of(r), r.state == "withdrawn")}
            assert sql == pure, who
            if who != "dept_out":  # every other viewer sees some of them, so the comparison is not vacuous
                assert sql, who
