"""The overdue reports the worker has announced are rolled up (rollup_math `overdue`, `late_waiting`): its sweep keeps
the roll-ups equal to a rebuild, in the same transaction as each announcement, also when a step on the same report
races it (either order); the figures (overdue_now, due, response_rate) read as rolled + live stay equal to the exact
ones with announced, late but unannounced and not yet due reports; the migration fills the counters of the reports
announced before it. Both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from app.reports import service, writes
from app.reports.lifecycle import Action
from app.reports.models import Report
from app.reports.schemas import StepIn
from app.stats import queries, rebuild, rollup_math, rollup_queries
from app.stats.models import report_rollups
from tests.reports.factories import principal
from tests.stats.factories import FAR, put_report
from tests.stats.rollup_helpers import drift, stored, wipe
from tests.stats.rollup_helpers import migration as rollup_migration

FIGURES, SERIES, RANKING = "/api/v1/stats/figures", "/api/v1/stats/series", "/api/v1/stats/ranking"


def _street_total(kept: tuple[dict, dict], name: str) -> int:
    """A counter summed over the street cut's day cells (each report counts once there)."""
    return sum(v[name] for cell, v in kept[0].items() if cell[0] == rollup_math.STREET and cell[7] == rollup_math.DAY)


async def _announce(app, now: datetime, batch: int = 200) -> int:
    async with app.state.db.session(write=True) as s:
        return await service.announce_overdue(s, app.state.settings, now, batch)


async def _mixed(app, world) -> dict[str, list]:
    """Open reports of both communities, created over the last weeks: late ones (respond_by / resolve_by passed),
    announced by the sweep; then more late ones it has not seen yet; and some not yet due."""
    now = datetime.now(UTC)
    c2 = (world.c2, world.g2, world.b3)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    async def late_batch(shift: float) -> list:
        return [
            await put_report(app, world, created=ago(9 + shift), state="submitted"),  # past respond_by
            await put_report(app, world, created=ago(8 + shift), state="submitted", place=c2, reporter="resident_c"),
            # reopened to intake after an answer: overdue, but not "waiting" (responded)
            await put_report(app, world, created=ago(7 + shift), state="submitted", responded=2.0),
            await put_report(app, world, created=ago(12 + shift), state="in_progress", accepted=1.0,
                             resolve_by=ago(2 + shift), handler=world.d1),
            await put_report(app, world, created=ago(11 + shift), state="dispatched", accepted=1.0,
                             resolve_by=ago(1 + shift), handler=world.d1, place=c2, reporter="resident_c"),
            await put_report(app, world, created=ago(10 + shift), state="accepted", accepted=3.0,
                             resolve_by=ago(3 + shift)),
        ]

    announced = await late_batch(0.5)
    not_due = [await put_report(app, world, created=ago(6), state="submitted", respond_by=FAR),
               await put_report(app, world, created=ago(5), state="in_progress", accepted=1.0, resolve_by=FAR,
                                handler=world.d1),
               await put_report(app, world, created=ago(4), state="closed", accepted=1.0, resolved=5.0, closed=6.0,
                                rating=4, handler=world.d1)]
    assert await _announce(app, now) == len(announced)
    unannounced = await late_batch(0.0)
    return {"announced": announced, "unannounced": unannounced, "not_due": not_due}


