"""resident_a with data in every domain, and neighbours (resident_b, staff) whose own data touches it, through the
HTTP API: the ground for the export and erasure tests (issue 21 items 4 and 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.bookings.factories import make_service, make_slot
from tests.deliberation.helpers import end_notice, plan, soon, step
from tests.factories import World
from tests.groups.factories import make_activity, make_group
from tests.points.factories import give_points, make_reward
from tests.reports.factories import PHOTO_PNG

FAMILY_MEMBER = "张奶奶"
ERRAND_NOTE = "帮母亲代缴水费，单据在门卫"
B_COMMENT = "我是二号楼的，同意加装，邻居B的意见"
A_COMMENT = "我家老人上下楼很难"


@dataclass
class Story:
    private_report: dict[str, Any] = field(default_factory=dict)
    public_report: dict[str, Any] = field(default_factory=dict)
    private_photo: int = 0
    public_photo: int = 0
    slot: int = 0
    booking: dict[str, Any] = field(default_factory=dict)
    waiting: dict[str, Any] = field(default_factory=dict)  # resident_b's waitlist entry on the same slot
    errand: dict[str, Any] = field(default_factory=dict)
    group: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, Any] = field(default_factory=dict)
    redemption: dict[str, Any] = field(default_factory=dict)
    proposal: dict[str, Any] = field(default_factory=dict)
    b_comment: dict[str, Any] = field(default_factory=dict)
    a_comment: dict[str, Any] = field(default_factory=dict)


async def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


async def _upload(client: httpx.AsyncClient, headers: dict) -> int:
    resp = await client.post("/api/v1/uploads", headers=headers, files={"file": ("p.png", PHOTO_PNG, "image/png")})
    return (await _ok(resp, 201))["id"]


async def _report_step(client, world: World, who: str, report: dict, action: str, **fields) -> dict:
    return await _ok(await client.post(f"/api/v1/reports/{report['id']}/steps", headers=world.headers(who),
                                       json={"action": action, "expected_version": report["version"], **fields}))


async def build(app, client: httpx.AsyncClient, world: World) -> Story:
    s = Story()
    a, b = world.headers("resident_a"), world.headers("resident_b")

    # reports: a private one walked to closed (handler notes, a rating), a public one followed by resident_b
    s.private_photo = await _upload(client, a)
    r = await _ok(await client.post("/api/v1/reports", headers=a, json={
        "category_id": world.cat.id, "title": "家门口漏水", "description": "三楼家门口漏水", "is_public": False,
        "photo_ids": [s.private_photo], "address": "1号楼3单元301"}), 201)
    r = await _report_step(client, world, "worker_in", r, "accept", note="已受理")
    r = await _report_step(client, world, "worker_in", r, "dispatch", department_id=world.d1.id,
                           note="内部备注：请城管处理", note_public=False)
    r = await _report_step(client, world, "dept_in", r, "start")
    r = await _report_step(client, world, "dept_in", r, "resolve", note="已修好")
    s.private_report = await _report_step(client, world, "resident_a", r, "rate", stars=4, note="处理及时")
    s.public_photo = await _upload(client, a)
    s.public_report = await _ok(await client.post("/api/v1/reports", headers=a, json={
        "category_id": world.cat.id, "title": "路灯不亮", "is_public": True, "photo_ids": [s.public_photo]}), 201)
    await _ok(await client.post(f"/api/v1/reports/{s.public_report['id']}/follow", headers=b))

    # bookings: a place (resident_b waits behind it) and an errand
    service = await make_service(app, world, waitlist=True)
    s.slot = await make_slot(app, world, service, capacity=1, starts_in=timedelta(days=2))
    s.booking = await _ok(await client.post("/api/v1/bookings", headers=a, json={
        "slot_id": s.slot, "for_family_member": FAMILY_MEMBER}), 201)
    s.waiting = await _ok(await client.post("/api/v1/bookings", headers=b, json={"slot_id": s.slot}), 201)
    assert s.waiting["status"] == "waitlisted"
    errand_service = await make_service(app, world, kind="errand", provider_kind="grid_workers", title="代缴水费")
    s.errand = await _ok(await client.post("/api/v1/bookings", headers=a, json={
        "service_id": errand_service, "note": ERRAND_NOTE}), 201)

    # a group (both join) and an activity (resident_a takes the one place)
    s.group = await make_group(client, world)
    for h in (a, b):
        await _ok(await client.post(f"/api/v1/groups/{s.group['id']}/join", headers=h))
    s.activity = await make_activity(client, world, capacity=1)
    await _ok(await client.post(f"/api/v1/activities/{s.activity['id']}/signup", headers=a))

    # points: 50 given, 10 spent on a reward not collected yet
    await give_points(client, world, "resident_a", 50)
    reward = await make_reward(client, world, cost=10, stock=3)
    s.redemption = await _ok(await client.post(f"/api/v1/points/rewards/{reward['id']}/redeem", headers=a), 201)

    # deliberation: resident_a's proposal, commented on by both, in a vote both cast a ballot in
    prop = await _ok(await client.post("/api/v1/proposals", headers=a, json={
        "title": "加装电梯", "body": "1号楼老人多，上下楼困难"}), 201)
    s.b_comment = await _ok(await client.post(f"/api/v1/proposals/{prop['id']}/comments", headers=b,
                                              json={"body": B_COMMENT}), 201)
    s.a_comment = await _ok(await client.post(f"/api/v1/proposals/{prop['id']}/comments", headers=a,
                                              json={"body": A_COMMENT}), 201)
    await _ok(await client.post(f"/api/v1/proposals/{prop['id']}/support", headers=b))
    prop = await step(client, world, "admin_c1", prop, "put_on_agenda")
    prop = await step(client, world, "admin_c1", prop, "publish_plan", plan=plan())
    await end_notice(app, prop["id"])
    s.proposal = await step(client, world, "admin_c1", prop, "open_vote", vote={"closes_at": soon(hours=1)})
    vote = await _ok(await client.get(f"/api/v1/proposals/{prop['id']}/vote", headers=a))
    yes = next(o["id"] for o in vote["options"] if o["key"] == "yes")
    for h in (a, b):
        await _ok(await client.post(f"/api/v1/proposals/{prop['id']}/vote/ballots", headers=h,
                                    json={"option_id": yes}), 201)
    return s


def today_period() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
