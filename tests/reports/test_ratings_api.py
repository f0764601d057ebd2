"""评价 and 重办 through the API; the auto-close sweep, including two workers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.reports import service
from app.reports.models import Report, ReportEvent
from app.worker.runner import run_once
from tests.helpers import assert_error
from tests.reports.factories import make_report


async def _step(client, headers, report, action, **fields):
    return await client.post(f"/api/v1/reports/{report['id']}/steps", headers=headers,
                             json={"action": action, "expected_version": report["version"], **fields})


async def _resolve_again(client, world, report):
    report = (await _step(client, world.headers("dept_in"), report, "start")).json()
    return (await _step(client, world.headers("dept_in"), report, "resolve", note="再次处理完毕")).json()


def _as_dict(r) -> dict:
    return r.model_dump(mode="json")


async def test_good_rating_closes_and_rates_once(client, app, world):
    report = _as_dict(await make_report(app, world, state="resolved"))
    h = world.headers("resident_a")
    assert_error(await _step(client, h, report, "rate"), 422)  # stars needed
    assert_error(await _step(client, h, report, "rate", stars=6), 422)
    assert_error(await _step(client, world.headers("resident_b"), report, "rate", stars=5), 403)
    resp = await _step(client, h, report, "rate", stars=5, tags=["办理及时", "态度好"], note="谢谢")
    assert resp.status_code == 200, resp.text
    closed = resp.json()
    assert closed["state"] == "closed" and closed["rating"] == 5 and closed["closed_at"]
    assert_error(await _step(client, h, closed, "rate", stars=1), 409, "invalid_transition")
    timeline = (await client.get(f"/api/v1/reports/{report['id']}/timeline", headers=h)).json()
    assert timeline[-1]["action"] == "rate" and timeline[-1]["to_state"] == "closed"


async def test_three_stars_closes_as_not_satisfied(client, app, world):
    report = _as_dict(await make_report(app, world, state="resolved"))
    resp = await _step(client, world.headers("resident_a"), report, "rate", stars=3)
    assert resp.json()["state"] == "closed" and resp.json()["rating"] == 3


async def test_bad_ratings_reopen_to_the_same_handler_then_escalate(client, app, world, settings):
    assert settings.rating_reopen_limit == 2
    report = _as_dict(await make_report(app, world, state="resolved"))
    h = world.headers("resident_a")
    for n in (1, 2):
        before = datetime.now(UTC)
        resp = await _step(client, h, report, "rate", stars=1, tags=["没解决"], note="还是堆着")
        reopened = resp.json()
        assert reopened["state"] == "dispatched" and reopened["reopen_count"] == n
        assert reopened["handler_department_id"] == world.d1.id  # the same handler
        assert datetime.fromisoformat(reopened["resolve_by"]) >= before + timedelta(days=7) - timedelta(seconds=5)
        report = await _resolve_again(client, world, reopened)
        assert report["state"] == "resolved"
    # a third bad rating: not back to the handler, but to intake, escalated to the community's admins
    resp = await _step(client, h, report, "rate", stars=2)
    escalated = resp.json()
    assert escalated["state"] == "accepted" and escalated["handler_department_id"] is None
    assert escalated["escalated_to_grid_id"] == world.c1.id and escalated["reopen_count"] == 3
    # the admin re-dispatches it
    again = await _step(client, world.headers("admin_c1"), escalated, "dispatch", department_id=world.d1.id)
    assert again.status_code == 200 and again.json()["state"] == "dispatched"


async def test_admin_can_reopen_a_closed_report(client, app, world):
    report = _as_dict(await make_report(app, world, state="closed"))
    assert_error(await _step(client, world.headers("admin_c1"), report, "reopen"), 422)
    assert_error(await _step(client, world.headers("worker_in"), report, "reopen", note="x"), 403)
    resp = await _step(client, world.headers("admin_c1"), report, "reopen", note="复查发现未解决")
    assert resp.status_code == 200 and resp.json()["state"] == "dispatched" and resp.json()["reopen_count"] == 1


async def _age(app, report_id: int, days: float) -> None:
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report_id)
                        .values(resolved_at=datetime.now(UTC) - timedelta(days=days)))


async def test_unrated_reports_close_themselves(client, app, world, settings):
    old = await make_report(app, world, state="resolved")
    fresh = await make_report(app, world, state="resolved")
    await _age(app, old.id, settings.auto_close_days + 1)
    done = await run_once(app.state.db, settings)
    assert done["auto_closed"] == 1
    detail = (await client.get(f"/api/v1/reports/{old.id}", headers=world.headers("resident_a"))).json()
    assert detail["state"] == "closed" and detail["auto_closed"] is True and detail["rating"] is None
    assert (await client.get(f"/api/v1/reports/{fresh.id}", headers=world.headers("resident_a"))).json()[
        "state"] == "resolved"
    events = (await client.get(f"/api/v1/reports/{old.id}/timeline", headers=world.headers("resident_a"))).json()
    assert events[-1]["action"] == "auto_close" and events[-1]["actor_role"] == "system"
    assert events[-1]["actor"] is None
    assert (await run_once(app.state.db, settings))["auto_closed"] == 0


async def test_two_workers_at_once_close_each_report_exactly_once(app, world, settings):
    reports = [await make_report(app, world, state="resolved") for _ in range(6)]
    for r in reports:
        await _age(app, r.id, settings.auto_close_days + 2)
    now = datetime.now(UTC)

    async def sweep():
        async with app.state.db.session(write=True) as s:
            return await service.auto_close_due(s, settings, now)

    results = await asyncio.gather(*[sweep() for _ in range(4)])
    assert sum(results) == len(reports)
    async with app.state.db.session(write=False) as s:
        per_report = (await s.execute(
            select(ReportEvent.report_id, func.count()).where(ReportEvent.action == "auto_close")
            .group_by(ReportEvent.report_id))).all()
    assert sorted(n for _, n in per_report) == [1] * len(reports)
