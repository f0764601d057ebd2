"""Booking through the HTTP API: capacity and one place per resident under concurrency, windows, the cancellation
deadline, the per-resident limit, eligibility, the waitlist, the no-show block, paused services, cancelled slots."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app.bookings.models import Booking, BookingSlot
from app.notifications.models import Notification
from app.org import service as org_service
from app.org.models import GridLevel
from tests.bookings.factories import make_residents, make_service, make_slot, move_slot, set_birth_date
from tests.helpers import assert_error

URL = "/api/v1/bookings"


async def _book(client, world, who, slot_id, **extra):
    return await client.post(URL, headers=world.headers(who), json={"slot_id": slot_id, **extra})


async def _slot_state(app, slot_id: int) -> tuple[int, int]:
    async with app.state.db.session(write=False) as s:
        booked = (await s.execute(select(BookingSlot.booked).where(BookingSlot.id == slot_id))).scalar_one()
        rows = (await s.execute(select(func.count()).select_from(Booking).where(
            Booking.slot_id == slot_id, Booking.status == "booked"))).scalar_one()
    return booked, rows


async def _types(app, user_id: int) -> list[str]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(Notification.type).where(Notification.user_id == user_id)
                                     .order_by(Notification.id))).scalars())


async def test_sixty_residents_at_ten_places_exactly_ten_win(app, client, world):
    service_id = await make_service(app, world, max_active_per_resident=1)
    slot_id = await make_slot(app, world, service_id, capacity=10)
    residents = await make_residents(app, world, 60)
    answers = await asyncio.gather(*(_book(client, world, r, slot_id) for r in residents))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 10 and codes.count(409) == 50, codes
    for r in answers:
        if r.status_code == 409:
            assert_error(r, 409, "slot_full")
    assert await _slot_state(app, slot_id) == (10, 10)
    listed = (await client.get(f"/api/v1/services/{service_id}/slots", headers=world.headers("resident_a"))).json()
    assert listed["items"][0]["remaining"] == 0


async def test_one_resident_booking_one_slot_many_times_holds_one_place(app, client, world):
    service_id = await make_service(app, world, max_active_per_resident=5)
    slot_id = await make_slot(app, world, service_id, capacity=5)
    answers = await asyncio.gather(*(_book(client, world, "resident_a", slot_id) for _ in range(12)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 1, codes
    for r in answers:
        if r.status_code != 201:
            assert_error(r, 409, "already_booked")
    assert await _slot_state(app, slot_id) == (1, 1)


async def test_the_answer_of_a_booking_is_what_reading_it_gives(app, client, world):
    """The 201 is built from what the request wrote (no read back): it must equal GET of the same booking, for a
    place and for a waitlist entry."""
    for waitlist in (False, True):
        service_id = await make_service(app, world, waitlist=waitlist)
        slot_id = await make_slot(app, world, service_id, capacity=1)
        for who in ("resident_a", "resident_b"):
            made = await _book(client, world, who, slot_id, for_family_member="老伴")
            if made.status_code == 409:
                assert not waitlist
                continue
            assert made.status_code == 201, made.text
            read = await client.get(f"{URL}/{made.json()['id']}", headers=world.headers(who))
            assert made.json() == read.json()
            events = (await client.get(f"{URL}/{made.json()['id']}/events", headers=world.headers(who))).json()
            assert [(e["action"], e["to_status"]) for e in events] == [("book", made.json()["status"])]


async def test_booking_window(app, client, world):
    service_id = await make_service(app, world, opens_days_ahead=7, closes_minutes_before=120)
    early = await make_slot(app, world, service_id, starts_in=timedelta(days=8))
    late = await make_slot(app, world, service_id, starts_in=timedelta(minutes=90))
    err = assert_error(await _book(client, world, "resident_a", early), 409, "booking_window_closed")
    opens_at = datetime.fromisoformat(err["details"]["opens_at"])
    assert timedelta(days=0) < opens_at - datetime.now(UTC) < timedelta(days=1, minutes=1)
    assert err["details"]["closes_at"]
    assert_error(await _book(client, world, "resident_a", late), 409, "booking_window_closed")
    ok = await make_slot(app, world, service_id, starts_in=timedelta(days=2))
    assert (await _book(client, world, "resident_a", ok)).status_code == 201


async def test_cancel_before_the_deadline_frees_the_place_and_not_after(app, client, world):
    service_id = await make_service(app, world, cancel_minutes_before=120, max_active_per_resident=2)
    soon = await make_slot(app, world, service_id, starts_in=timedelta(minutes=90), capacity=1)
    later = await make_slot(app, world, service_id, starts_in=timedelta(days=1), capacity=1)
    b_soon = (await _book(client, world, "resident_a", soon)).json()
    err = assert_error(await client.post(f"{URL}/{b_soon['id']}/cancel", headers=world.headers("resident_a"),
                                         json={"expected_version": b_soon["version"]}), 409, "cancel_deadline_passed")
    assert err["details"]["deadline"]
    b_later = (await _book(client, world, "resident_a", later)).json()
    assert_error(await _book(client, world, "resident_b", later), 409, "slot_full")
    stale = await client.post(f"{URL}/{b_later['id']}/cancel", headers=world.headers("resident_a"),
                              json={"expected_version": b_later["version"] + 1})
    assert_error(stale, 409, "stale_version")
    resp = await client.post(f"{URL}/{b_later['id']}/cancel", headers=world.headers("resident_a"),
                             json={"expected_version": b_later["version"]})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert (await _book(client, world, "resident_b", later)).status_code == 201
    assert await _slot_state(app, later) == (1, 1)
    assert "booking.cancelled" in await _types(app, world.users["resident_a"].id)


async def test_per_resident_limit_counts_family_bookings(app, client, world):
    service_id = await make_service(app, world, max_active_per_resident=2)
    slots = [await make_slot(app, world, service_id, starts_in=timedelta(days=1, hours=i)) for i in range(3)]
    assert (await _book(client, world, "resident_a", slots[0])).status_code == 201
    assert (await _book(client, world, "resident_a", slots[1], for_family_member="母亲")).status_code == 201
    err = assert_error(await _book(client, world, "resident_a", slots[2]), 409, "booking_limit_reached")
    assert err["details"] == {"limit": 2, "active": 2}
    assert (await _book(client, world, "resident_b", slots[2])).status_code == 201


async def test_per_resident_limit_holds_under_concurrency(app, client, world):
    service_id = await make_service(app, world, max_active_per_resident=2)
    slots = [await make_slot(app, world, service_id, starts_in=timedelta(days=1, hours=i)) for i in range(8)]
    answers = await asyncio.gather(*(_book(client, world, "resident_a", s) for s in slots))
    assert sorted(r.status_code for r in answers).count(201) == 2
    async with app.state.db.session(write=False) as s:
        held = (await s.execute(select(func.count()).select_from(Booking).where(
            Booking.service_id == service_id, Booking.status == "booked"))).scalar_one()
    assert held == 2


async def test_eligibility_by_grid_and_age(app, client, world):
    async with app.state.db.session(write=True) as s:
        other = await org_service.add_node(s, parent=world.c1, level=GridLevel.grid, name="网格三")
    by_grid = await make_service(app, world, eligible_grid_ids=[other.id])
    slot = await make_slot(app, world, by_grid)
    err = assert_error(await _book(client, world, "resident_a", slot), 403, "not_eligible")
    assert err["details"]["reason"] == "grid"

    elders = await make_service(app, world, title="长者食堂", kind="meal", min_age=60)
    meal = await make_slot(app, world, elders)
    err = assert_error(await _book(client, world, "resident_a", meal), 403, "not_eligible")
    assert (err["details"]["reason"], err["details"]["min_age"]) == ("birth_date_unknown", 60)
    await set_birth_date(app, world.users["resident_a"].id, date(1990, 5, 1))
    assert assert_error(await _book(client, world, "resident_a", meal), 403, "not_eligible")["details"]["reason"] \
        == "min_age"
    await set_birth_date(app, world.users["resident_b"].id, date(1950, 5, 1))
    assert (await _book(client, world, "resident_b", meal)).status_code == 201


async def test_waitlist_promotes_the_first_waiting_resident(app, client, world):
    service_id = await make_service(app, world, waitlist=True)
    slot = await make_slot(app, world, service_id, capacity=1)
    (d,) = await make_residents(app, world, 1)
    first = (await _book(client, world, "resident_a", slot)).json()
    waiting_b = await _book(client, world, "resident_b", slot)
    waiting_d = await _book(client, world, d, slot)
    assert first["status"] == "booked"
    assert waiting_b.status_code == 201 and waiting_b.json()["status"] == "waitlisted"
    assert waiting_d.json()["status"] == "waitlisted"
    assert await _types(app, world.users["resident_b"].id) == ["booking.waitlisted"]
    await client.post(f"{URL}/{first['id']}/cancel", headers=world.headers("resident_a"),
                      json={"expected_version": first["version"]})
    b_now = (await client.get(f"{URL}/{waiting_b.json()['id']}", headers=world.headers("resident_b"))).json()
    d_now = (await client.get(f"{URL}/{waiting_d.json()['id']}", headers=world.headers(d))).json()
    assert (b_now["status"], d_now["status"]) == ("booked", "waitlisted")
    assert await _types(app, world.users["resident_b"].id) == ["booking.waitlisted", "booking.promoted"]
    assert await _slot_state(app, slot) == (1, 1)


async def test_no_shows_block_booking_until_a_date(app, client, world):
    service_id = await make_service(app, world, no_show_limit=2, no_show_block_days=7, max_active_per_resident=5)
    slots = [await make_slot(app, world, service_id, starts_in=timedelta(days=1, hours=i)) for i in range(3)]
    for i, slot in enumerate(slots[:2]):
        b = (await _book(client, world, "resident_a", slot)).json()
        started = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2 - i)
        await move_slot(app, slot, started)
        resp = await client.post(f"{URL}/{b['id']}/attendance", headers=world.headers("admin_c1"),
                                 json={"expected_version": b["version"], "status": "no_show"})
        assert resp.status_code == 200 and resp.json()["status"] == "no_show", resp.text
    err = assert_error(await _book(client, world, "resident_a", slots[2]), 409, "booking_blocked")
    until = datetime.fromisoformat(err["details"]["until"])
    assert until == datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=6) or \
        timedelta(days=5, hours=23) < until - datetime.now(UTC) < timedelta(days=6, minutes=1)
    assert (await _book(client, world, "resident_b", slots[2])).status_code == 201


async def test_attendance_and_rating_once(app, client, world):
    service_id = await make_service(app, world)
    slot = await make_slot(app, world, service_id)
    b = (await _book(client, world, "resident_a", slot)).json()
    early = await client.post(f"{URL}/{b['id']}/attendance", headers=world.headers("admin_c1"),
                              json={"expected_version": b["version"], "status": "attended"})
    assert_error(early, 409, "invalid_transition")
    assert_error(await client.post(f"{URL}/{b['id']}/rating", headers=world.headers("resident_a"),
                                   json={"stars": 5}), 409, "invalid_transition")
    await move_slot(app, slot, datetime.now(UTC) - timedelta(minutes=10))
    done = await client.post(f"{URL}/{b['id']}/attendance", headers=world.headers("admin_c1"),
                             json={"expected_version": b["version"], "status": "attended"})
    assert done.json()["status"] == "attended"
    rates = await asyncio.gather(*(client.post(f"{URL}/{b['id']}/rating", headers=world.headers("resident_a"),
                                               json={"stars": 4, "comment": "很好"}) for _ in range(5)))
    assert sorted(r.status_code for r in rates) == [200, 409, 409, 409, 409]
    figures = (await client.get(f"{URL}/figures", headers=world.headers("admin_c1"))).json()
    mine = next(f for f in figures["services"] if f["service_id"] == service_id)
    assert (mine["attended"], mine["ratings"], mine["average_rating"]) == (1, 1, 4.0)
    assert_error(await client.get(f"{URL}/figures", headers=world.headers("resident_a")), 403)


async def test_paused_service_and_cancelled_slot(app, client, world):
    service_id = await make_service(app, world)
    slot = await make_slot(app, world, service_id)
    b = (await _book(client, world, "resident_a", slot)).json()
    cancelled = await client.post(f"/api/v1/slots/{slot}/cancel", headers=world.headers("admin_c1"),
                                  json={"reason": "律师临时有事"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = (await client.get(f"{URL}/{b['id']}", headers=world.headers("resident_a"))).json()
    assert (again["status"], again["cancel_reason"]) == ("cancelled", "律师临时有事")
    assert "booking.slot_cancelled" in await _types(app, world.users["resident_a"].id)
    err = assert_error(await _book(client, world, "resident_b", slot), 409, "slot_cancelled")
    assert err["details"] == {"slot_id": slot, "reason": "律师临时有事"}

    other = await make_slot(app, world, service_id, starts_in=timedelta(days=2))
    svc = (await client.get(f"/api/v1/services/{service_id}", headers=world.headers("admin_c1"))).json()
    paused = await client.patch(f"/api/v1/services/{service_id}", headers=world.headers("admin_c1"),
                                json={"expected_version": svc["version"], "status": "paused"})
    assert paused.json()["status"] == "paused"
    err = assert_error(await _book(client, world, "resident_b", other), 409, "service_paused")
    assert err["details"] == {"service_id": service_id, "status": "paused"}
    assert_error(await client.patch(f"/api/v1/services/{service_id}", headers=world.headers("admin_c1"),
                                    json={"expected_version": svc["version"], "status": "active"}), 409,
                 "stale_version")


async def test_timetable_rerun_adds_nothing_and_slots_page(app, client, world):
    service_id = await make_service(app, world)
    today = datetime.now(UTC).date()
    body = {"from_date": str(today + timedelta(days=1)), "to_date": str(today + timedelta(days=14)),
            "weekdays": [1, 2, 3, 4, 5, 6, 7], "start_time": "14:00", "end_time": "17:00", "slot_minutes": 30,
            "capacity": 1}
    h = world.headers("admin_c1")
    first = (await client.post(f"/api/v1/services/{service_id}/timetable", headers=h, json=body)).json()
    assert first == {"created": 14 * 6, "existing": 0}
    second = (await client.post(f"/api/v1/services/{service_id}/timetable", headers=h, json=body)).json()
    assert second == {"created": 0, "existing": 14 * 6}
    seen, cursor = [], None
    while True:
        params = {"limit": 25, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/api/v1/services/{service_id}/slots", headers=world.headers("resident_a"),
                                 params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 14 * 6 and len({s["id"] for s in seen}) == 14 * 6
    assert [s["starts_at"] for s in seen] == sorted(s["starts_at"] for s in seen)
    assert all(s["remaining"] == 1 for s in seen)
    assert_error(await client.get(f"/api/v1/services/{service_id}/slots", headers=world.headers("resident_c")), 404)


async def test_my_bookings_upcoming_and_past(app, client, world):
    service_id = await make_service(app, world, max_active_per_resident=3)
    a = await make_slot(app, world, service_id, starts_in=timedelta(days=2))
    b = await make_slot(app, world, service_id, starts_in=timedelta(days=1))
    c = await make_slot(app, world, service_id, starts_in=timedelta(days=3))
    ids = {s: (await _book(client, world, "resident_a", s)).json()["id"] for s in (a, b, c)}
    await move_slot(app, c, datetime.now(UTC) - timedelta(days=1))
    h = world.headers("resident_a")
    upcoming = (await client.get(f"{URL}/mine", headers=h, params={"limit": 1})).json()
    assert [x["id"] for x in upcoming["items"]] == [ids[b]]
    rest = (await client.get(f"{URL}/mine", headers=h, params={"limit": 5, "cursor": upcoming["next_cursor"]})).json()
    assert [x["id"] for x in rest["items"]] == [ids[a]]
    past = (await client.get(f"{URL}/mine", headers=h, params={"when": "past"})).json()
    assert [x["id"] for x in past["items"]] == [ids[c]]
    assert (await client.get(f"{URL}/mine", headers=world.headers("resident_b"))).json()["items"] == []


async def test_a_second_active_place_in_a_slot_is_refused_by_the_database(app, world):
    """The partial unique index is the backstop behind the hold lock: inserting a second active booking of the
    same resident in the same slot (as a request racing past the checks would) is `already_booked` and writes
    nothing, with and without the first event (one statement on PostgreSQL, two on SQLite)."""
    from app.bookings.errors import AlreadyBooked
    from app.bookings.sql import insert_booking

    service_id = await make_service(app, world)
    slot_id = await make_slot(app, world, service_id, capacity=5)
    now = datetime.now(UTC)
    async with app.state.db.session(write=True) as s:
        slot = await s.get(BookingSlot, slot_id)
        values = {"service_id": service_id, "slot_id": slot_id, "resident_id": world.users["resident_a"].id,
                  "community_id": world.c1.id, "grid_id": world.g1.id, "starts_at": slot.starts_at,
                  "for_family_member": None, "status": "booked", "version": 1, "created_at": now, "updated_at": now}
        event = {"action": "book", "actor_id": None, "actor_role": "system", "from_status": None,
                 "to_status": "booked", "note": None, "created_at": now}
        first = await insert_booking(s, values, event)
    for with_event in (event, None):
        try:
            async with app.state.db.session(write=True) as s:
                await insert_booking(s, values, with_event)
            raise AssertionError("a second active place was written")
        except AlreadyBooked as exc:
            assert exc.details == {"slot_id": slot_id}
    async with app.state.db.session(write=False) as s:
        ids = list((await s.execute(select(Booking.id).where(Booking.slot_id == slot_id))).scalars())
    assert ids == [first]
