"""The facade's date-range and status filters agree with the same reports listed through /api/v1 by staff (the
street's admin), once the reports the public may not see are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.open311.mapping import CLOSED, OPEN
from app.reports.models import Report
from tests.open311.helpers import V2, parse, step
from tests.reports.factories import make_report

DAY0 = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
STATES = ("submitted", "accepted", "dispatched", "in_progress", "resolved", "closed", "rejected", "withdrawn",
          "merged")


async def _reports(app, world) -> None:
    """Every state, public and private, one hidden, spread over 30 days (two per day at most)."""
    made = []
    for state in STATES:
        for is_public in (True, False):
            made.append(await make_report(app, world, state=state, is_public=is_public))
    await step(app, world, "admin_c1", made[0].id, "hide", note="屏蔽")
    async with app.state.db.session(write=True) as s:
        for i, r in enumerate(made):  # merge made extra reports: theirs stay at today's date
            (await s.get(Report, r.id)).created_at = DAY0 + timedelta(days=i * 3 // 2, hours=i)


async def _staff_ids(client, world, states: tuple[str, ...] | None, start: datetime, end: datetime) -> list[int]:
    params: dict = {"created_from": start.isoformat(), "created_to": end.isoformat(), "limit": 100}
    if states:
        params["state"] = list(states)
    items = (await client.get("/api/v1/reports", params=params, headers=world.headers("admin_street"))).json()["items"]
    out = []
    for item in items:  # what the public may see: the detail says whether moderators hid it
        detail = (await client.get(f"/api/v1/reports/{item['id']}", headers=world.headers("admin_street"))).json()
        if detail["is_public"] and not detail["hidden"] and detail["state"] != "withdrawn":
            out.append(item["id"])
    return out


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_date_range_and_status_agree_with_the_staff_queue(app, client, world, fmt):
    await _reports(app, world)
    windows = [(DAY0, DAY0 + timedelta(days=90)), (DAY0 + timedelta(days=3), DAY0 + timedelta(days=10, hours=5)),
               (DAY0 + timedelta(days=6, hours=6), DAY0 + timedelta(days=6, hours=7)),
               (DAY0 - timedelta(days=5), DAY0)]
    checked = 0
    for start, end in windows:
        for status, states in (("open", OPEN), ("closed", CLOSED), ("open,closed", None), (None, None)):
            params = {"start_date": start.isoformat(), "end_date": end.isoformat().replace("+00:00", "Z")}
            if status:
                params["status"] = status
            resp = await client.get(f"{V2}/requests.{fmt}", params=params)
            assert resp.status_code == 200, resp.text
            facade = [int(r["service_request_id"]) for r in parse(resp, fmt, "service_requests")]
            assert facade == await _staff_ids(client, world, states, start, end), (start, end, status)
            checked += len(facade)
    assert checked > 20  # the windows hold reports: the agreement is not between two empty lists
