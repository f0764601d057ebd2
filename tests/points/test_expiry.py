"""Points expire POINTS_EXPIRE_MONTHS after they were credited, unless spent first; once per account and day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.notifications.models import Notification
from app.points.expiry import expire_points, months_before
from app.points.models import PointAccount, PointEntry
from app.points.policies import due_to_expire
from tests.points.factories import give_points


@pytest.mark.parametrize(("old", "spent", "balance", "due"), [
    (10, 3, 7, 7),    # 3 of the old 10 were spent: the other 7 expire
    (10, 12, 5, 0),   # spending used all the old points up
    (10, 0, 4, 4),    # never more than the balance
    (0, 0, 9, 0),     # nothing old
])
def test_first_in_first_out(old, spent, balance, due):
    assert due_to_expire(old, spent, balance) == due


def test_months_before():
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 24) == datetime(2024, 3, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 1) == datetime(2025, 12, 15, tzinfo=UTC)


async def _ledger(db, user_id: int) -> tuple[int, list[tuple[str, int]]]:
    async with db.session(write=False) as s:
        balance = (await s.execute(select(PointAccount.balance).where(PointAccount.user_id == user_id))).scalar_one()
        entries = (await s.execute(select(PointEntry.kind, PointEntry.amount).where(PointEntry.user_id == user_id)
                                   .order_by(PointEntry.id))).all()
    return balance, [tuple(e) for e in entries]


async def _run(db, settings, now: datetime) -> int:
    async with db.session(write=True) as s:
        return await expire_points(s, settings, now)


async def test_old_points_expire_once_and_the_ledger_still_sums(client, db, world, settings):
    a = world.users["resident_a"].id
    await give_points(client, world, "resident_a", 10)
    await give_points(client, world, "resident_a", -3)
    now = datetime.now(UTC)
    assert await _run(db, settings, now) == 1  # checked today: nothing is old yet
    assert (await _ledger(db, a))[0] == 7
    later = now + timedelta(days=31 * (settings.points_expire_months + 1))
    assert await _run(db, settings, later) == 1
    balance, entries = await _ledger(db, a)
    assert entries[-1] == ("expire", -7) and balance == 0 == sum(amount for _, amount in entries)
    assert await _run(db, settings, later) == 0  # once a day
    async with db.session(write=False) as s:
        told = (await s.execute(select(func.count()).select_from(Notification).where(
            Notification.user_id == a, Notification.type == "points.expired"))).scalar_one()
    assert told == 1


async def test_fresh_points_survive(client, db, world, settings):
    a = world.users["resident_a"].id
    await give_points(client, world, "resident_a", 5)
    await _run(db, settings, datetime.now(UTC) + timedelta(days=30))
    assert await _ledger(db, a) == (5, [("adjust", 5)])


async def test_two_workers_expire_once(client, db, world, settings):
    a = world.users["resident_a"].id
    await give_points(client, world, "resident_a", 8)
    later = datetime.now(UTC) + timedelta(days=31 * (settings.points_expire_months + 1))
    results = await asyncio.gather(*(_run(db, settings, later) for _ in range(4)))
    assert sum(results) == 1
    balance, entries = await _ledger(db, a)
    assert entries == [("adjust", 8), ("expire", -8)] and balance == 0
