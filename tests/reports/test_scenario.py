"""The whole story through the HTTP API, as the issue tells it."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from app.reports.models import Report
from tests.images import JPEG
from tests.reports.factories import PHOTO_PNG


async def _upload(client, headers, data=PHOTO_PNG, name="photo.png"):
    resp = await client.post("/api/v1/uploads", headers=headers, files={"file": (name, data, "image/png")})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def _step(client, headers, report, action, **fields):
    resp = await client.post(f"/api/v1/reports/{report['id']}/steps", headers=headers,
                             json={"action": action, "expected_version": report["version"], **fields})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_submit_to_resolution_with_a_trustworthy_public_timeline(client, world):
    resident, worker = world.headers("resident_a"), world.headers("worker_in")
    dept, admin = world.headers("dept_in"), world.headers("admin_c1")

    photo = await _upload(client, resident)
    resp = await client.post("/api/v1/reports", headers=resident, json={
        "category_id": world.cat.id, "title": "楼道堆放杂物", "description": "3单元楼道被纸箱堵住",
        "photo_ids": [photo], "lat": 31.23, "lng": 121.47, "address": "1号楼3单元"})
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert re.fullmatch(r"BS\d{8}-0001", report["number"])
    assert report["state"] == "submitted" and report["version"] == 1 and report["respond_by"]
    assert report["resolve_by"] is None
    assert [ph["id"] for ph in report["photos"]] == [photo]
    served = await client.get(report["photos"][0]["url"], headers=resident)
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")  # re-encoded, still a PNG

    report = await _step(client, worker, report, "accept", note="已受理，将尽快处理")
    assert report["state"] == "accepted" and report["resolve_by"]
    report = await _step(client, worker, report, "dispatch", department_id=world.d1.id,
                         note="内部：请城管队优先", note_public=False)
    assert report["state"] == "dispatched" and report["handler_department_id"] == world.d1.id
    report = await _step(client, admin, report, "supervise", note="督办：今天内处理")
    report = await _step(client, dept, report, "start")
    result_photo = await _upload(client, dept, JPEG, "after.jpg")
    report = await _step(client, dept, report, "resolve", note="杂物已清理", photo_ids=[result_photo])
    assert report["state"] == "resolved" and report["resolved_at"]

    # the resident's view: every public step, in order, with none of the internal notes
    timeline = (await client.get(f"/api/v1/reports/{report['id']}/timeline", headers=resident)).json()
    assert [e["action"] for e in timeline] == ["submit", "accept", "dispatch", "start", "resolve"]
    assert [e["to_state"] for e in timeline] == ["submitted", "accepted", "dispatched", "in_progress", "resolved"]
    notes = [e["note"] for e in timeline]
    assert notes == [None, "已受理，将尽快处理", None, None, "杂物已清理"]
    assert "内部" not in str(timeline) and "督办" not in str(timeline)
    assert timeline[-1]["photo_ids"] == [result_photo]
    # the result photo is theirs to see, with the report
    detail = (await client.get(f"/api/v1/reports/{report['id']}", headers=resident)).json()
    assert {ph["id"] for ph in detail["photos"]} == {photo, result_photo}
    got = await client.get(f"/api/v1/reports/{report['id']}/photos/{result_photo}", headers=resident)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"

    # staff see everything, internal notes included
    staff = (await client.get(f"/api/v1/reports/{report['id']}/timeline", headers=admin)).json()
    assert [e["action"] for e in staff] == ["submit", "accept", "dispatch", "supervise", "start", "resolve"]
    assert staff[2]["note"] == "内部：请城管队优先" and staff[3]["note"] == "督办：今天内处理"


async def test_numbers_are_unique_per_street_per_day(client, world):
    h = world.headers("resident_a")
    numbers = []
    for i in range(3):
        resp = await client.post("/api/v1/reports", headers=h, json={"category_id": world.cat.id, "title": f"问题{i}"})
        numbers.append(resp.json()["number"])
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]
    assert len({n[:10] for n in numbers}) == 1


async def test_concurrent_submissions_get_distinct_numbers_without_gaps(client, app, world):
    """The street's counter moves in each report's own transaction, last: twelve submissions at once from two
    residents get 0001..0012 (none lost, none repeated), each answer names its committed number, and no
    provisional number survives."""
    heads = [world.headers("resident_a"), world.headers("resident_b")] * 6
    results = await asyncio.gather(*[
        client.post("/api/v1/reports", headers=h, json={"category_id": world.cat.id, "title": f"同时提交{i}"})
        for i, h in enumerate(heads)])
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    answered = {r.json()["id"]: r.json()["number"] for r in results}
    assert sorted(n[-4:] for n in answered.values()) == [f"{i:04d}" for i in range(1, 13)]
    async with app.state.db.session(write=False) as s:
        stored = dict((await s.execute(select(Report.id, Report.number))).all())
    assert stored == answered
