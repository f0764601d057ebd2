"""Who sees which phone number and name, through the HTTP API: accounts, reports (anonymous reporters, the
handler's view of the number) and bookings (the organiser's)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.validators import mask_phone
from app.privacy.policies import ANONYMOUS_NAME
from tests.bookings.factories import make_service
from tests.reports.factories import make_report


async def _audits(app, action: str) -> list[tuple[int | None, int]]:
    async with app.state.db.session(write=False) as s:
        return [tuple(r) for r in await s.execute(select(AuditEntry.actor_id, AuditEntry.object_id)
                                                   .where(AuditEntry.action == action))]


async def test_accounts_masked_in_lists_full_in_one_audited_read(app, client, world):
    a = world.users["resident_a"]
    me = (await client.get("/api/v1/me", headers=world.headers("resident_a"))).json()
    assert me["phone"] == a.phone  # one's own number
    admin = world.headers("admin_c1")
    listed = (await client.get("/api/v1/admin/users", headers=admin, params={"role": "resident"})).json()["items"]
    phones = {u["id"]: u["phone"] for u in listed}
    assert phones[a.id] == mask_phone(a.phone) and a.phone not in str(listed)
    # a search by phone prefix still finds the account, still masked
    found = (await client.get("/api/v1/admin/users", headers=admin, params={"q": a.phone[:7]})).json()["items"]
    assert [u["phone"] for u in found if u["id"] == a.id] == [mask_phone(a.phone)]
    assert await _audits(app, "user.profile_read") == []  # lists are not profile reads
    one = (await client.get(f"/api/v1/admin/users/{a.id}", headers=admin)).json()
    assert one["phone"] == a.phone
    assert await _audits(app, "user.profile_read") == [(world.users["admin_c1"].id, a.id)]


async def test_anonymous_reporter_is_匿名居民_to_other_residents_only(app, client, world):
    a = world.users["resident_a"]
    report = await make_report(app, world, state="closed", reporter="resident_a", hide_reporter=True)
    anonymous = {"id": None, "display_name": ANONYMOUS_NAME}
    named = {"id": a.id, "display_name": a.display_name}
    for who, expected in (("resident_b", anonymous), ("resident_a", named), ("worker_in", named),
                          ("admin_c1", named)):
        h = world.headers(who)
        detail = (await client.get(f"/api/v1/reports/{report.id}", headers=h)).json()
        assert detail["reporter"] == expected, who
        timeline = (await client.get(f"/api/v1/reports/{report.id}/timeline", headers=h)).json()
        resident_steps = [e["actor"] for e in timeline if e["actor_role"] == "resident"]
        assert resident_steps and all(actor == expected for actor in resident_steps), (who, resident_steps)
    feed = (await client.get("/api/v1/reports", headers=world.headers("resident_b"),
                             params={"view": "community"})).json()["items"]
    assert [r["reporter"] for r in feed if r["id"] == report.id] == [anonymous]
    assert a.display_name not in str(feed)


async def test_reporter_phone_full_to_handlers_masked_to_other_staff(app, client, world):
    a = world.users["resident_a"]
    report = await make_report(app, world, state="dispatched", reporter="resident_a", is_public=True)
    expected = {"worker_in": a.phone, "dept_in": a.phone, "admin_c1": mask_phone(a.phone),
                "admin_street": mask_phone(a.phone), "resident_a": None, "resident_b": None}
    for who, phone in expected.items():
        resp = await client.get(f"/api/v1/reports/{report.id}", headers=world.headers(who))
        assert resp.status_code == 200, (who, resp.text)
        assert resp.json()["reporter_phone"] == phone, who


async def test_booking_phone_full_to_the_organiser(app, client, world):
    a = world.users["resident_a"]
    service_id = await make_service(app, world, kind="errand", provider_kind="grid_workers", title="老年卡办理")
    resp = await client.post("/api/v1/bookings", headers=world.headers("resident_a"),
                             json={"service_id": service_id, "note": "帮母亲办老年卡"})
    assert resp.status_code == 201, resp.text
    booking = resp.json()
    assert booking["resident_phone"] == a.phone  # one's own
    keeper = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=world.headers("worker_in"))).json()
    assert keeper["resident_phone"] == a.phone  # the grid worker keeping the errand
    queue = (await client.get("/api/v1/errands", headers=world.headers("admin_c1"))).json()["items"]
    assert [b["resident_phone"] for b in queue if b["id"] == booking["id"]] == [mask_phone(a.phone)]
