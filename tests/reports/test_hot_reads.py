"""The read queries build plain dicts (no ORM entities, no models per row); FastAPI validates them against the
documented models on the way out. Each dict must carry exactly the model's fields: an extra one would be dropped
silently, a missing one with a default would be filled in silently."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.reports import queries
from app.reports.schemas import EventRead, ReportRead, ReportSummary, StateCounts
from tests.reports.factories import make_report, principal


def _exactly(model: type[BaseModel], data: dict) -> None:
    assert set(data) == set(model.model_fields), set(data) ^ set(model.model_fields)
    model.model_validate(data)


@pytest.mark.parametrize("who", ["resident_a", "resident_b", "worker_in", "dept_in", "admin_street"])
async def test_read_dicts_carry_exactly_the_model_fields(app, world, who):
    resolved = await make_report(app, world, state="resolved", reporter="resident_a", hide_reporter=True)
    await make_report(app, world, state="dispatched", reporter="resident_a", lat=31.2, lng=121.4)
    p = await principal(app, world.users[who])
    rows = app.state.db.reader
    view = queries.View.community if who == "resident_b" else None
    filters = dict(categories=None, overdue=None, created_from=None, created_to=None, sources=None, q=None,
                   grid_id=None)

    page = await queries.list_reports(rows, p, view=view, states=None, limit=1, cursor=None, **filters)
    assert set(page) == {"items", "next_cursor"} and page["items"] and page["next_cursor"]
    for item in page["items"]:
        _exactly(ReportSummary, item)
    _exactly(StateCounts, await queries.count_by_state(rows, p, view=view, **filters))
    for item in await queries.similar(rows, p, category_id=world.cat.id, building_id=None, lat=31.2, lng=121.4,
                                      limit=5):
        _exactly(ReportSummary, item)
    detail = await queries.report_detail(rows, p, resolved.id)
    _exactly(ReportRead, detail)
    for photo in detail["photos"]:
        assert set(photo) == {"id", "url", "hidden", "hidden_reason", "event_id"}
    events = await queries.timeline(rows, p, resolved.id)
    assert len(events) >= 2
    for event in events:
        _exactly(EventRead, event)
