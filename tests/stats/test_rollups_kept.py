"""The roll-ups are kept by every step in the step's transaction: after a randomised history of steps (reopen by a
bad rating, merge, escalation, moderation, re-dispatch to another department, auto-close, the worker's overdue
announcements as its clock moves past deadlines) they equal a rebuild
from the reports; concurrent steps on one day and category leave exact counts. Both databases."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from app.core.errors import AppError
from app.reports import service
from app.reports.lifecycle import Action
from app.reports.schemas import StepIn
from app.stats import compaction, rebuild, rollup_math
from tests.reports.factories import make_report, principal
from tests.stats.factories import put_report
from tests.stats.rollup_helpers import drift, stored, stored_rows, wipe

# who takes each action on a report of community 1 / community 2 ("handler": the current department's staff)
ACTORS = {
    1: {"intake": "worker_in", "admin": "admin_c1", "reporter": "resident_a"},
    2: {"intake": "worker_out", "admin": "admin_c2", "reporter": "resident_c"},
}
HANDLERS = {"d1": "dept_in", "d2": "dept_out"}


def _plan(rng: random.Random, world, report: dict, others: list[int]) -> tuple[str, dict] | None:
    """A random step and its fields for this report (it may not be allowed: the service then says no)."""
    side = ACTORS[1 if report["community_id"] == world.c1.id else 2]
    dept = {world.d1.id: "d1", world.d2.id: "d2"}.get(report["handler_department_id"])
    action = rng.choice(["accept", "accept", "reject", "withdraw", "dispatch", "dispatch", "return", "start",
                         "start", "resolve", "resolve", "rate", "rate", "reopen", "merge", "escalate", "hide",
                         "unhide", "extend", "supervise"])
    fields: dict = {}
    who = side["intake"]
    if action == "dispatch":
        fields["department_id"] = rng.choice([world.d1.id, world.d2.id]) if report["community_id"] == world.c2.id \
            else world.d1.id
        who = rng.choice([side["intake"], side["admin"]])
    elif action in ("return", "start", "resolve"):
        if dept is None:
            return None
        who = HANDLERS[dept]
        if action != "start":
            fields["note"] = "处理说明"
    elif action in ("withdraw", "rate"):
        who = side["reporter"]
        if action == "rate":
            fields["stars"] = rng.choice([1, 2, 3, 4, 5])
    elif action in ("reopen", "escalate", "hide", "reject"):
        fields["note"] = "说明"
        who = side["admin"] if action != "reject" else side["intake"]
    elif action in ("unhide", "supervise"):
        who = side["admin"]
    elif action == "extend":
        who = side["admin"]
        fields.update(note="延期", resolve_by=datetime.now(UTC) + timedelta(days=rng.randint(8, 40)))
    elif action == "merge":
        if not others:
            return None
        fields["target_report_id"] = rng.choice(others)
    return action, {"who": who, **fields}


async def _history(app, world, rng: random.Random, steps: int) -> None:
    reports: list[dict] = []
    # a few submitted today through the service, and some created on other days and months (rows as a
    # submission leaves them, with their roll-ups), so the cells span days, months and both communities
    for reporter in ("resident_a", "resident_a", "resident_c"):
        reports.append((await make_report(app, world, reporter=reporter)).model_dump())
    now = datetime.now(UTC)
    for i in range(9):
        c2 = i % 3 == 0
        created = now - timedelta(days=rng.randint(1, 80), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        r = await put_report(app, world, created=created.isoformat(), state="submitted",
                             place=(world.c2, world.g2, world.b3) if c2 else None,
                             reporter="resident_c" if c2 else "resident_a")
        reports.append({"id": r.id, "community_id": r.community_id, "handler_department_id": None, "version": 1})
    taken = announced = 0
    clock = now  # the worker's clock: it only moves forward, past the deadlines of the submissions and steps
    sweep = random.Random(str(rng.getstate()[1][:4]))  # its own draws: the steps' sequence stays the one it was
    for _ in range(steps):
        if rng.random() < 0.08:  # the worker's compaction at random points: past cells, or every cell so far
            cutoff = rollup_math.china_day(now) + timedelta(days=rng.choice([0, 0, 1, 62, -20]))
            await compaction.compact(app.state.db.engine, cutoff)
        if sweep.random() < 0.12:  # the worker's overdue sweep, the clock moved on (small batches: some left over)
            clock += timedelta(hours=sweep.choice([0, 1, 20, 30, 24 * 8, 24 * 20]))
            async with app.state.db.session(write=True) as s:
                announced += await service.announce_overdue(s, app.state.settings, clock, sweep.choice([2, 5, 200]))
        report = rng.choice(reports)
        others = [r["id"] for r in reports if r["id"] != report["id"] and r["community_id"] == report["community_id"]]
        plan = _plan(rng, world, report, others)
        if plan is None:
            continue
        action, fields = plan
        who = fields.pop("who")
        p = await principal(app, world.users[who])
        try:
            async with app.state.db.session(write=True) as s:
                out = await service.take_step(s, app.state.settings, p, report["id"], StepIn(
                    action=Action(action), expected_version=report["version"], **fields))
        except AppError:
            continue
        report.update(version=out["version"], handler_department_id=out["handler_department_id"])
        taken += 1
    assert taken >= steps // 4, taken  # the history really moved the reports
    assert announced >= 3, announced  # and the sweep rolled some overdue reports up
    # the worker's sweep closes the reports resolved "long ago" (its own automatic step)
    async with app.state.db.session(write=True) as s:
        await service.auto_close_due(s, app.state.settings, datetime.now(UTC) + timedelta(days=30))


def _without_overdue(kept: tuple[dict, dict]) -> tuple[dict, dict]:
    counters = {cell: {k: v for k, v in values.items() if k not in ("overdue", "late_waiting")}
                for cell, values in kept[0].items()}
    return {cell: v for cell, v in counters.items() if any(v.values())}, kept[1]


async def test_kept_roll_ups_equal_a_rebuild_after_a_random_history(app, world):
    for seed in (1, 2):
        await _history(app, world, random.Random(seed), 90)
        assert await drift(app) == ([], [])
        kept = await stored(app)
        assert kept[0] and kept[1]
        assert any(v["overdue"] for v in kept[0].values())  # announced reports still open and overdue
        # a rebuild finds nothing to correct (idempotent) ...
        outcome = await rebuild.rebuild(app.state.db.engine)
        assert outcome.cells_corrected == outcome.buckets_corrected == 0 and outcome.reports > 0
        # ... and from nothing, builds exactly what the steps kept
        await wipe(app)
        await rebuild.rebuild(app.state.db.engine)
        assert await stored(app) == kept


async def test_compaction_keeps_every_sum_and_leaves_one_row_per_past_cell(app, world):
    await _history(app, world, random.Random(1), 90)
    kept = await stored(app)
    rows, _ = await stored_rows(app)
    today = rollup_math.china_day(datetime.now(UTC))
    assert any(key[6] != 0 for key in rows)  # the steps spread the cells over slots
    await compaction.compact(app.state.db.engine, today)  # (the history compacted at random points too)
    assert await stored(app) == kept and await drift(app) == ([], [])
    rows, hist = await stored_rows(app)
    for key in (*rows, *hist):
        past = key[8] < (rollup_math.month_of(today) if key[7] == rollup_math.MONTH else today)
        assert key[6] == rollup_math.base_slot(key[6]) or not past, key  # one row per past cell and bucket
    # a later step of an old report subtracts from its own slot of a compacted cell (a row below 0 is fine)
    await _history(app, world, random.Random(2), 90)
    assert await drift(app) == ([], [])
    await compaction.compact(app.state.db.engine, today + timedelta(days=62))  # every cell, this month's too
    assert await compaction.compact(app.state.db.engine, today + timedelta(days=62)) == 0
    rows, hist = await stored_rows(app)
    assert all(key[6] == rollup_math.base_slot(key[6]) for key in (*rows, *hist)) and await drift(app) == ([], [])
    # the rebuild compares sums over slots: nothing to correct, and it keeps the compaction
    outcome = await rebuild.rebuild(app.state.db.engine)
    assert outcome.cells_corrected == outcome.buckets_corrected == 0
    assert await stored_rows(app) == (rows, hist)


async def test_rebuild_from_a_date_corrects_only_from_that_month(app, world):
    now = datetime.now(UTC)
    old = await put_report(app, world, created=(now - timedelta(days=95)).isoformat(), state="submitted")
    await put_report(app, world, created=now.isoformat(), state="submitted")
    kept = await stored(app)
    await wipe(app)
    await rebuild.rebuild(app.state.db.engine, since=rollup_math.china_day(now))
    partial = await stored(app)
    old_day = rollup_math.china_day(old.created_at)
    assert partial[0] and all(cell[-1] >= rollup_math.month_of(rollup_math.china_day(now)) for cell in partial[0])
    assert any(cell[-1] == old_day for cell in kept[0])
    await rebuild.rebuild(app.state.db.engine)
    assert await stored(app) == kept


async def test_fifty_concurrent_submissions_then_accepts_on_one_day_leave_exact_counts(app, world):
    made = await asyncio.gather(*[make_report(app, world) for _ in range(50)])
    p = await principal(app, world.users["worker_in"])

    async def accept(r):
        async with app.state.db.session(write=True) as s:
            await service.take_step(s, app.state.settings, p, r.id, StepIn(action=Action.accept,
                                                                         expected_version=r.version))

    await asyncio.gather(*[accept(r) for r in made])
    counters, hist = await stored(app)
    day = rollup_math.china_day(made[0].created_at)
    for cut, key in ((rollup_math.COMMUNITY, (world.street.id, world.c1.id, 0, 0, 0)),
                     (rollup_math.FINE, (world.street.id, world.c1.id, world.g1.id, world.cat.id, 0)),
                     (rollup_math.STREET, (world.street.id, 0, 0, 0, 0))):
        for grain, when in ((rollup_math.DAY, day), (rollup_math.MONTH, rollup_math.month_of(day))):
            # the cell, summed over its slots (a read's view); cells are (cut, 5 ids, slot, grain, day)
            slots = [v for c, v in counters.items() if (*c[:6], *c[7:]) == (cut, *key, grain, when)]
            if cut == rollup_math.FINE:
                assert len(slots) == 1
            cell = {name: sum(v[name] for v in slots) for name in slots[0]}
            assert cell["n"] == cell["accepted"] == cell["st_accepted"] == cell["responded"] == 50, (cut, cell)
            assert cell["st_submitted"] == 0
            assert sum(n for h, n in hist.items() if (*h[:6], *h[7:9]) == (cut, *key, grain, when)
                       and h[9] == rollup_math.ACCEPT) == 50
    assert await drift(app) == ([], [])


async def test_the_cli_rebuilds_on_the_configured_database(app, world, settings, monkeypatch):
    from app import cli

    args = cli.build_parser().parse_args(["rollups", "rebuild", "--from", "2026-03-05"])
    assert args.func is cli.cmd_rollups_rebuild and args.from_ == "2026-03-05"
    await put_report(app, world, created=datetime.now(UTC).isoformat(), state="submitted")
    kept = await stored(app)
    await wipe(app)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    out = await cli._rebuild_rollups(None)
    assert out.reports == 1 and out.cells_corrected == len(kept[0])
    assert await stored(app) == kept


async def test_a_rebuild_while_steps_run_leaves_no_drift(app, world):
    made = await asyncio.gather(*[make_report(app, world) for _ in range(30)])
    await wipe(app)  # everything to correct, while the steps below change the same cells
    p = await principal(app, world.users["worker_in"])

    async def accept(r):
        await asyncio.sleep(0)
        async with app.state.db.session(write=True) as s:
            await service.take_step(s, app.state.settings, p, r.id, StepIn(action=Action.accept,
                                                                         expected_version=r.version))

    await asyncio.gather(rebuild.rebuild(app.state.db.engine), *[accept(r) for r in made])
    assert await drift(app) == ([], [])
    counters, _ = await stored(app)
    day = rollup_math.china_day(made[0].created_at)
    key = (rollup_math.COMMUNITY, world.street.id, world.c1.id, 0, 0, 0, rollup_math.DAY, day)
    slots = [v for c, v in counters.items() if (*c[:6], *c[7:]) == key]  # the community's cell over its slots
    assert sum(v["n"] for v in slots) == sum(v["st_accepted"] for v in slots) == 30


async def test_the_worker_compacts_past_cells(app, world, settings):
    from app.worker import runner

    now = datetime.now(UTC)
    for days in (3, 3, 40):  # a few reports, so some of them are in slots > 0
        await put_report(app, world, created=(now - timedelta(days=days)).isoformat(), state="submitted")
    today = await make_report(app, world)
    kept = await stored(app)
    rows, _ = await stored_rows(app)
    assert any(key[6] != 0 and key[8] < rollup_math.china_day(now) for key in rows)
    compaction._last_empty.clear()
    done = await runner.run_once(app.state.db, settings)
    # the same pass announced the three old reports' passed respond_by (rolled up as overdue): every other sum kept
    assert done["rollups_compacted"] > 0 and done["overdue_announced"] == 3 and await drift(app) == ([], [])
    assert _without_overdue(await stored(app)) == _without_overdue(kept)
    rows, hist = await stored_rows(app)
    day = rollup_math.china_day(today.created_at)
    for key in (*rows, *hist):
        past = key[8] < (rollup_math.month_of(day) if key[7] == rollup_math.MONTH else day)
        assert key[6] == rollup_math.base_slot(key[6]) or not past, key
    # then it rests: the next pass does not scan the tables again
    assert (await runner.run_once(app.state.db, settings))["rollups_compacted"] == 0
