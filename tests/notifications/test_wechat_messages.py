"""WeChat subscription messages (issue 18 item 3), against the fake WeChat server on loopback: what a user
accepted is counted down one message at a time, in the notification's transaction; the worker sends, retries and
records like webhooks; nothing goes to a user who did not subscribe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.auth.wechat_models import WechatBinding, WechatSubscription
from app.notifications.provider_models import ProviderMessage
from app.worker.runner import run_once
from tests.clients.factories import make_client
from tests.helpers import assert_error
from tests.reports.factories import make_report
from tests.support.fake_providers import WX_APPID, FakeProviders, shared

SUBS = "/api/v1/notifications/wechat-subscriptions"


@pytest.fixture
def fake() -> FakeProviders:
    f = shared()
    f.reset()
    return f


@pytest.fixture
async def mini(app, world) -> str:
    """A mini-program of community 1 with resident_a bound to it; its client id."""
    async with app.state.db.session(write=True) as s:
        client, _ = await make_client(s, world.c1.id, wechat_appid=WX_APPID)
        s.add(WechatBinding(user_id=world.users["resident_a"].id, appid=WX_APPID, openid="openid-a",
                            created_at=datetime.now(UTC)))
        return client.client_id


async def _messages(app) -> list[ProviderMessage]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(ProviderMessage).order_by(ProviderMessage.id))).scalars())


async def _accept(client, world, mini, *types, who="resident_a"):
    resp = await client.post(SUBS, headers=world.headers(who, **{"X-Client-Id": mini}), json={
        "accepted": [{"type": t, "template_id": f"TPL_{t}"} for t in types]})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_each_acceptance_allows_one_message(client, app, world, mini):
    assert await _accept(client, world, mini, "report.accepted") == [
        {"type": "report.accepted", "template_id": "TPL_report.accepted", "remaining": 1}]
    again = await _accept(client, world, mini, "report.accepted", "report.resolved")
    assert {(r["type"], r["remaining"]) for r in again} == {("report.accepted", 2), ("report.resolved", 1)}
    listed = await client.get(SUBS, headers=world.headers("resident_a", **{"X-Client-Id": mini}))
    assert listed.json() == again


async def test_refusals(client, app, world, mini):
    body = {"accepted": [{"type": "report.accepted", "template_id": "T"}]}
    assert_error(await client.post(SUBS, headers=world.headers("resident_a"), json=body), 403)  # no app
    assert_error(await client.post(SUBS, headers=world.headers("resident_b", **{"X-Client-Id": mini}), json=body),
                 403)  # not bound to the app
    assert_error(await client.post(SUBS, headers={"X-Client-Id": mini}, json=body), 401)
    assert_error(await client.post(SUBS, headers=world.headers("resident_a", **{"X-Client-Id": mini}),
                                   json={"accepted": [{"type": "no.such", "template_id": "T"}]}), 422)
    async with app.state.db.session(write=True) as s:
        plain, _ = await make_client(s, world.c1.id)
    assert_error(await client.post(SUBS, headers=world.headers("resident_a", **{"X-Client-Id": plain.client_id}),
                                   json=body), 403)  # an app without WeChat
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(WechatSubscription))).scalar_one() == 0


async def test_a_subscribed_notification_is_delivered_once(client, app, world, mini, fake, settings):
    await _accept(client, world, mini, "report.accepted")
    await make_report(app, world, state="accepted")
    [msg] = await _messages(app)
    assert (msg.channel, msg.target, msg.appid, msg.status) == ("wechat_subscribe", "openid-a", WX_APPID, "pending")
    done = await run_once(app.state.db, settings, now=datetime.now(UTC))
    assert done["wechat_messages_sent"] == 1
    [sent] = fake.subscribe
    assert sent["appid"] == WX_APPID and sent["touser"] == "openid-a"
    assert sent["template_id"] == "TPL_report.accepted"
    assert sent["data"]["thing1"] == {"value": "诉求已受理"} and set(sent["data"]) == {"thing1", "thing2", "time3"}
    assert fake.token_fetches == 1
    [msg] = await _messages(app)
    assert msg.status == "delivered" and msg.payload is None
    # the one acceptance is spent: the next notification of the type stays in the inbox only
    await make_report(app, world, state="accepted")
    assert len(await _messages(app)) == 1
    listed = await client.get(SUBS, headers=world.headers("resident_a", **{"X-Client-Id": mini}))
    assert listed.json()[0]["remaining"] == 0


async def test_a_failed_send_is_retried_with_backoff(client, app, world, mini, fake, settings):
    await _accept(client, world, mini, "report.accepted", "report.accepted")
    fake.subscribe_statuses[:] = [500]
    await make_report(app, world, state="accepted")
    t0 = datetime.now(UTC)
    assert (await run_once(app.state.db, settings, now=t0))["wechat_messages_sent"] == 1
    assert fake.subscribe == []
    [msg] = await _messages(app)
    assert msg.status == "pending" and msg.attempts == 1 and "busy" in (msg.last_error or "")
    assert (await run_once(app.state.db, settings, now=t0 + timedelta(seconds=5)))["wechat_messages_sent"] == 0
    assert (await run_once(app.state.db, settings, now=t0 + timedelta(seconds=12)))["wechat_messages_sent"] == 1
    assert len(fake.subscribe) == 1
    [msg] = await _messages(app)
    assert msg.status == "delivered" and msg.attempts == 2


async def test_nothing_is_sent_without_a_subscription_of_that_type(client, app, world, mini, fake, settings):
    await _accept(client, world, mini, "report.resolved")
    await make_report(app, world, state="accepted")
    await make_report(app, world, state="accepted", reporter="resident_b")  # bound to nothing
    assert await _messages(app) == []
    assert (await run_once(app.state.db, settings))["wechat_messages_sent"] == 0
    assert fake.subscribe == [] and fake.token_fetches == 0


async def test_a_user_who_refused_at_wechat_is_not_retried(client, app, world, mini, fake, settings):
    await _accept(client, world, mini, "report.accepted")
    fake.refusing.add("openid-a")  # WeChat answers 43101: the user withdrew the subscription there
    await make_report(app, world, state="accepted")
    t0 = datetime.now(UTC)
    assert (await run_once(app.state.db, settings, now=t0))["wechat_messages_sent"] == 1
    [msg] = await _messages(app)
    assert msg.status == "failed" and msg.payload is None and "43101" in (msg.last_error or "")
    assert (await run_once(app.state.db, settings, now=t0 + timedelta(hours=1)))["wechat_messages_sent"] == 0
    assert fake.subscribe == []


async def test_one_acceptance_is_spent_once_under_concurrent_notifications(client, app, world, mini, settings):
    await _accept(client, world, mini, "report.accepted")
    reports = [await make_report(app, world) for _ in range(4)]
    from app.reports import service as reports_service
    from app.reports.schemas import StepIn
    from tests.reports.factories import principal

    worker = await principal(app, world.users["worker_in"])

    async def accept(r):
        async with app.state.db.session(write=True) as s:
            await reports_service.take_step(s, settings, worker, r.id,
                                            StepIn(action="accept", expected_version=r.version))
    await asyncio.gather(*(accept(r) for r in reports))
    assert len(await _messages(app)) == 1


async def test_a_token_issued_through_the_mini_program_names_its_app(client, app, world, fake):
    async with app.state.db.session(write=True) as s:
        mini, _ = await make_client(s, world.c1.id, wechat_appid=WX_APPID, scopes=["notifications:read"])
        s.add(WechatBinding(user_id=world.users["resident_a"].id, appid=WX_APPID, openid="openid-a",
                            created_at=datetime.now(UTC)))
    fake.wx_codes["wx-sub"] = ("openid-a", None)
    tokens = (await client.post("/api/v1/auth/wechat/login", json={"code": "wx-sub"},
                                headers={"X-Client-Id": mini.client_id})).json()
    resp = await client.post(SUBS, headers={"Authorization": f"Bearer {tokens['access_token']}"},
                             json={"accepted": [{"type": "report.resolved", "template_id": "TPL_R"}]})
    assert resp.status_code == 200, resp.text
    assert resp.json() == [{"type": "report.resolved", "template_id": "TPL_R", "remaining": 1}]
