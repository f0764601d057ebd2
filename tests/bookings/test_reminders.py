"""The worker reminds residents the day before, exactly once per booking, even with two workers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.notifications.models import Notification
from app.worker.runner import run_once
from tests.bookings.factories import make_residents, make_service, make_slot


async def test_reminders_exactly_once_with_two_workers(app, client, world, settings):
    service_id = await make_service(app, world)
    tomorrow = await make_slot(app, world, service_id, starts_in=timedelta(hours=20), capacity=30)
    later = await make_slot(app, world, service_id, starts_in=timedelta(days=3), capacity=30)
    residents = await make_residents(app, world, 25)
    for r in residents:
        assert (await client.post("/api/v1/bookings", headers=world.headers(r), json={"slot_id": tomorrow}))\
            .status_code == 201
    assert (await client.post("/api/v1/bookings", headers=world.headers("resident_a"),
                              json={"slot_id": later})).status_code == 201
    now = datetime.now(UTC)
    first, second = await asyncio.gather(run_once(app.state.db, settings, now), run_once(app.state.db, settings, now))
    assert first["bookings_reminded"] + second["bookings_reminded"] == 25
    again = await run_once(app.state.db, settings, now)
    assert again["bookings_reminded"] == 0
    async with app.state.db.session(write=False) as s:
        reminded = list((await s.execute(select(Notification.user_id).where(
            Notification.type == "booking.reminder"))).scalars())
    assert sorted(reminded) == sorted(r.id for r in residents)
