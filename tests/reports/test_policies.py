"""The SQL visibility filter and its pure mirror agree, for every viewer and every kind of report."""

from __future__ import annotations

import itertools
from functools import lru_cache

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from app.db.reader import Prepared
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
                                                               policies.visible_sql(policies.viewer_shape(p))),
                                      policies.viewer_params(p))).scalars())
            pure = {r.id for r in reports if policies.can_view(p, facts_of(r), r.state == "withdrawn")}
            assert sql == pure, who
            if who != "dept_out":  # every other viewer sees some of them, so the comparison is not vacuous
                assert sql, who


@lru_cache
def _visible_among(shape: policies.ViewerShape) -> Prepared:
    return Prepared(select(Report.id).where(Report.id.in_(bindparam("ids", expanding=True)),
                                            policies.visible_sql(shape)))


async def test_prepared_conditions_are_bound_to_each_viewer(app, world):
    """Hot reads build the condition once per viewer *shape* (resident_a and resident_b share one, as do the two
    workers, the two departments and the two community admins) and bind it per request: through the Reader,
    every viewer gets the pure mirror's answer, in two rounds (the second reuses every compiled statement)."""
    made = [await make_report(app, world, state=state, reporter=reporter)
            for state, reporter in itertools.product(["submitted", "dispatched"], ["resident_a", "resident_c"])]
    ids = [r.id for r in made]
    async with app.state.db.session(write=False) as s:
        reports = (await s.execute(select(Report).where(Report.id.in_(ids)))).scalars().all()
    for who in VIEWERS * 2:
        p = await principal(app, world.users[who])
        got = {r["id"] for r in await app.state.db.reader.all(
            _visible_among(policies.viewer_shape(p)), {**policies.viewer_params(p), "ids": ids})}
        assert got == {r.id for r in reports if policies.can_view(p, facts_of(r))}, who
    shapes = {policies.viewer_shape(await principal(app, world.users[w])) for w in VIEWERS}
    assert len(shapes) < len(VIEWERS)  # some viewers did share a compiled statement


async def test_a_prepared_statement_refuses_a_missing_parameter(app, world):
    """Never the value of whoever built it: a viewer parameter left out fails the statement."""
    p = await principal(app, world.users["resident_a"])
    stmt = _visible_among(policies.viewer_shape(p))
    with pytest.raises(SQLAlchemyError, match="viewer_id"):
        await app.state.db.reader.all(stmt, {"ids": [1]})
