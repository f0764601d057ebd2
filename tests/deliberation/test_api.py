"""Proposals, comments, settings and announcements through the API: who sees what, bad input, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.deliberation.helpers import BASE, raise_proposal, step
from tests.helpers import assert_error


async def test_residents_of_another_community_get_404_everywhere(app, client, world):
    prop = await raise_proposal(client, world)
    pid = prop["id"]
    for who in ("resident_c", "admin_c2", "worker_in", "dept_in"):
        h = world.headers(who)
        for resp in (await client.get(f"{BASE}/{pid}", headers=h),
                     await client.get(f"{BASE}/{pid}/timeline", headers=h),
                     await client.post(f"{BASE}/{pid}/support", headers=h),
                     await client.get(f"{BASE}/{pid}/comments", headers=h),
                     await client.post(f"{BASE}/{pid}/comments", headers=h, json={"body": "路过"}),
                     await client.get(f"{BASE}/{pid}/vote", headers=h),
                     await client.post(f"{BASE}/{pid}/steps", headers=h,
                                       json={"action": "put_on_agenda", "expected_version": 1})):
            assert_error(resp, 404, "not_found")
        assert pid not in [p["id"] for p in (await client.get(BASE, headers=h)).json()["items"]]
    assert [p["id"] for p in (await client.get(BASE, headers=world.headers("resident_b"))).json()["items"]] == [pid]
    assert [p["id"] for p in (await client.get(BASE, headers=world.headers("admin_street"))).json()["items"]] == [pid]


async def test_wrong_state_answers_with_the_current_state_and_stale_comes_first(app, client, world):
    prop = await raise_proposal(client, world)
    err = assert_error(await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("admin_c1"),
                                         json={"action": "open_vote", "expected_version": 1,
                                               "vote": {"closes_at": "2099-01-01T00:00:00+08:00"}}),
                       409, "invalid_transition")
    assert err["details"] == {"state": "open", "action": "open_vote", "reason": None}
    stale = await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("resident_b"),
                              json={"action": "put_on_agenda", "expected_version": 7})
    assert assert_error(stale, 409, "stale_version")["details"] == {"current_version": 1, "state": "open"}
    assert_error(await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("resident_b"),
                                   json={"action": "put_on_agenda", "expected_version": 1}), 403)
    assert_error(await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers("admin_c1"),
                                   json={"action": "decline", "expected_version": 1}), 422)
    declined = await step(client, world, "admin_c1", prop, "decline", note="不属于议事范围")
    assert declined["state"] == "declined" and declined["declined_reason"] == "不属于议事范围"
    err = assert_error(await client.post(f"{BASE}/{prop['id']}/support", headers=world.headers("resident_b")), 409,
                       "invalid_transition")
    assert err["details"]["state"] == "declined"


async def test_only_residents_raise_and_the_proposer_does_not_support_their_own(client, world):
    for who in ("admin_c1", "worker_in", "dept_in"):
        assert_error(await client.post(BASE, headers=world.headers(who), json={"title": "标题", "body": "内容"}), 403)
    prop = await raise_proposal(client, world)
    assert_error(await client.post(f"{BASE}/{prop['id']}/support", headers=world.headers("resident_a")), 403)
    assert_error(await client.post(BASE, headers=world.headers("resident_a"),
                                   json={"title": "标题", "body": "内容", "state": "decided"}), 422)


async def test_comments_replies_hiding_and_pages(client, world):
    prop = await raise_proposal(client, world)
    url = f"{BASE}/{prop['id']}/comments"
    ids = []
    for i in range(5):
        resp = await client.post(url, headers=world.headers("resident_b"), json={"body": f"意见{i}"})
        ids.append(resp.json()["id"])
    reply = await client.post(url, headers=world.headers("resident_a"), json={"body": "回复", "parent_id": ids[0]})
    assert reply.status_code == 201
    assert_error(await client.post(url, headers=world.headers("resident_a"),
                                   json={"body": "再回复", "parent_id": reply.json()["id"]}), 422, "invalid_reference")
    page1 = (await client.get(url, headers=world.headers("resident_a"), params={"limit": 3})).json()
    page2 = (await client.get(url, headers=world.headers("resident_a"),
                              params={"limit": 3, "cursor": page1["next_cursor"]})).json()
    assert [c["id"] for c in page1["items"] + page2["items"]] == ids and page2["next_cursor"] is None
    assert page1["items"][0]["reply_count"] == 1
    replies = (await client.get(url, headers=world.headers("resident_b"), params={"parent_id": ids[0]})).json()
    assert [c["id"] for c in replies["items"]] == [reply.json()["id"]]
    # an admin hides one; its author sees why, other residents see a placeholder
    assert_error(await client.post(f"/api/v1/proposal-comments/{ids[1]}/hide", headers=world.headers("resident_a"),
                                   json={"reason": "x"}), 403)
    assert_error(await client.post(f"/api/v1/proposal-comments/{ids[1]}/hide", headers=world.headers("admin_c2"),
                                   json={"reason": "x"}), 404)
    hidden = await client.post(f"/api/v1/proposal-comments/{ids[1]}/hide", headers=world.headers("admin_c1"),
                               json={"reason": "含有人身攻击"})
    assert hidden.status_code == 200 and hidden.json()["hidden_reason"] == "含有人身攻击"
    assert_error(await client.post(f"/api/v1/proposal-comments/{ids[1]}/hide", headers=world.headers("admin_c1"),
                                   json={"reason": "again"}), 409, "invalid_transition")
    by_author = (await client.get(url, headers=world.headers("resident_b"))).json()["items"][1]
    assert (by_author["hidden"], by_author["body"], by_author["hidden_reason"]) == (True, "意见1", "含有人身攻击")
    by_other = (await client.get(url, headers=world.headers("resident_a"))).json()["items"][1]
    assert (by_other["hidden"], by_other["body"], by_other["hidden_reason"], by_other["author"]) == \
        (True, None, None, None)
    inbox = (await client.get("/api/v1/notifications", headers=world.headers("resident_b"))).json()["items"]
    assert any("含有人身攻击" in n["body"] for n in inbox)


async def test_settings_and_budgets_belong_to_the_community(client, world):
    url = f"/api/v1/communities/{world.c1.id}/deliberation-settings"
    assert (await client.get(url, headers=world.headers("resident_a"))).json() == \
        {"community_id": world.c1.id, "support_threshold": 10, "is_default": True}
    assert_error(await client.get(url, headers=world.headers("resident_c")), 404)
    assert_error(await client.put(url, headers=world.headers("resident_a"), json={"support_threshold": 1}), 403)
    assert_error(await client.put(url, headers=world.headers("admin_c2"), json={"support_threshold": 1}), 404)
    assert_error(await client.put(url, headers=world.headers("admin_c1"), json={"support_threshold": 0}), 422)
    assert_error(await client.get(f"/api/v1/communities/{world.g1.id}/budgets", headers=world.headers("admin_c1")),
                 404)  # not a community


async def test_announcements_pinned_first_newest_first_and_only_for_their_place(client, world):
    h = world.headers("admin_c1")
    made = []
    for title, pinned, grid in (("停水通知", False, world.c1.id), ("置顶：防汛", True, world.c1.id),
                                ("网格通知", False, world.g1.id), ("街道通知", False, world.street.id)):
        resp = await client.post("/api/v1/announcements", headers=h if grid != world.street.id
                                 else world.headers("admin_street"),
                                 json={"grid_id": grid, "title": title, "body": "内容", "pinned": pinned})
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    expired = await client.post("/api/v1/announcements", headers=h, json={
        "grid_id": world.c1.id, "title": "将过期", "body": "内容",
        "expires_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()})
    assert expired.status_code == 201
    assert_error(await client.post("/api/v1/announcements", headers=h,
                                   json={"grid_id": world.c2.id, "title": "越权", "body": "内容"}),
                 422, "invalid_reference")
    assert_error(await client.post("/api/v1/announcements", headers=world.headers("resident_a"),
                                   json={"grid_id": world.c1.id, "title": "居民", "body": "内容"}), 403)
    import asyncio
    await asyncio.sleep(1.1)
    listed = (await client.get("/api/v1/announcements", headers=world.headers("resident_a"))).json()["items"]
    assert [a["id"] for a in listed] == [made[1], made[3], made[2], made[0]]
    page = (await client.get("/api/v1/announcements", headers=world.headers("resident_a"), params={"limit": 2})).json()
    rest = (await client.get("/api/v1/announcements", headers=world.headers("resident_a"),
                             params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [a["id"] for a in page["items"] + rest["items"]] == [a["id"] for a in listed]
    assert [a["id"] for a in (await client.get("/api/v1/announcements",
                                               headers=world.headers("resident_c"))).json()["items"]] == [made[3]]
    assert_error(await client.get(f"/api/v1/announcements/{made[0]}", headers=world.headers("resident_c")), 404)
    withdrawn = await client.post(f"/api/v1/announcements/{made[0]}/withdraw", headers=h)
    assert withdrawn.json()["withdrawn"] is True
    assert made[0] not in [a["id"] for a in (await client.get("/api/v1/announcements",
                                                              headers=world.headers("resident_b"))).json()["items"]]
    inbox = (await client.get("/api/v1/notifications", headers=world.headers("resident_b"))).json()["items"]
    assert {n["type"] for n in inbox} == {"announcement.published"}
