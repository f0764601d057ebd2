"""The departments' ranking cells (cut STREET_DEPT) are kept only for reports a department handles (issue 20): a
step of an undispatched report writes none, and the migration deletes the department-0 rows and, on downgrade, makes
them again exactly. (A dispatch moving a report into a department's cells: test_rollup_math, and every equals-rebuild
test.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.reports import service
from app.reports.lifecycle import Action
from app.reports.schemas import StepIn
from app.stats import rollup_math as rm
from tests.reports.factories import principal
from tests.stats.factories import put_report
from tests.stats.rollup_helpers import drift, stored
from tests.stats.rollup_helpers import migration as rollup_migration


def _cut(cells: dict, cut: int) -> dict:
    return {k: v for k, v in cells.items() if k[0] == cut}


def _sums(cells: dict, want) -> dict:
    """The counters summed per (street, grain, day) over the cells `want(cell)` keeps."""
    out: dict = {}
    for k, v in cells.items():
        if want(k):
            into = out.setdefault((k[1], k[7], k[8]), dict.fromkeys(rm.COUNTERS, 0))
            for c in rm.COUNTERS:
                into[c] += v[c]
    return out


async def test_only_handled_reports_have_ranking_cells_and_an_accept_writes_none(app, world):
    now = datetime.now(UTC)
    for i in range(3):
        await put_report(app, world, created=(now - timedelta(days=40 + i)).isoformat(), state="submitted")
        await put_report(app, world, created=(now - timedelta(days=2, hours=i)).isoformat(), state="dispatched",
                         accepted=1, handler=world.d1)
    r = await put_report(app, world, created=(now - timedelta(hours=5)).isoformat(), state="submitted")
    counters, _ = await stored(app)
    assert {k[5] for k in _cut(counters, rm.STREET_DEPT)} == {world.d1.id}
    assert {k[8] for k in _cut(counters, rm.STREET_DEPT) if k[7] == rm.DAY} \
        == {rm.china_day(now - timedelta(days=2, hours=i)) for i in range(3)}
    p = await principal(app, world.users["worker_in"])
    async with app.state.db.session(write=True) as s:
        await service.take_step(s, app.state.settings, p, r.id, StepIn(action=Action.accept, expected_version=1))
    after, _ = await stored(app)
    assert _cut(after, rm.STREET_DEPT) == _cut(counters, rm.STREET_DEPT)  # accepted: still no department
    assert await drift(app) == ([], [])


async def test_the_migration_deletes_the_department_0_cells_and_makes_them_again(app, world):
    now = datetime.now(UTC)
    for i in range(6):
        created = (now - timedelta(days=3 + 11 * i, hours=i)).isoformat()
        await put_report(app, world, created=created, state="submitted" if i % 2 else "resolved", accepted=0.5,
                         resolved=None if i % 2 else 5, handler=None if i % 3 else world.d1)
        await put_report(app, world, created=created, state="accepted", accepted=0.2,
                         place=(world.c2, world.g2, world.b3))
    kept = await stored(app)
    migration = rollup_migration("rollup_no_department_ranking")
    async with app.state.db.engine.begin() as conn:
        await conn.run_sync(migration.restore)
    restored, _ = await stored(app)
    made = {k: v for k, v in _cut(restored, rm.STREET_DEPT).items() if k[5] == 0}
    assert made and {k[7] for k in made} == {rm.DAY, rm.MONTH}
    # what the steps had written: the street's whole cells less its handled reports' ranking cells
    street = _sums(restored, lambda k: k[0] == rm.STREET and k[7] != rm.HOUR)
    handled = _sums(restored, lambda k: k[0] == rm.STREET_DEPT and k[5] != 0)
    want = {k: {c: v[c] - handled.get(k, dict.fromkeys(rm.COUNTERS, 0))[c] for c in rm.COUNTERS}
            for k, v in street.items()}
    assert _sums(made, lambda k: True) == {k: v for k, v in want.items() if any(v.values())}
    async with app.state.db.engine.begin() as conn:
        await conn.run_sync(migration.remove)
    assert await stored(app) == kept
    assert await drift(app) == ([], [])
