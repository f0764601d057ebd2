"""代办 through the HTTP API: the resident asks, the grid worker of their grid receives, runs and finishes it with
notes the resident sees; a grid worker of another grid can neither see nor move it (404)."""

from __future__ import annotations

from sqlalchemy import select

from app.notifications.models import Notification
from tests.bookings.factories import make_service
from tests.helpers import assert_error

URL = "/api/v1/bookings"


async def _types(app, user_id: int) -> list[str]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(Notification.type).where(Notification.user_id == user_id)
                                     .order_by(Notification.id))).scalars())


async def _errand(app, client, world, **rules):
    service_id = await make_service(app, world, kind="errand", provider_kind="grid_workers", title="老年卡办理",
                                    **rules)
    resp = await client.post(URL, headers=world.headers("resident_a"),
                             json={"service_id": service_id, "note": "帮母亲办老年卡，材料已备齐",
                                   "for_family_member": "母亲"})
    assert resp.status_code == 201, resp.text
    return service_id, resp.json()


async def _step(client, world, who, b, action, note=None):
    body = {"action": action, "expected_version": b["version"], **({"note": note} if note else {})}
    return await client.post(f"{URL}/{b['id']}/errand-steps", headers=world.headers(who), json=body)


async def test_errand_flow(app, client, world):
    _, b = await _errand(app, client, world)
    assert (b["status"], b["slot_id"], b["errand_actions"]) == ("booked", None, [])
    assert await _types(app, world.users["worker_in"].id) == ["booking.errand_new"]
    assert await _types(app, world.users["worker_out"].id) == []

    queue = (await client.get("/api/v1/errands", headers=world.headers("worker_in"))).json()
    assert [x["id"] for x in queue["items"]] == [b["id"]]
    assert set(queue["items"][0]["errand_actions"]) == {"receive", "decline", "note"}
    assert (await client.get("/api/v1/errands", headers=world.headers("worker_out"))).json()["items"] == []

    for action, to, note in (("receive", "received", None), ("note", "received", "已联系社保所"),
                             ("start", "processing", None), ("finish", "done", "老年卡已办好，请到社区领取")):
        resp = await _step(client, world, "worker_in", b, action, note)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == to
        b = resp.json()
    assert_error(await _step(client, world, "worker_in", b, "start"), 409, "invalid_transition")

    events = (await client.get(f"{URL}/{b['id']}/events", headers=world.headers("resident_a"))).json()
    assert [e["action"] for e in events] == ["book", "receive", "note", "start", "finish"]
    assert events[2]["note"] == "已联系社保所"
    told = await _types(app, world.users["resident_a"].id)
    assert told == ["booking.confirmed", "booking.errand_received", "booking.errand_note",
                    "booking.errand_processing", "booking.errand_done"]
    rated = await client.post(f"{URL}/{b['id']}/rating", headers=world.headers("resident_a"), json={"stars": 5})
    assert rated.json()["rating"] == 5


async def test_a_grid_worker_of_another_grid_is_refused(app, client, world):
    _, b = await _errand(app, client, world)
    assert_error(await _step(client, world, "worker_out", b, "receive"), 404, "not_found")
    assert_error(await client.get(f"{URL}/{b['id']}", headers=world.headers("worker_out")), 404)
    assert_error(await client.get(f"{URL}/{b['id']}/events", headers=world.headers("worker_out")), 404)
    assert_error(await _step(client, world, "resident_a", b, "receive"), 403)
    stale = dict(b, version=b["version"] + 1)
    assert_error(await _step(client, world, "worker_in", stale, "receive"), 409, "stale_version")
    declined = await _step(client, world, "worker_in", b, "decline", "材料不全，需本人身份证原件")
    assert declined.json()["status"] == "cannot_do"


async def test_errand_decline_needs_a_reason_and_resident_may_withdraw_before_start(app, client, world):
    _, b = await _errand(app, client, world, max_active_per_resident=2)
    assert_error(await _step(client, world, "worker_in", b, "decline"), 422, "validation_error")
    b = (await _step(client, world, "worker_in", b, "receive")).json()
    resp = await client.post(f"{URL}/{b['id']}/cancel", headers=world.headers("resident_a"),
                             json={"expected_version": b["version"]})
    assert resp.json()["status"] == "cancelled"
    assert "booking.errand_cancelled" in await _types(app, world.users["worker_in"].id)


async def test_errand_limit(app, client, world):
    service_id, _ = await _errand(app, client, world)
    again = await client.post(URL, headers=world.headers("resident_a"), json={"service_id": service_id, "note": "再办"})
    assert_error(again, 409, "booking_limit_reached")
