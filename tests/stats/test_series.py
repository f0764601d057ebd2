"""GET /api/v1/stats/series: buckets of created_at in China time, against the March fixture."""

from __future__ import annotations

from tests.helpers import assert_error
from tests.stats.conftest import MARCH

URL = "/api/v1/stats/series"
EMPTY = {"submitted": 0, "accepted": 0, "resolved": 0, "response_rate": None, "resolution_rate": None,
         "satisfaction_rate": None}


async def _series(client, world, granularity, who="admin_c1", **params):
    resp = await client.get(URL, headers=world.headers(who), params={"granularity": granularity, **params})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["granularity"] == granularity and body["timezone"] == "Asia/Shanghai"
    return {p.pop("start"): p for p in body["points"]}


async def test_days_split_at_china_midnight(client, world, march):
    days = await _series(client, world, "day", **MARCH)
    assert list(days) == [f"2026-03-{d:02d}" for d in range(1, 32)]
    # R11 (16:00Z on 02-28) and R1 (15:59Z on 03-01) are China 03-01; R2 (16:01Z on 03-01) is China 03-02
    assert days["2026-03-01"] == {"submitted": 2, "accepted": 1, "resolved": 1, "response_rate": 1.0,
                                  "resolution_rate": 1.0, "satisfaction_rate": 1.0}
    assert days["2026-03-02"] == {**EMPTY, "submitted": 1, "response_rate": 1.0}   # R2, rejected at the deadline
    assert days["2026-03-03"] == EMPTY
    assert days["2026-03-04"] == {**EMPTY, "submitted": 1, "response_rate": 0.0}   # R3, rejected late
    assert days["2026-03-31"] == {**EMPTY, "submitted": 1}                          # R14 at 23:59 China time
    assert sum(p["submitted"] for p in days.values()) == 14


async def test_weeks_start_on_monday_in_china_time(client, world, march):
    weeks = await _series(client, world, "week", **MARCH)
    # 2026-03-01 is a Sunday: R11 and R1 belong to the week of Monday 02-23; R2 (Monday 00:01 China) does not
    assert list(weeks) == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    assert weeks["2026-02-23"] == {"submitted": 2, "accepted": 1, "resolved": 1, "response_rate": 1.0,
                                   "resolution_rate": 1.0, "satisfaction_rate": 1.0}
    # R2 R3 R4 R5 R6 R7: due R2 R3 R4 R5 R7, on time R2 R7; accepted R4 R7, none first time; R4 rated 4
    assert weeks["2026-03-02"] == {"submitted": 6, "accepted": 2, "resolved": 1, "response_rate": 0.4,
                                   "resolution_rate": 0.0, "satisfaction_rate": 1.0}
    # R8 R9 R10 R16 R17: due and on time R8 R9 R16 R17; first time R8 R9 R16 of 4; R9 rated 3
    assert weeks["2026-03-09"] == {"submitted": 5, "accepted": 4, "resolved": 3, "response_rate": 1.0,
                                   "resolution_rate": 0.75, "satisfaction_rate": 0.0}
    assert weeks["2026-03-16"] == EMPTY and weeks["2026-03-23"] == EMPTY
    assert weeks["2026-03-30"] == {**EMPTY, "submitted": 1}


async def test_months_split_at_china_month_ends(client, world, march):
    months = await _series(client, world, "month",
                           **{"from": "2026-02-01T00:00:00+08:00", "to": "2026-05-01T00:00:00+08:00"})
    assert list(months) == ["2026-02-01", "2026-03-01", "2026-04-01"]
    # R12: 02-28 23:59:59 China; R13: 04-01 00:00 China (still March in UTC)
    assert months["2026-02-01"]["submitted"] == 1 and months["2026-04-01"]["submitted"] == 1
    assert months["2026-03-01"] == {"submitted": 14, "accepted": 7, "resolved": 5, "response_rate": 0.7,
                                    "resolution_rate": 4 / 7, "satisfaction_rate": 2 / 3}


async def test_series_respects_scope_and_filters(client, world, march):
    months = await _series(client, world, "month", "admin_street", **MARCH)
    assert months["2026-03-01"]["submitted"] == 15
    months = await _series(client, world, "month", category_id=march["cat2"].id, **MARCH)
    assert months["2026-03-01"] == {**EMPTY, "submitted": 1, "response_rate": 0.0}
    assert_error(await client.get(URL, headers=world.headers("admin_c1"),
                                  params={"granularity": "month", "grid_id": world.g2.id, **MARCH}), 404)


async def test_bucket_cap(client, world):
    h = world.headers("admin_c1")
    long = {"from": "2025-01-01T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00"}  # 424 days
    assert_error(await client.get(URL, headers=h, params={"granularity": "day", **long}), 422, "invalid_period")
    assert len((await client.get(URL, headers=h, params={"granularity": "week", **long})).json()["points"]) == 61
    # series may be longer than a year, as long as the buckets fit: 30 years of months
    decades = {"from": "2000-01-01T00:00:00Z", "to": "2030-01-01T00:00:00+08:00"}
    assert len((await client.get(URL, headers=h, params={"granularity": "month", **decades})).json()["points"]) == 360
    assert_error(await client.get(URL, headers=h, params={"granularity": "week", **decades}), 422, "invalid_period")
    assert_error(await client.get(URL, headers=h, params={"granularity": "hour"}), 422, "validation_error")
