"""The hot reads write JSON from plain dicts, without the response model: each body must be exactly what the
documented model would write for the same data (no missing or extra field, same datetime format)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from app.core.schemas import Page
from app.reports.schemas import EventRead, ReportRead, ReportSummary, StateCounts
from tests.reports.factories import make_report


def _same_as_model(model, body) -> None:
    adapter = TypeAdapter(model)
    assert adapter.dump_python(adapter.validate_python(body), mode="json") == body


@pytest.mark.parametrize("who", ["resident_a", "resident_b", "worker_in", "dept_in", "admin_street"])
async def test_bodies_are_what_the_models_write(client, app, world, who):
    resolved = await make_report(app, world, state="resolved", reporter="resident_a", hide_reporter=True)
    await make_report(app, world, state="dispatched", reporter="resident_a", lat=31.2, lng=121.4)
    headers = world.headers(who)
    view = {"view": "community"} if who == "resident_b" else {}

    page = (await client.get("/api/v1/reports", headers=headers, params={"limit": 1, **view})).json()
    assert page["items"] and page["next_cursor"]
    _same_as_model(Page[ReportSummary], page)
    _same_as_model(StateCounts, (await client.get("/api/v1/reports/counts", headers=headers, params=view)).json())
    similar = await client.get("/api/v1/reports/similar", headers=headers,
                               params={"category_id": world.cat.id, "lat": 31.2, "lng": 121.4})
    _same_as_model(list[ReportSummary], similar.json())
    detail = (await client.get(f"/api/v1/reports/{resolved.id}", headers=headers)).json()
    _same_as_model(ReportRead, detail)
    assert detail["respond_by"].endswith("Z") and detail["photos"] == []
    timeline = (await client.get(f"/api/v1/reports/{resolved.id}/timeline", headers=headers)).json()
    assert len(timeline) >= 2
    _same_as_model(list[EventRead], timeline)
