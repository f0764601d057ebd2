"""notify(): rows in the caller's transaction, rendered per language."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.notifications import catalog
from app.notifications.models import Notification
from app.notifications.service import notify


def test_render_in_both_languages_and_tolerates_missing_params():
    zh = catalog.render("report.dispatched", {"title": "路灯不亮", "handler": "市政"}, english=False)
    en = catalog.render("report.dispatched", {"title": "Lamp", "handler": "Works"}, english=True)
    assert zh == ("诉求已派单", "您的诉求「路灯不亮」已派给市政处理。")
    assert en == ("Report dispatched", "Your report \"Lamp\" was sent to Works.")
    assert catalog.render("report.rejected", {"title": "x"}, english=False)[1] == "您的诉求「x」不予受理："


def test_every_type_is_in_the_closed_enum():
    assert {t.value for t in catalog.NotificationType} == set(catalog.TEMPLATES)


async def test_notify_writes_in_the_callers_transaction(db, world):
    ids = [world.users["resident_a"].id, world.users["resident_b"].id, None, world.users["resident_a"].id]
    async with db.session(write=True) as s:
        n = await notify(s, ids, "report.accepted", object_type="report", object_id=1, link="/api/v1/reports/1",
                         params={"title": "t"}, exclude=world.users["resident_b"].id)
        assert n == 1
    with pytest.raises(RuntimeError):
        async with db.session(write=True) as s:
            await notify(s, [world.users["resident_b"].id], "report.accepted", object_type="report", object_id=1,
                         link="/api/v1/reports/1")
            raise RuntimeError("the step failed after the notification was added")
    async with db.session(write=False) as s:
        rows = (await s.execute(select(Notification.user_id, func.count()).group_by(Notification.user_id))).all()
    assert rows == [(world.users["resident_a"].id, 1)]


async def test_unknown_type_is_a_programming_error(db, world):
    async with db.session(write=True) as s:
        with pytest.raises(ValueError):
            await notify(s, [world.users["resident_a"].id], "report.nope", object_type="report", object_id=1, link="/x")
