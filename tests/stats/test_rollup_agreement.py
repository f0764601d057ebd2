"""The figures read from the roll-ups agree with the exact queries over a seeded history: counts, states and rates
exactly, percentiles within the documented error; for periods starting and ending mid-day (partial days read
from the reports), with filters, per bucket (series) and per entity (ranking). Both databases."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from app.stats import compaction, rollup_math
from app.stats.rollup_math import MAX_RELATIVE_ERROR
from tests.stats.factories import FAR, add_category, put_report
from tests.stats.rollup_helpers import stored_rows

FIGURES, SERIES, RANKING = "/api/v1/stats/figures", "/api/v1/stats/series", "/api/v1/stats/ranking"


async def _seed(app, world, rng: random.Random) -> tuple[list, object]:
    cat2 = await add_category(app, world, "邻里纠纷", "disputes")
    made = []
    start = datetime(2026, 3, 1, tzinfo=UTC)
    fold = random.Random(rng.random())  # the worker's compaction at random points, with random cut-offs
    for _ in range(120):
        if fold.random() < 0.05:
            await compaction.compact(app.state.db.engine, date(2026, 3, 1) + timedelta(days=fold.randint(0, 100)))
        created = start + timedelta(minutes=rng.randint(0, 90 * 24 * 60))
        c2 = rng.random() < 0.3
        state = rng.choice(["submitted", "accepted", "rejected", "withdrawn", "dispatched", "in_progress",
                            "resolved", "closed", "closed", "merged"])
        accepted = rng.choice([0.5, 3.0, 26.0, 70.0]) * rng.uniform(0.9, 1.1) \
            if state in ("accepted", "dispatched", "in_progress", "resolved", "closed") else None
        resolved = accepted + rng.uniform(1, 400) if accepted is not None and state in ("resolved", "closed") \
            else None
        made.append(await put_report(
            app, world, created=created.isoformat(), state=state, accepted=accepted, resolved=resolved,
            responded=None if accepted is not None else rng.choice([None, 5.0, 40.0]) if state != "submitted"
            else None,
            respond_by=rng.choice([None, FAR]), rating=rng.choice([None, 1, 3, 4, 5]) if state == "closed" else None,
            reopen_count=rng.choice([0, 0, 1]), auto_closed=state == "closed" and rng.random() < 0.2,
            resolve_by=rng.choice([None, "2026-04-01T00:00:00Z"]) if accepted is not None else None,
            handler=world.d1 if accepted is not None and rng.random() < 0.8 else None,
            category=cat2 if rng.random() < 0.4 else None,
            place=(world.c2, world.g2, world.b3) if c2 else None, reporter="resident_c" if c2 else "resident_a"))
    return made, cat2


def _without_percentiles(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in ("method", "as_of")}
    for kind in ("time_to_accept_seconds", "time_to_resolve_seconds"):
        out[kind] = {k: v for k, v in doc[kind].items() if k not in ("median", "p90", "mean")}
    return out


async def _get(client, world, url, who, params):
    resp = await client.get(url, headers=world.headers(who), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_rolled_up_figures_series_and_ranking_agree_with_the_exact_ones(app, client, world):
    rng = random.Random(2020)
    made, cat2 = await _seed(app, world, rng)
    windows = []
    for _ in range(5):
        a = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        windows.append((a, a + timedelta(minutes=rng.randint(3 * 24 * 60, 31 * 24 * 60))))
    windows.append((datetime(2026, 3, 31, 16, tzinfo=UTC), datetime(2026, 4, 30, 16, tzinfo=UTC)))  # whole April
    filters = [{}, {"department_id": world.d1.id}, {"category_id": cat2.id}, {"grid_id": world.g1.id}]
    compared = 0
    for lo, hi in windows:
        period = {"from": lo.isoformat(), "to": hi.isoformat()}
        for who in ("admin_c1", "admin_street"):
            for extra in filters:
                params = {**period, **extra}
                rolled = await _get(client, world, FIGURES, who, params)
                exact = await _get(client, world, FIGURES, who, {**params, "exact": "true"})
                assert (rolled["method"], exact["method"]) == ("rollup", "exact")
                assert _without_percentiles(rolled) == _without_percentiles(exact), (who, params)
                for kind in ("time_to_accept_seconds", "time_to_resolve_seconds"):
                    if exact[kind]["mean"] is not None:  # both to the millisecond, rounded at different steps
                        assert abs(rolled[kind]["mean"] - exact[kind]["mean"]) <= 0.0015
                    for q in ("median", "p90"):
                        want, got = exact[kind][q], rolled[kind][q]
                        assert (want is None) == (got is None)
                        if want:
                            assert abs(got - want) / want <= MAX_RELATIVE_ERROR, (kind, q, got, want)
                compared += rolled["counts"]["submitted"]
            for granularity in ("day", "week", "month"):
                p = {**period, "granularity": granularity}
                rolled = await _get(client, world, SERIES, who, p)
                exact = await _get(client, world, SERIES, who, {**p, "exact": "true"})
                assert rolled["method"] == "rollup" and rolled["points"] == exact["points"], (who, p)
            for kind in ("department", "grid"):
                p = {**period, "kind": kind}
                rolled = await _get(client, world, RANKING, who, p)
                exact = await _get(client, world, RANKING, who, {**p, "exact": "true"})
                assert rolled["method"] == "rollup"
                for key in ("red", "black", "unranked"):
                    assert rolled[key] == exact[key], (who, p, key)
    assert compared > 100  # the windows really held reports


async def test_a_long_period_counts_every_report_once(app, client, world):
    made, _ = await _seed(app, world, random.Random(7))
    f = await _get(client, world, FIGURES, "admin_street",
                   {"from": "2026-02-20T07:13:00+08:00", "to": "2026-06-10T00:00:00+08:00"})
    assert f["method"] == "rollup" and f["counts"]["submitted"] == len(made)
    assert sum(f["states"].values()) == len(made)
    assert f["states"]["closed"] == sum(r.state == "closed" for r in made)
    assert f["counts"]["rated"] == sum(r.rating is not None for r in made)
    accepted = [r for r in made if r.accepted_at is not None]
    assert f["time_to_accept_seconds"]["count"] == len(accepted)
    mean = sum((r.accepted_at - r.created_at).total_seconds() for r in accepted) / len(accepted)
    assert abs(f["time_to_accept_seconds"]["mean"] - mean) < 0.001


async def test_a_street_read_by_the_hour_agrees_with_the_exact_figures_up_to_a_moment_ago(app, client, world):
    """A street's partial days are read from its hour cells (rollup_math.HOUR_CUTS): the first day a month ago
    (nearest hour, signed) and today up to a `to` a few minutes before now (on PostgreSQL's one read, today's cell
    minus the reports since `to`: 20 minutes back, one report at least; elsewhere, and an hour back, today's past
    hours and the reports of the hour not over)."""
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(11)
    made = 0
    for k in range(1, 120):  # every ~13 minutes back over the last ~26 hours, and some over the month before
        created = now - timedelta(minutes=13 * k + rng.randint(0, 5)) if k < 100 \
            else now - timedelta(days=rng.randint(2, 30), minutes=rng.randint(0, 1440))
        state = rng.choice(["submitted", "accepted", "resolved", "closed"])
        accepted = 0.2 if state != "submitted" else None
        await put_report(app, world, created=created.isoformat(), state=state, accepted=accepted,
                         resolved=0.5 if state in ("resolved", "closed") else None,
                         rating=rng.choice([None, 2, 5]) if state == "closed" else None,
                         place=(world.c2, world.g2, world.b3) if rng.random() < 0.4 else None)
        made += 1
    street = f"/api/v1/stats/streets/{world.street.id}"
    compared = 0
    for back, length_days, minutes in ((3, 20, 7), (61, 9, 47), (1, 30, 31), (29, 1, 0), (20, 3, 0)):
        hi = now - timedelta(minutes=back)
        period = {"from": (hi - timedelta(days=length_days, minutes=minutes)).isoformat(), "to": hi.isoformat()}
        rolled = await _get(client, world, FIGURES, "admin_street", period)
        exact = await _get(client, world, FIGURES, "admin_street", {**period, "exact": "true"})
        assert rolled["method"] == "rollup" and _without_percentiles(rolled) == _without_percentiles(exact), period
        compared += rolled["counts"]["submitted"]
        for granularity in ("day", "month"):
            p = {**period, "granularity": granularity}
            rolled = await _get(client, world, street, "admin_street", p)
            exact = await _get(client, world, street, "admin_street", {**p, "exact": "true"})
            assert _without_percentiles(rolled["figures"]) == _without_percentiles(exact["figures"]), p
            assert rolled["series"]["points"] == exact["series"]["points"], p
    assert compared > 100


async def test_the_dashboards_one_read_agrees_with_the_exact_figures_and_series(app, client, world):
    await _seed(app, world, random.Random(5))
    period = {"from": "2026-04-03T10:20:00+08:00", "to": "2026-05-02T08:00:00+08:00"}
    for granularity in ("day", "week", "month"):
        p = {**period, "granularity": granularity}
        rolled = await _get(client, world, "/api/v1/stats/community", "resident_a", p)
        exact = await _get(client, world, "/api/v1/stats/community", "resident_a", {**p, "exact": "true"})
        assert rolled["figures"]["method"] == rolled["series"]["method"] == "rollup"
        assert _without_percentiles(rolled["figures"]) == _without_percentiles(exact["figures"])
        assert rolled["series"]["points"] == exact["series"]["points"]
        assert sum(pt["submitted"] for pt in rolled["series"]["points"]) == rolled["figures"]["counts"]["submitted"] > 0


async def test_compaction_keeps_every_figure_identical(app, client, world):
    await _seed(app, world, random.Random(11))
    reads = [(FIGURES, "admin_street", {"from": "2026-02-20T07:13:00+08:00", "to": "2026-06-10T00:00:00+08:00"}),
             (FIGURES, "admin_c1", {"from": "2026-03-03T10:20:00+08:00", "to": "2026-05-02T08:00:00+08:00"}),
             (SERIES, "admin_street", {"from": "2026-03-01T00:00:00+08:00", "to": "2026-06-01T00:00:00+08:00",
                                       "granularity": "week"}),
             (RANKING, "admin_street", {"from": "2026-03-01T00:00:00+08:00", "to": "2026-06-01T00:00:00+08:00"}),
             ("/api/v1/stats/community", "resident_a", {"from": "2026-04-03T10:20:00+08:00",
                                                         "to": "2026-05-02T08:00:00+08:00", "granularity": "day"})]

    def same(doc):  # without the moment of the read
        if isinstance(doc, dict):
            return {k: same(v) for k, v in doc.items() if k != "as_of"}
        return [same(v) for v in doc] if isinstance(doc, list) else doc

    before = [same(await _get(client, world, url, who, p)) for url, who, p in reads]
    assert await compaction.compact(app.state.db.engine, date(2026, 12, 31)) > 0
    rows, hist = await stored_rows(app)
    # one row per cell and bucket: its base slot
    assert all(key[6] == rollup_math.base_slot(key[6]) for key in (*rows, *hist))
    after = [same(await _get(client, world, url, who, p)) for url, who, p in reads]
    assert after == before
