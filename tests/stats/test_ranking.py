"""GET /api/v1/stats/ranking (红黑榜): scores computed by hand, minimum reports, red and black lists.

March 2026, weights 0.30 / 0.35 / 0.35 (response, resolution, satisfaction), RANKING_MIN_REPORTS = 2:

| dept | where | reports                                        | response | resolution | satisfied | score         |
|------|-------|------------------------------------------------|----------|------------|-----------|---------------|
| 甲   | g1    | 2: on time, resolved, rated 5                  | 1        | 1          | 1         | 1             |
| 乙   | g1    | 3: on time, resolved, unrated                  | 1        | 1          | null      | 0.65/0.65 = 1 |
| 丙   | g2    | 2: in progress, one accepted on time, one late | 1/2      | 0          | null      | 0.15/0.65     |
| 丁   | g2    | 2: late; one closed rated 3, one in progress   | 0        | 1/2        | 0         | 0.175         |
| 戊   | g1    | 1: on time, resolved, rated 5                  | 1        | 1          | 1         | (too few)     |

Without renormalisation 乙 would score 0.65 (below 1) and 丙 0.15 (below 丁): the order shows which is computed.
"""

from __future__ import annotations

import pytest

from tests.helpers import assert_error
from tests.stats.conftest import MARCH
from tests.stats.factories import FAR, add_department, add_grid, put_report

URL = "/api/v1/stats/ranking"


@pytest.fixture
async def depts(app, world):
    names = {"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": "戊"}
    d = {k: await add_department(app, world, name, f"rank{k}") for k, name in names.items()}
    c2 = {"place": (world.c2, world.g2, world.b3), "reporter": "resident_c"}
    day = iter(range(2, 28))

    async def put(dept, **spec):
        await put_report(app, world, created=f"2026-03-{next(day):02d}T00:00:00Z", handler=d[dept], **spec)

    for _ in range(2):
        await put("A", state="closed", accepted=1, resolved=5, closed=6, rating=5)
    for _ in range(3):
        await put("B", state="resolved", accepted=1, resolved=5)
    await put("C", state="in_progress", accepted=1, **c2)
    await put("C", state="in_progress", accepted=30, **c2)
    await put("D", state="closed", accepted=30, resolved=40, closed=41, rating=3, **c2)
    await put("D", state="in_progress", accepted=30, **c2)
    await put("E", state="closed", accepted=1, resolved=5, closed=6, rating=5)
    return d


@pytest.fixture
def ranking_settings(app):
    """Ranking settings for this test (the app reads them per request); the session's are put back after."""
    original = app.state.settings

    def use(**changes):
        base = {"ranking_min_reports": 2, "ranking_top_n": 2, "ranking_weights": (0.30, 0.35, 0.35)}
        app.state.settings = original.model_copy(update={**base, **changes})

    use()
    yield use
    app.state.settings = original


