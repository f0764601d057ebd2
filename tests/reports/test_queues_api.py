"""Queues: who sees which list, filters, stable cursor pagination, counts per state, deadlines and overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.reports.models import Report
from tests.helpers import assert_error
from tests.reports.factories import make_report


async def _ids(client, headers, **params) -> list[int]:
    resp = await client.get("/api/v1/reports", headers=headers, params=params)
    assert resp.status_code == 200, resp.text
    return [r["id"] for r in resp.json()["items"]]


async def test_each_role_sees_its_own_queue(client, app, world):
    mine = await make_report(app, world, reporter="resident_a", is_public=False)
    public = await make_report(app, world, reporter="resident_b", is_public=True)
    dispatched = await make_report(app, world, reporter="resident_b", state="dispatched", is_public=False)
    elsewhere = await make_report(app, world, reporter="resident_c", is_public=True)

    assert set(await _ids(client, world.headers("resident_a"))) == {mine.id}
    assert set(await _ids(client, world.headers("resident_a"), view="community")) == {public.id, dispatched.id} - {
        dispatched.id}
    assert set(await _ids(client, world.headers("resident_c"), view="community")) == {elsewhere.id}
    assert set(await _ids(client, world.headers("worker_in"))) == {mine.id, public.id, dispatched.id}
    assert set(await _ids(client, world.headers("worker_out"))) == {elsewhere.id}
    assert set(await _ids(client, world.headers("dept_in"))) == {dispatched.id}
    assert set(await _ids(client, world.headers("dept_out"))) == set()
    assert set(await _ids(client, world.headers("admin_c1"))) == {mine.id, public.id, dispatched.id}
    assert set(await _ids(client, world.headers("admin_c2"))) == {elsewhere.id}
    assert set(await _ids(client, world.headers("admin_street"))) == {mine.id, public.id, dispatched.id, elsewhere.id}
    assert_error(await client.get("/api/v1/reports", headers=world.headers("resident_a"), params={"view": "queue"}),
                 422)


async def test_filters(client, app, world):
    h = world.headers("worker_in")
    a = await make_report(app, world, title="路灯不亮")
    b = await make_report(app, world, title="楼道杂物", state="accepted")
    assert await _ids(client, h, q="路灯") == [a.id]
    assert await _ids(client, h, q="%") == []  # LIKE wildcards are literal
    assert await _ids(client, h, state="accepted") == [b.id]
    assert set(await _ids(client, h, state=["accepted", "submitted"])) == {a.id, b.id}
    assert set(await _ids(client, h, category_id=world.cat.id)) == {a.id, b.id}
    assert await _ids(client, h, source="patrol") == []
    assert set(await _ids(client, h, source="app")) == {a.id, b.id}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await _ids(client, h, created_from=future) == []
    assert set(await _ids(client, h, created_to=future)) == {a.id, b.id}
    assert_error(await client.get("/api/v1/reports", headers=h, params={"state": "bogus"}), 422)
    assert_error(await client.get("/api/v1/reports", headers=h, params={"limit": 1000}), 422)


async def test_overdue_is_derived_and_filterable(client, app, world):
    h = world.headers("worker_in")
    late = await make_report(app, world)
    on_time = await make_report(app, world)
    late_handling = await make_report(app, world, state="dispatched")
    past = datetime.now(UTC) - timedelta(hours=1)
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == late.id).values(respond_by=past))
        await s.execute(update(Report).where(Report.id == late_handling.id).values(resolve_by=past))
    assert set(await _ids(client, h, overdue="true")) == {late.id, late_handling.id}
    assert await _ids(client, h, overdue="false") == [on_time.id]
    detail = (await client.get(f"/api/v1/reports/{late.id}", headers=h)).json()
    assert detail["overdue"] is True


async def test_deadlines_from_the_category_and_extension(client, app, world):
    report = await make_report(app, world, state="dispatched")
    created = report.created_at
    assert abs((report.respond_by - created) - timedelta(hours=24)) < timedelta(seconds=5)
    assert abs((report.resolve_by - report.accepted_at) - timedelta(days=7)) < timedelta(seconds=5)
    url = f"/api/v1/reports/{report.id}/steps"
    new = (report.resolve_by + timedelta(days=3)).isoformat()
    asked = await client.post(url, headers=world.headers("dept_in"), json={
        "action": "request_extension", "expected_version": report.version, "resolve_by": new, "note": "需采购配件"})
    assert asked.status_code == 200 and asked.json()["resolve_by"] == report.resolve_by.isoformat().replace(
        "+00:00", "Z")  # asking does not move it
    granted = await client.post(url, headers=world.headers("admin_c1"), json={
        "action": "extend", "expected_version": asked.json()["version"], "resolve_by": new, "note": "同意延期"})
    assert granted.status_code == 200, granted.text
    assert datetime.fromisoformat(granted.json()["resolve_by"]) == datetime.fromisoformat(new)
    earlier = (report.resolve_by - timedelta(days=1)).isoformat()
    assert_error(await client.post(url, headers=world.headers("admin_c1"), json={
        "action": "extend", "expected_version": granted.json()["version"], "resolve_by": earlier, "note": "x"}), 422)
    assert_error(await client.post(url, headers=world.headers("dept_in"), json={
        "action": "extend", "expected_version": granted.json()["version"], "resolve_by": new, "note": "x"}), 403)


async def test_pagination_walks_every_report_once_in_stable_order(client, app, world):
    made = [await make_report(app, world, title=f"问题{i}") for i in range(7)]
    h = world.headers("worker_in")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/reports", headers=h, params=params)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [r.id for r in reversed(made)]
    assert_error(await client.get("/api/v1/reports", headers=h, params={"cursor": "garbage!"}), 400, "invalid_cursor")


async def test_counts_per_state(client, app, world):
    for state in ("submitted", "submitted", "accepted", "dispatched"):
        await make_report(app, world, state=state)
    await make_report(app, world, reporter="resident_c")
    counts = (await client.get("/api/v1/reports/counts", headers=world.headers("worker_in"))).json()
    assert counts["total"] == 4
    assert counts["counts"]["submitted"] == 2 and counts["counts"]["accepted"] == 1
    assert counts["counts"]["dispatched"] == 1 and counts["counts"]["resolved"] == 0
    dept = (await client.get("/api/v1/reports/counts", headers=world.headers("dept_in"))).json()
    assert dept["total"] == 1


async def test_patrol_and_on_behalf_reports(client, app, world):
    h = world.headers("worker_in")
    resp = await client.post("/api/v1/reports", headers=h, json={"category_id": world.cat.id, "title": "井盖缺失",
                                                                 "building_id": world.b1.id})
    assert resp.status_code == 201 and resp.json()["source"] == "patrol"
    resp = await client.post("/api/v1/reports", headers=h, json={
        "category_id": world.cat.id, "title": "电话反映噪音", "building_id": world.b1.id,
        "on_behalf_of_id": world.users["resident_a"].id})
    assert resp.status_code == 201 and resp.json()["source"] == "hotline"
    assert resp.json()["reporter"]["id"] == world.users["resident_a"].id
    # the resident now sees it as theirs
    assert resp.json()["id"] in await _ids(client, world.headers("resident_a"))
    # not for a resident of another grid, not in another grid's building, not for departments
    assert_error(await client.post("/api/v1/reports", headers=h, json={
        "category_id": world.cat.id, "title": "x" * 5, "building_id": world.b1.id,
        "on_behalf_of_id": world.users["resident_c"].id}), 422)
    assert_error(await client.post("/api/v1/reports", headers=h, json={
        "category_id": world.cat.id, "title": "x" * 5, "building_id": world.b3.id}), 422)
    assert_error(await client.post("/api/v1/reports", headers=world.headers("dept_in"), json={
        "category_id": world.cat.id, "title": "x" * 5, "building_id": world.b1.id}), 403)


async def test_submission_bad_input_writes_nothing(client, app, world):
    h = world.headers("resident_a")
    for body in ({"category_id": world.cat.id},                                        # missing title
                 {"category_id": world.cat.id, "title": "ok title", "state": "resolved"},  # field not settable
                 {"category_id": world.cat.id, "title": "ok title", "reporter_id": 1},
                 {"category_id": 10**9, "title": "ok title"},
                 {"category_id": world.cat.id, "title": "ok title", "lat": 31.2},       # lat without lng
                 {"category_id": world.cat.id, "title": "ok title", "building_id": world.b3.id},  # not my community
                 {"category_id": world.cat.id, "title": "t" * 101},
                 {"category_id": world.cat.id, "title": "ok title", "source": "patrol"}):
        assert_error(await client.post("/api/v1/reports", headers=h, json=body), 422)
    assert await _ids(client, h) == []


async def test_forged_cursors_are_400_not_500(client, world):
    from app.core.pagination import encode_cursor

    h = world.headers("worker_in")
    for values in (["2026-01-01T00:00:00", 1], ["2026-01-01T00:00:00+00:00", 2**64], ["not a date", 1], [1, 2, 3]):
        resp = await client.get("/api/v1/reports", headers=h, params={"cursor": encode_cursor(values)})
        assert_error(resp, 400, "invalid_cursor")


async def test_a_worker_with_two_grids_pages_through_both_newest_first(client, app, world):
    from app.users.models import Role
    from tests.factories import make_user

    async with app.state.db.session(write=True) as s:
        both = await make_user(s, world.settings, Role.grid_worker, 90, grid_ids=[world.g1.id, world.g2.id])
    in_g1 = [await make_report(app, world, reporter="resident_a") for _ in range(3)]
    in_g2 = [await make_report(app, world, reporter="resident_c") for _ in range(2)]
    accepted = await make_report(app, world, reporter="resident_c", state="accepted")
    h = world.headers(both)

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/api/v1/reports", headers=h, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert len(body["items"]) <= 2
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everything = [r.id for r in (*in_g1, *in_g2, accepted)]
    assert seen == sorted(everything, reverse=True)  # newest first, each once, across both grids
    assert await _ids(client, h, state="accepted") == [accepted.id]
    assert await _ids(client, h, state="submitted", limit=3) == sorted(
        [r.id for r in (*in_g1, *in_g2)], reverse=True)[:3]
    assert set(await _ids(client, world.headers("worker_in"))) == {r.id for r in in_g1}


async def test_the_generated_deadline_agrees_with_the_overdue_rule_in_every_state(client, app, world):
    """due_at is kept by the database; the queue filter on it and the state rule (statistics, the `overdue` flag)
    must pick the same reports, whatever the state and whichever deadline has passed."""
    from sqlalchemy import select

    from app.reports.lifecycle import State
    from app.reports.queries import overdue_condition, overdue_filter

    reports = {s.value: await make_report(app, world, state=s.value) for s in State}
    past = datetime.now(UTC) - timedelta(hours=1)
    ids = [r.id for r in reports.values()]
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id.in_(ids)).values(respond_by=past, resolve_by=past))
    now = datetime.now(UTC)
    async with app.state.db.session(write=False) as s:
        def chosen(cond):
            return select(Report.id).where(Report.id.in_(ids), cond)
        by_rule = set((await s.execute(chosen(overdue_condition(now)))).scalars())
        by_column = set((await s.execute(chosen(overdue_filter(now, True)))).scalars())
        not_by_column = set((await s.execute(chosen(overdue_filter(now, False)))).scalars())
    expected = {reports[s].id for s in ("submitted", "accepted", "dispatched", "in_progress")}
    assert by_rule == by_column == expected
    assert not_by_column == set(ids) - expected
    listed = {r["id"]: r["overdue"] for r in (await client.get(
        "/api/v1/reports", headers=world.headers("admin_street"), params={"limit": 100})).json()["items"]}
    assert {i for i, late in listed.items() if late and i in ids} == expected
