"""Who may ask for which figures: admins for their scope, residents for their community's dashboard only."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error
from tests.stats.conftest import MARCH

STAFF_ONLY = ("/api/v1/stats/figures", "/api/v1/stats/series", "/api/v1/stats/ranking", "/api/v1/stats/reports.csv")
DASHBOARD = "/api/v1/stats/community"
SAME_DEFINITIONS = ("states", "counts", "response_rate", "resolution_rate", "satisfaction_rate", "response",
                    "resolution", "satisfaction", "time_to_accept_seconds", "time_to_resolve_seconds")


@pytest.mark.parametrize("url", STAFF_ONLY)
async def test_only_admins_get_staff_figures(client, world, url):
    assert_error(await client.get(url, params=MARCH), 401)
    for who in ("resident_a", "resident_c", "worker_in", "dept_in"):
        assert_error(await client.get(url, headers=world.headers(who), params=MARCH), 403, "forbidden")
        # refused before the parameters are looked at: no hint about what is valid
        assert_error(await client.get(url, headers=world.headers(who), params={"from": "x"}), 403)
    for who in ("admin_c1", "admin_street"):
        assert (await client.get(url, headers=world.headers(who), params=MARCH)).status_code == 200


async def test_dashboard_is_my_communitys_figures(client, world, march):
    resp = await client.get(DASHBOARD, headers=world.headers("resident_a"), params=MARCH)
    assert resp.status_code == 200, resp.text
    mine = resp.json()
    assert mine["community"] == {"id": world.c1.id, "name": "社区一"}
    staff = (await client.get("/api/v1/stats/figures", headers=world.headers("admin_c1"), params=MARCH)).json()
    assert mine["figures"]["counts"]["submitted"] == 14
    assert {k: mine["figures"][k] for k in SAME_DEFINITIONS} == {k: staff[k] for k in SAME_DEFINITIONS}
    weeks = (await client.get("/api/v1/stats/series", headers=world.headers("admin_c1"),
                              params={"granularity": "week", **MARCH})).json()
    assert mine["series"]["granularity"] == "week" and mine["series"]["points"] == weeks["points"]
    # resident_b lives in the same community; resident_c in the other: only R15 there
    same = (await client.get(DASHBOARD, headers=world.headers("resident_b"), params=MARCH)).json()
    assert same["figures"]["counts"] == mine["figures"]["counts"]
    other = (await client.get(DASHBOARD, headers=world.headers("resident_c"), params=MARCH)).json()
    assert other["community"]["id"] == world.c2.id
    assert other["figures"]["counts"]["submitted"] == 1 and other["figures"]["satisfaction_rate"] == 1.0
    days = (await client.get(DASHBOARD, headers=world.headers("resident_a"),
                             params={"granularity": "day", **MARCH})).json()
    assert len(days["series"]["points"]) == 31


async def test_dashboard_names_nobody(client, world, march):
    text = (await client.get(DASHBOARD, headers=world.headers("resident_a"), params=MARCH)).text
    for user in world.users.values():
        assert user.display_name not in text and user.phone not in text
    for key in ('"reporter', '"title"', '"number"', '"items"'):
        assert key not in text


async def test_dashboard_is_for_residents(client, world):
    assert_error(await client.get(DASHBOARD), 401)
    for who in ("worker_in", "dept_in", "admin_c1", "admin_street"):
        assert_error(await client.get(DASHBOARD, headers=world.headers(who)), 403, "forbidden")
    h = world.headers("resident_a")
    too_long = {"from": "2025-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    assert_error(await client.get(DASHBOARD, headers=h, params=too_long), 422, "invalid_period")
    assert_error(await client.get(DASHBOARD, headers=h, params={"granularity": "year"}), 422)