async def _get(client, world, url, who, params):
    resp = await client.get(url, headers=world.headers(who), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _same(doc):
    """Without the moment of the read, the method and the percentiles (compared elsewhere)."""
    if isinstance(doc, dict):
        return {k: _same(v) for k, v in doc.items() if k not in ("as_of", "method", "median", "p90", "mean")}
    return [_same(v) for v in doc] if isinstance(doc, list) else doc


async def test_the_sweep_keeps_the_roll_ups_equal_to_a_rebuild(app, world):
    made = await _mixed(app, world)
    kept = await stored(app)
    assert await drift(app) == ([], [])
    # only the announced reports are rolled up as overdue; 4 of them wait for intake, 3 unanswered
    assert _street_total(kept, "overdue") == len(made["announced"]) == 6
    assert _street_total(kept, "late_waiting") == 2 + 0 + 0  # the two unanswered submitted ones
    # a second sweep announces the rest, once
    assert await _announce(app, datetime.now(UTC)) == len(made["unannounced"])
    assert await _announce(app, datetime.now(UTC)) == 0
    assert await drift(app) == ([], [])
    kept = await stored(app)
    assert _street_total(kept, "overdue") == 12 and _street_total(kept, "late_waiting") == 4
    # steps on announced reports take their overdue away: an answer, an extended deadline
    p = await principal(app, world.users["worker_in"])
    admin = await principal(app, world.users["admin_c1"])
    first, late_active = made["announced"][0], made["announced"][3]
    async with app.state.db.session(write=True) as s:
        await service.take_step(s, app.state.settings, p, first.id, StepIn(action=Action.accept, expected_version=1))
    async with app.state.db.session(write=True) as s:
        await service.take_step(s, app.state.settings, admin, late_active.id, StepIn(
            action=Action.extend, expected_version=1, note="延期", resolve_by=datetime.now(UTC) + timedelta(days=9)))
    assert await drift(app) == ([], [])
    kept = await stored(app)
    assert _street_total(kept, "overdue") == 10 and _street_total(kept, "late_waiting") == 3
    # a rebuild from nothing makes exactly the same
    await wipe(app)
    await rebuild.rebuild(app.state.db.engine)
    assert await stored(app) == kept


async def test_overdue_due_and_response_rate_read_rolled_plus_live_equal_the_exact_ones(app, client, world):
    made = await _mixed(app, world)
    now = datetime.now(UTC)
    # the set's rolled and live parts are both at work
    rs = queries.street_set(world.street.id, now - timedelta(days=30), now)
    got = await rollup_queries.rolled(app.state.db.reader, rs, now)
    assert got is not None
    sums = got.sums[None]
    assert (sums["overdue"], sums["overdue_now"]) == (6, 6)
    assert (sums["late_waiting"], sums["waiting_late"]) == (2, 2)
    assert rollup_queries.as_measures(sums)["overdue_now"] == 12
    period = {"from": (now - timedelta(days=30)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()}
    mid_day = {"from": (now - timedelta(days=13, hours=5)).isoformat(), "to": (now - timedelta(hours=3)).isoformat()}
    for who, community_reports in (("admin_street", 15), ("admin_c1", 11)):
        for p in (period, mid_day):
            for extra in ({}, {"department_id": world.d1.id}, {"grid_id": world.g1.id}):
                rolled = await _get(client, world, FIGURES, who, {**p, **extra})
                exact = await _get(client, world, FIGURES, who, {**p, **extra, "exact": "true"})
                assert (rolled["method"], exact["method"]) == ("rollup", "exact")
                assert _same(rolled) == _same(exact), (who, p, extra)
            for granularity in ("day", "month"):
                q = {**p, "granularity": granularity}
                rolled = await _get(client, world, SERIES, who, q)
                exact = await _get(client, world, SERIES, who, {**q, "exact": "true"})
                assert rolled["method"] == "rollup" and rolled["points"] == exact["points"], (who, q)
            q = {**p, "kind": "department"}
            rolled = await _get(client, world, RANKING, who, q)
            exact = await _get(client, world, RANKING, who, {**q, "exact": "true"})
            assert rolled["method"] == "rollup" and _same(rolled) == _same(exact), (who, q)
        whole = await _get(client, world, FIGURES, who, period)
        assert whole["counts"]["submitted"] == community_reports
        # by hand: 12 late (6 announced, 6 not), of which c2 holds 2 + 2
        assert whole["counts"]["overdue_now"] == (12 if who == "admin_street" else 8), who
    dashboard = await _get(client, world, "/api/v1/stats/community", "resident_a", {**period, "granularity": "day"})
    exact = await _get(client, world, "/api/v1/stats/community", "resident_a",
                       {**period, "granularity": "day", "exact": "true"})
    assert _same(dashboard) == _same(exact) and dashboard["figures"]["counts"]["overdue_now"] == 8
    assert made["not_due"]


async def test_a_step_racing_an_announcement_leaves_the_roll_ups_equal_to_a_rebuild(app, world, monkeypatch):
    """A step reads the report, then wins its UPDATE on the version; the sweep's UPDATE on the deadline does not
    move the version. Either may come first; with a step that changes the deadline (accept) or not (hide)."""
    pg = app.state.db.engine.dialect.name == "postgresql"
    real = writes.step_with_event
    now = datetime.now(UTC)
    cases = []
    for when in (("before", "after") if pg else ("after",)):
        for action in (Action.accept, Action.hide):
            cases.append((when, action))
    for when, action in cases:
        r = await put_report(app, world, created=(now - timedelta(days=3)).isoformat(), state="submitted")
        sweep: list[asyncio.Task] = []

        async def racing(*args, _when=when, _sweep=sweep, **kw):
            if _when == "before":
                # the sweep announces (and commits) after the step read the report, before its UPDATE
                assert await _announce(app, datetime.now(UTC)) == 1
                return await real(*args, **kw)
            won = await real(*args, **kw)
            # the step holds the report's row: the sweep waits for its COMMIT, then re-checks the deadline
            _sweep.append(asyncio.create_task(_announce(app, datetime.now(UTC))))
            await asyncio.sleep(0.3)
            assert not _sweep[0].done()
            return won

        monkeypatch.setattr(writes, "step_with_event", racing)
        who = "worker_in" if action is Action.accept else "admin_c1"
        p = await principal(app, world.users[who])
        fields = {"note": "隐藏"} if action is Action.hide else {}
        async with app.state.db.session(write=True) as s:
            await service.take_step(s, app.state.settings, p, r.id, StepIn(action=action, expected_version=1,
                                                                          **fields))
        monkeypatch.setattr(writes, "step_with_event", real)
        if sweep:
            # an accepted report has a new deadline (not passed): nothing to announce; a hidden one is announced
            assert await sweep[0] == (0 if action is Action.accept else 1)
        assert await drift(app) == ([], []), (when, action)
        async with app.state.db.engine.connect() as conn:
            row = (await conn.execute(select(Report.state, Report.due_at, Report.overdue_notified_for)
                                      .where(Report.id == r.id))).one()
        # the hidden report stays submitted and announced: rolled up as overdue; the accepted one is not
        assert (row.overdue_notified_for == row.due_at) == (action is Action.hide), (when, action, row)
        kept = await stored(app)
        await wipe(app)
        await rebuild.rebuild(app.state.db.engine)
        assert await stored(app) == kept


async def test_concurrent_sweeps_and_steps_on_the_same_reports_leave_no_drift(app, world):
    now = datetime.now(UTC)
    made = [await put_report(app, world, created=(now - timedelta(days=2, minutes=i)).isoformat(), state="submitted")
            for i in range(20)]
    p = await principal(app, world.users["worker_in"])

    async def accept(r):
        await asyncio.sleep(0)
        async with app.state.db.session(write=True) as s:
            await service.take_step(s, app.state.settings, p, r.id, StepIn(action=Action.accept, expected_version=1))

    done = await asyncio.gather(*[accept(r) for r in made[::2]],
                                *[_announce(app, datetime.now(UTC), batch=3) for _ in range(8)])
    assert sum(done[len(made[::2]):]) <= len(made)
    await _announce(app, datetime.now(UTC))
    assert await drift(app) == ([], [])
    kept = await stored(app)
    assert _street_total(kept, "overdue") == _street_total(kept, "late_waiting") == 10  # the unaccepted half


async def test_the_migration_fills_the_counters_of_reports_announced_before_it(app, world):
    await _mixed(app, world)
    await _announce(app, datetime.now(UTC))
    kept = await stored(app)
    assert _street_total(kept, "overdue") == 12
    async with app.state.db.engine.begin() as conn:  # the roll-ups as they were before the migration
        await conn.execute(update(report_rollups).values(overdue=0, late_waiting=0))
    assert await drift(app) != ([], [])
    migration = rollup_migration("rollup_overdue")
    monkey_batch = migration.BATCH
    migration.BATCH = 5  # several batches
    try:
        async with app.state.db.engine.begin() as conn:
            assert await conn.run_sync(migration.fill) == 12
    finally:
        migration.BATCH = monkey_batch
    assert await drift(app) == ([], [])
    assert await stored(app) == kept


@pytest.mark.parametrize("scope", ["community", "street"])
async def test_the_live_part_reads_the_partial_index_of_unannounced_reports(app, world, scope):
    """Both planners can answer the live part from ix_reports_<scope>_unannounced: its predicate is the query's,
    and due_at < now is a range on its second column. (Tiny tables: the sequential scan is switched off on
    PostgreSQL, and SQLite is shown the index by its lack of statistics.)"""
    await _mixed(app, world)
    now = datetime.now(UTC)
    rs = (queries.street_set(world.street.id, now - timedelta(days=30), now) if scope == "street"
          else queries.community_set(world.c1.id, now - timedelta(days=30), now, world.street.id))
    async with app.state.db.engine.connect() as conn:
        pg = conn.dialect.name == "postgresql"
        stmt = rollup_queries._live_sql(rs.shape, None, conn.dialect.name, True).stmt
        named = (PGDialect if pg else SQLiteDialect)(paramstyle="named")  # :name, as text() binds, no casts
        compiled = stmt.compile(dialect=named)
        sql, params = str(compiled), {**compiled.params, **rs.values(now)}
        if pg:
            await conn.execute(text("SET enable_seqscan = off"))
            await conn.execute(text("SET enable_bitmapscan = off"))
        rows = (await conn.execute(text(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + sql), params)).all()
        await conn.rollback()
    plan = "\n".join(str(tuple(r)) for r in rows)
    assert f"ix_reports_{scope}_unannounced" in plan, plan
