"""A step that keeps the report's cells (most steps) is written from its deltas given once
(rollup_math.shared_delta; on PostgreSQL rollups.shared_sql repeats them per cell): the same rows as the general
delta, in pure Python and in the database, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.stats import rollup_math as rm
from app.stats import rollups
from tests.stats.rollup_helpers import stored_rows, wipe

T0 = datetime(2026, 3, 1, 3, 20, tzinfo=UTC)


def _random_step(rng: random.Random, old: dict) -> dict:
    """A random next row of the report (its cells kept, or moved by a dispatch now and then)."""
    at = old["created_at"] + timedelta(minutes=rng.randint(1, 60 * 24 * 40))
    state = rng.choice(["accepted", "rejected", "dispatched", "in_progress", "resolved", "closed", "submitted"])
    changes: dict = {}
    if state in ("accepted", "dispatched", "in_progress", "resolved", "closed"):
        changes.update(accepted_at=old["accepted_at"] or at, responded_at=old["responded_at"] or at,
                       resolve_by=old["resolve_by"] or at + timedelta(days=rng.randint(0, 9)))
    if state == "rejected":
        changes["responded_at"] = at
    if state in ("resolved", "closed"):
        changes["resolved_at"] = at + timedelta(seconds=rng.randint(0, 10**6))
        changes["rating"] = rng.choice([None, 1, 3, 4, 5])
    if state == "submitted":  # sent back: reopened
        changes.update(reopen_count=old["reopen_count"] + 1, resolved_at=None, rating=None)
    if rng.random() < 0.15:
        changes["handler_department_id"] = rng.choice([None, 5, 6])
    if rng.random() < 0.2:
        changes["overdue_notified_for"] = rm.due({**old, **changes, "state": state})
    return rm.stepped(old, state, changes)


def _first(rng: random.Random, i: int) -> dict:
    created = T0 + timedelta(days=rng.randint(0, 70), minutes=rng.randint(0, 1439))
    return dict(id=100 + i, street_id=1, community_id=rng.choice([2, 3]), grid_id=rng.choice([4, 5]),
                category_id=rng.choice([6, 7]), handler_department_id=None, created_at=created, state="submitted",
                accepted_at=None, responded_at=None, respond_by=created + timedelta(hours=rng.randint(1, 48)),
                resolved_at=None, resolve_by=None, rating=None, reopen_count=0, auto_closed=False,
                overdue_notified_for=None)


def _histories(seed: int, reports: int = 12, steps: int = 6) -> list[tuple[dict | None, dict]]:
    rng = random.Random(seed)
    out: list[tuple[dict | None, dict]] = []
    for i in range(reports):
        row = _first(rng, i)
        out.append((None, row))
        for _ in range(steps):
            new = _random_step(rng, row)
            out.append((row, new))
            row = new
    return out


def test_the_shared_deltas_put_in_each_cell_are_the_general_delta():
    shared_seen = 0
    for seed in range(40):
        for old, new in _histories(seed):
            if old is None:
                continue
            expected = rm.delta_many([(old, new)])
            shared = rm.shared_delta(old, new)
            if shared is None:
                assert any(old[f] != new[f] for f in rm.CELL_FIELDS)
                continue
            shared_seen += 1
            assert rm.delta(old, new) == expected
            # the stored rows' deltas: chunked once for one cell, the same as chunking every cell's buckets
            hist_cells = [c for c in shared.cells if c[0] in rm.HISTOGRAM_CUTS]
            per_cell = [((*cell, *mc), counts) for cell in hist_cells for mc, counts in rm.chunked_spans(shared.spans)]
            assert per_cell == rm.chunked(expected[1])
    assert shared_seen > 1000


def _expected(changes: list[tuple[dict | None, dict]]) -> tuple[dict, dict]:
    """stored_rows' shape, from the general delta of every change (no slots folded: nothing is compacted here)."""
    counters: dict = {}
    hist: dict = {}
    for old, new in changes:
        changed, buckets = rm.delta_many([(old, new)])
        for cell, values in changed:
            into = counters.setdefault(cell, dict.fromkeys(rm.COUNTERS, 0))
            for c in rm.COUNTERS:
                into[c] += values[c]
        for key, n in buckets:
            hist[key] = hist.get(key, 0) + n
    return counters, {k: n for k, n in hist.items() if n}


async def test_a_history_written_step_by_step_stores_what_the_general_deltas_add_up_to(app, world):
    await wipe(app)
    changes = _histories(7, reports=10, steps=8)
    for old, new in changes:
        async with app.state.db.engine.begin() as conn:
            await rollups.apply(conn, old, new)
    counters, hist = await stored_rows(app)
    want_counters, want_hist = _expected(changes)
    assert counters == want_counters
    assert {k: n for k, n in hist.items() if n} == want_hist
    assert sum(values["n"] for cell, values in counters.items() if cell[0] == rm.STREET and cell[7] == rm.DAY) == 10
    await wipe(app)
