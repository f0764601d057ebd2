"""A street's figures (街道): the same figures over every community of the street, per community, and the 红黑榜
across its communities and departments, over any period up to 3 years; only for admins whose scope holds it."""

from __future__ import annotations

import random

from tests.helpers import assert_error
from tests.stats.conftest import MARCH
from tests.stats.test_rollup_agreement import _seed, _without_percentiles


def _url(world, tail: str = "") -> str:
    return f"/api/v1/stats/streets/{world.street.id}{tail}"


async def _get(client, world, url, params, who="admin_street"):
    resp = await client.get(url, headers=world.headers(who), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_a_streets_figures_hold_every_community(client, world, march):
    d = await _get(client, world, _url(world), MARCH)
    assert d["street"] == {"id": world.street.id, "name": world.street.name}
    assert d["figures"]["method"] == "rollup" and d["series"]["granularity"] == "month"
    # the 14 reports of community 1 and R15 of community 2, as the street admin's own figures count them
    assert d["figures"]["counts"]["submitted"] == 15
    own = await _get(client, world, "/api/v1/stats/figures", MARCH)
    assert _without_percentiles(d["figures"]) == _without_percentiles(own)
    assert [p["submitted"] for p in d["series"]["points"]] == [15]
    exact = await _get(client, world, _url(world), {**MARCH, "exact": "true"})
    assert exact["figures"]["method"] == "exact"
    assert _without_percentiles(exact["figures"]) == _without_percentiles(d["figures"])


async def test_per_community_and_the_ranking_agree_with_the_exact_queries(app, client, world, settings):
    await _seed(app, world, random.Random(11))
    period = {"from": "2026-03-10T09:30:00+08:00", "to": "2026-04-09T18:00:00+08:00"}
    rolled = await _get(client, world, _url(world, "/communities"), period)
    exact = await _get(client, world, _url(world, "/communities"), {**period, "exact": "true"})
    assert rolled["method"] == "rollup" and exact["method"] == "exact"
    assert rolled["communities"] == exact["communities"]
    assert [c["id"] for c in rolled["communities"]] == [world.c1.id, world.c2.id]
    for c in rolled["communities"]:  # each community's entry is that community's figures
        admin = "admin_c1" if c["id"] == world.c1.id else "admin_c2"
        own = await _get(client, world, "/api/v1/stats/figures", period, who=admin)
        assert c["submitted"] == own["counts"]["submitted"] and c["response"] == own["response"]
        assert c["satisfaction_rate"] == own["satisfaction_rate"]
    for kind in ("community", "department"):
        r = await _get(client, world, _url(world, "/ranking"), {**period, "kind": kind})
        e = await _get(client, world, _url(world, "/ranking"), {**period, "kind": kind, "exact": "true"})
        assert r["kind"] == kind and r["method"] == "rollup"
        assert (r["red"], r["black"], r["unranked"]) == (e["red"], e["black"], e["unranked"])
        assert r["red"] or r["unranked"]


async def test_three_years_at_most_and_exact_for_a_month_at_most(client, world):
    ok = await _get(client, world, _url(world), {"from": "2024-01-01T00:00:00+08:00",
                                                 "to": "2026-12-31T00:00:00+08:00"})
    assert ok["figures"]["counts"]["submitted"] == 0 and ok["figures"]["method"] == "rollup"
    h = world.headers("admin_street")
    assert_error(await client.get(_url(world), headers=h, params={"from": "2023-01-01T00:00:00+08:00",
                                                                 "to": "2026-01-02T00:00:00+08:00"}), 422,
                 "invalid_period")
    assert_error(await client.get(_url(world), headers=h, params={**MARCH, "granularity": "day", "exact": "true",
                                                                 "from": "2026-01-01T00:00:00+08:00"}), 422,
                 "invalid_period")


async def test_only_admins_whose_scope_holds_the_street(client, world):
    for who in ("admin_c1", "admin_c2"):
        for tail in ("", "/communities", "/ranking"):
            assert_error(await client.get(_url(world, tail), headers=world.headers(who)), 404)
    for who in ("resident_a", "worker_in", "dept_in"):
        assert_error(await client.get(_url(world), headers=world.headers(who)), 403)
        for tail in ("", "/communities", "/ranking"):  # refused before the parameters are looked at
            assert_error(await client.get(_url(world, tail), headers=world.headers(who),
                                          params={"from": "x", "granularity": "year", "kind": "x"}), 403, "forbidden")
    h = world.headers("admin_street")
    for not_a_street in (world.c1.id, world.g1.id, 987654):
        assert_error(await client.get(f"/api/v1/stats/streets/{not_a_street}", headers=h), 404)
