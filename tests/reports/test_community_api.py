"""Followers (关注), similar reports, merging duplicates, moderation, escalation."""

from __future__ import annotations

from tests.helpers import assert_error
from tests.reports.factories import PHOTO_PNG, make_report


async def _step(client, headers, report_id, version, action, **fields):
    return await client.post(f"/api/v1/reports/{report_id}/steps", headers=headers,
                             json={"action": action, "expected_version": version, **fields})


async def test_follow_and_unfollow_keep_the_count(client, app, world):
    report = await make_report(app, world, reporter="resident_a")
    url = f"/api/v1/reports/{report.id}/follow"
    b = world.headers("resident_b")
    assert (await client.post(url, headers=b)).json() == {"following": True, "follower_count": 1}
    assert (await client.post(url, headers=b)).json() == {"following": True, "follower_count": 1}  # idempotent
    detail = (await client.get(f"/api/v1/reports/{report.id}", headers=b)).json()
    assert detail["is_following"] is True and detail["follower_count"] == 1
    assert [r["id"] for r in (await client.get("/api/v1/reports", headers=b, params={"view": "following"}))
            .json()["items"]] == [report.id]
    assert (await client.delete(url, headers=b)).json() == {"following": False, "follower_count": 0}
    assert_error(await client.post(url, headers=world.headers("resident_a")), 403)   # own report
    assert_error(await client.post(url, headers=world.headers("resident_c")), 404)   # other community
    assert_error(await client.post(url, headers=world.headers("worker_in")), 403)    # staff do not follow
    private = await make_report(app, world, reporter="resident_a", is_public=False)
    assert_error(await client.post(f"/api/v1/reports/{private.id}/follow", headers=b), 404)


async def test_similar_open_reports_nearby(client, app, world):
    near = await make_report(app, world, reporter="resident_a", lat=31.2300, lng=121.4700, building_id=world.b1.id)
    await make_report(app, world, reporter="resident_a", lat=31.2400, lng=121.4700, building_id=world.b2.id)  # 1.1 km
    closed = await make_report(app, world, reporter="resident_a", state="rejected", building_id=world.b1.id)
    h = world.headers("resident_b")
    got = (await client.get("/api/v1/reports/similar", headers=h, params={
        "category_id": world.cat.id, "lat": 31.2301, "lng": 121.4701})).json()
    assert [r["id"] for r in got] == [near.id]
    got = (await client.get("/api/v1/reports/similar", headers=h, params={
        "category_id": world.cat.id, "building_id": world.b1.id})).json()
    assert [r["id"] for r in got] == [near.id] and closed.id not in [r["id"] for r in got]
    assert (await client.get("/api/v1/reports/similar", headers=world.headers("resident_c"), params={
        "category_id": world.cat.id, "building_id": world.b1.id})).json() == []
    assert_error(await client.get("/api/v1/reports/similar", headers=h, params={"category_id": world.cat.id}), 422)


async def test_merge_moves_reporter_and_followers_to_the_survivor(client, app, world):
    survivor = await make_report(app, world, reporter="resident_a")
    duplicate = await make_report(app, world, reporter="resident_b")
    await client.post(f"/api/v1/reports/{duplicate.id}/follow", headers=world.headers("resident_a"))
    resp = await _step(client, world.headers("worker_in"), duplicate.id, duplicate.version, "merge",
                       target_report_id=survivor.id)
    assert resp.status_code == 200 and resp.json()["state"] == "merged"
    assert resp.json()["merged_into_id"] == survivor.id
    detail = (await client.get(f"/api/v1/reports/{survivor.id}", headers=world.headers("resident_b"))).json()
    assert detail["is_following"] is True and detail["follower_count"] == 1  # resident_a is its reporter
    other_community = await make_report(app, world, reporter="resident_c")
    dup2 = await make_report(app, world, reporter="resident_b")
    assert_error(await _step(client, world.headers("worker_in"), dup2.id, dup2.version, "merge",
                             target_report_id=other_community.id), 422)
    assert_error(await _step(client, world.headers("worker_in"), dup2.id, dup2.version, "merge",
                             target_report_id=dup2.id), 422)


async def test_moderation_hides_from_the_feed_but_not_from_reporter_and_staff(client, app, world):
    h = world.headers("resident_a")
    up = (await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", PHOTO_PNG, "image/png")})).json()
    report = (await client.post("/api/v1/reports", headers=h, json={
        "category_id": world.cat.id, "title": "邻居噪音", "photo_ids": [up["id"]]})).json()
    admin = world.headers("admin_c1")
    assert_error(await _step(client, admin, report["id"], 1, "hide"), 422)  # a reason is needed
    hidden = await _step(client, admin, report["id"], 1, "hide", note="含个人隐私信息")
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    neighbour = world.headers("resident_b")
    assert_error(await client.get(f"/api/v1/reports/{report['id']}", headers=neighbour), 404)
    feed = (await client.get("/api/v1/reports", headers=neighbour, params={"view": "community"})).json()
    assert report["id"] not in [r["id"] for r in feed["items"]]
    mine = (await client.get(f"/api/v1/reports/{report['id']}", headers=h)).json()
    assert mine["hidden"] is True and mine["hidden_reason"] == "含个人隐私信息"
    assert (await client.get(f"/api/v1/reports/{report['id']}", headers=world.headers("worker_in"))).status_code == 200
    # the hide event is for staff only
    assert "hide" not in [e["action"] for e in (await client.get(
        f"/api/v1/reports/{report['id']}/timeline", headers=h)).json()]
    shown = await _step(client, admin, report["id"], hidden.json()["version"], "unhide")
    assert shown.status_code == 200
    # hiding one photo
    resp = await _step(client, admin, report["id"], shown.json()["version"], "hide_photo", photo_id=up["id"],
                       note="拍到人脸")
    assert resp.status_code == 200, resp.text
    seen = (await client.get(f"/api/v1/reports/{report['id']}", headers=neighbour)).json()
    assert seen["photos"] == []
    assert_error(await client.get(f"/api/v1/reports/{report['id']}/photos/{up['id']}", headers=neighbour), 404)
    assert (await client.get(f"/api/v1/reports/{report['id']}/photos/{up['id']}", headers=h)).status_code == 200
    assert_error(await _step(client, world.headers("worker_in"), report["id"], resp.json()["version"], "hide",
                             note="x"), 403)


async def test_escalation_climbs_the_grid_tree(client, app, world):
    report = await make_report(app, world, state="accepted")
    first = await _step(client, world.headers("worker_in"), report.id, report.version, "escalate", note="疑难问题")
    assert first.status_code == 200 and first.json()["escalated_to_grid_id"] == world.c1.id
    assert first.json()["state"] == "accepted"
    second = await _step(client, world.headers("admin_c1"), report.id, first.json()["version"], "escalate",
                         note="需街道协调")
    assert second.json()["escalated_to_grid_id"] == world.street.id
    assert_error(await _step(client, world.headers("admin_street"), report.id, second.json()["version"], "escalate",
                             note="再上报"), 409, "invalid_transition")