async def _ranking(client, world, who="admin_street", **params):
    resp = await client.get(URL, headers=world.headers(who), params={**MARCH, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _ids(entries):
    return [e["id"] for e in entries]


async def test_departments_red_and_black(client, world, depts, ranking_settings):
    r = await _ranking(client, world)
    assert r["kind"] == "department" and r["min_reports"] == 2 and r["top_n"] == 2
    assert r["weights"] == {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}
    a, b, c, d, e = (depts[k].id for k in "ABCDE")
    # 甲 and 乙 tie at 1.0: more reports first (乙, though its id is larger)
    assert _ids(r["red"]) == [b, a]
    assert r["red"][1] == {"id": a, "name": "甲", "reports": 2, "response_rate": 1.0, "resolution_rate": 1.0,
                           "satisfaction_rate": 1.0, "score": 1.0}
    assert r["red"][0]["score"] == 1.0 and r["red"][0]["satisfaction_rate"] is None  # renormalised over two rates
    assert r["red"][0]["reports"] == 3
    assert _ids(r["black"]) == [d, c]
    assert r["black"][0] == {"id": d, "name": "丁", "reports": 2, "response_rate": 0.0, "resolution_rate": 0.5,
                             "satisfaction_rate": 0.0, "score": pytest.approx(0.175)}
    assert r["black"][1]["score"] == pytest.approx(0.15 / 0.65)
    assert r["black"][1]["response_rate"] == 0.5 and r["black"][1]["resolution_rate"] == 0.0
    assert r["unranked"] == [{"id": e, "name": "戊", "reports": 1, "reason": "too_few_reports"}]


async def test_black_list_leaves_out_the_red_list(client, world, depts, ranking_settings):
    a, b, c, d, e = (depts[k].id for k in "ABCDE")
    ranking_settings(ranking_top_n=3)
    r = await _ranking(client, world)
    assert _ids(r["red"]) == [b, a, c] and _ids(r["black"]) == [d]
    ranking_settings(ranking_top_n=10)
    r = await _ranking(client, world)
    assert _ids(r["red"]) == [b, a, c, d] and r["black"] == []
    ranking_settings(ranking_min_reports=3)
    r = await _ranking(client, world)
    assert _ids(r["red"]) == [b] and r["black"] == []
    assert [(u["id"], u["reason"]) for u in r["unranked"]] == sorted(
        [(a, "too_few_reports"), (c, "too_few_reports"), (d, "too_few_reports"), (e, "too_few_reports")])


async def test_weights_come_from_the_settings(client, world, depts, ranking_settings):
    a, b, c, d, _ = (depts[k].id for k in "ABCDE")
    ranking_settings(ranking_weights=(0.0, 1.0, 0.0))  # resolution only: 甲 乙 1, 丁 0.5, 丙 0
    r = await _ranking(client, world)
    assert _ids(r["red"]) == [b, a] and _ids(r["black"]) == [c, d]
    assert [x["score"] for x in r["black"]] == [0.0, 0.5]


async def test_ranking_stays_in_the_admins_scope(client, world, depts, ranking_settings):
    r = await _ranking(client, world, "admin_c1")
    assert _ids(r["red"]) == [depts["B"].id, depts["A"].id] and r["black"] == []
    assert _ids(r["unranked"]) == [depts["E"].id]
    r = await _ranking(client, world, "admin_c2")
    assert _ids(r["red"]) == [depts["C"].id, depts["D"].id]  # 丙 0.23 above 丁 0.175
    assert_error(await client.get(URL, headers=world.headers("admin_c1"),
                                  params={**MARCH, "grid_id": world.c2.id}), 404)


async def test_grids(app, client, world, depts, ranking_settings):
    g3, b4 = await add_grid(app, world.c1, "网格三")
    for day in (20, 21):  # two fresh reports, not due yet: no rate at all
        await put_report(app, world, created=f"2026-03-{day}T00:00:00Z", state="submitted", respond_by=FAR,
                         place=(world.c1, g3, b4))
    ranking_settings(ranking_top_n=1)
    r = await _ranking(client, world, kind="grid")
    assert r["kind"] == "grid"
    # g1: 6 reports, all on time, all resolved first time, 3 rated 5 -> 1.0
    assert r["red"] == [{"id": world.g1.id, "name": "网格一", "reports": 6, "response_rate": 1.0,
                         "resolution_rate": 1.0, "satisfaction_rate": 1.0, "score": 1.0}]
    # g2: on time 1 of 4, first time 1 of 4, satisfied 0 of 1 -> 0.3*0.25 + 0.35*0.25 + 0 = 0.1625
    assert _ids(r["black"]) == [world.g2.id] and r["black"][0]["score"] == pytest.approx(0.1625)
    assert r["unranked"] == [{"id": g3.id, "name": "网格三", "reports": 2, "reason": "no_rates"}]


async def test_nothing_to_rank(client, world, ranking_settings):
    r = await _ranking(client, world)
    assert r["red"] == [] and r["black"] == [] and r["unranked"] == []
    assert_error(await client.get(URL, headers=world.headers("admin_c1"), params={"kind": "building"}), 422)
