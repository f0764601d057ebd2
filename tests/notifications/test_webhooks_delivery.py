"""Delivery by the worker, against a real HTTP receiver on loopback: signed, retried with backoff, recorded,
leased so a crashed worker loses nothing, claimed so two workers never send one delivery twice."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.notifications import outbox
from app.notifications.delivery import deliver_webhooks
from app.notifications.webhooks_events import WebhookEventType
from app.notifications.webhooks_models import WebhookDelivery, WebhookSubscription
from app.reports import service as reports_service
from app.reports.lifecycle import Action
from app.reports.models import Report
from app.reports.schemas import StepIn
from app.worker.runner import run_once
from tests.reports.factories import make_report, principal
from tests.support.webhook_receiver import Receiver

BASE = "/api/v1/admin/webhooks"


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver's check, written from the Standard Webhooks spec (not with the app's code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(sig, f"v1,{expected}") for sig in headers["webhook-signature"].split(" "))


async def subscribe(client, world, url: str, events=("report.accepted",), who="admin_c1", grid=None) -> dict:
    resp = await client.post(BASE, headers=world.headers(who), json={
        "grid_id": (grid or world.c1).id, "url": url, "event_types": list(events)})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def deliveries(app) -> list[WebhookDelivery]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(WebhookDelivery).order_by(WebhookDelivery.id))).scalars())


async def job(app, settings, now: datetime) -> int:
    async with app.state.db.session(write=True) as s:
        return await deliver_webhooks(s, settings, now)


async def test_a_signed_delivery_fails_twice_then_arrives_and_every_attempt_is_logged(app, client, world, settings):
    async with Receiver(statuses=[500, 500, 200]) as rx:
        sub = await subscribe(client, world, rx.url)
        report = await make_report(app, world, state="accepted")
        t0 = datetime.now(UTC)
        assert (await run_once(app.state.db, settings, now=t0))["webhooks_delivered"] == 1
        assert len(rx.requests) == 1
        assert (await run_once(app.state.db, settings, now=t0 + timedelta(seconds=5)))["webhooks_delivered"] == 0
        await run_once(app.state.db, settings, now=t0 + timedelta(seconds=12))   # after the first delay (10 s)
        assert len(rx.requests) == 2
        await run_once(app.state.db, settings, now=t0 + timedelta(seconds=50))   # after the second (30 s)
        assert len(rx.requests) == 3
        assert (await run_once(app.state.db, settings, now=t0 + timedelta(days=2)))["webhooks_delivered"] == 0

    first = rx.requests[0]
    assert first.path == "/hook" and first.headers["content-type"] == "application/json"
    assert len({r.headers["webhook-id"] for r in rx.requests}) == 1  # the same id on every attempt
    for r in rx.requests:
        assert verify(sub["secret"], r.headers, r.body)
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 60  # the attempt's own clock time
        assert not verify(sub["secret"], {**r.headers, "webhook-id": "msg_other"}, r.body)
        assert not verify(sub["secret"], r.headers, r.body + b" ")
    payload = json.loads(first.body)
    assert payload["type"] == "report.accepted" and payload["version"] == 1
    data = payload["data"]
    assert data["report_id"] == report.id and data["number"] == report.number and data["state"] == "accepted"
    assert data["previous_state"] == "submitted" and data["community_id"] == world.c1.id
    reporter = world.users["resident_a"]
    for private in (reporter.phone, reporter.display_name, report.title):
        assert private not in first.body.decode(), private

    h = world.headers("admin_c1")
    listed = (await client.get(f"{BASE}/{sub['id']}/deliveries", headers=h)).json()["items"]
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in listed] == [("delivered", 3, 200)]
    assert listed[0]["webhook_id"] == first.headers["webhook-id"]
    detail = (await client.get(f"{BASE}/{sub['id']}/deliveries/{listed[0]['id']}", headers=h)).json()
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in detail["attempt_log"]] == \
        [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert detail["attempt_log"][0]["response_body"] == "status 500"
    assert all(a["duration_ms"] >= 0 for a in detail["attempt_log"])
    assert detail["body"].encode() == first.body


async def test_a_step_that_rolls_back_leaves_no_delivery(app, client, world, settings):
    await subscribe(client, world, "http://127.0.0.1:9/hook")
    report = await make_report(app, world, state="submitted")
    p = await principal(app, world.users["worker_in"])
    with pytest.raises(RuntimeError):
        async with app.state.db.session(write=True) as s:
            await reports_service.take_step(s, settings, p, report.id,
                                            StepIn(action=Action.accept, expected_version=report.version))
            assert (await s.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one() == 1
            raise RuntimeError("the request fails after the step")
    assert await deliveries(app) == []
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(Report.state).where(Report.id == report.id))).scalar_one() == "submitted"
    # and a committed step has its delivery
    async with app.state.db.session(write=True) as s:
        await reports_service.take_step(s, settings, p, report.id,
                                        StepIn(action=Action.accept, expected_version=report.version))
    assert [d.event_type for d in await deliveries(app)] == ["report.accepted"]


async def test_a_worker_killed_after_claiming_loses_nothing(app, client, world, settings):
    async with Receiver() as rx:
        await subscribe(client, world, rx.url)
        await make_report(app, world, state="accepted")
        t0 = datetime.now(UTC)
        async with app.state.db.session(write=True) as s:  # a worker claims, commits, and dies before sending
            claimed = await outbox.claim(s, t0, settings)
        assert len(claimed) == 1
        assert await job(app, settings, t0 + timedelta(seconds=5)) == 0  # leased: nobody else sends it
        assert rx.requests == []
        later = t0 + timedelta(seconds=settings.webhook_lease_seconds + 1)
        assert await job(app, settings, later) == 1
    assert [r.headers["webhook-id"] for r in rx.requests] == [claimed[0].message_id]
    (d,) = await deliveries(app)
    assert (d.status, d.attempts) == ("delivered", 2)


async def test_the_last_attempt_interrupted_fails_the_delivery(app, client, world, settings):
    await subscribe(client, world, "http://127.0.0.1:9/hook")
    await make_report(app, world, state="accepted")
    last = len(settings.webhook_retry_schedule) + 1
    async with app.state.db.session(write=True) as s:
        await s.execute(update(WebhookDelivery).values(round_attempts=last, attempts=last,
                                                       locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert await job(app, settings, datetime.now(UTC)) == 1
    (d,) = await deliveries(app)
    assert d.status == "failed" and "interrupted" in d.last_error


@pytest.mark.parametrize("batch", [1, 4])
async def test_two_workers_at_once_never_send_one_delivery_twice(app, client, world, settings, batch):
    tuned = settings.model_copy(update={"webhook_batch_size": batch})
    async with Receiver(delay=0.02) as rx:
        sub = await subscribe(client, world, rx.url)
        async with app.state.db.session(write=True) as s:
            for i in range(12):
                await outbox.emit(s, world.c1.id, WebhookEventType.report_accepted, {"i": i}, datetime.now(UTC))
        now = datetime.now(UTC)

        async def worker() -> int:
            sent = 0
            while n := await job(app, tuned, now):
                sent += n
            return sent

        results = await asyncio.gather(worker(), worker(), worker())
    ids = [r.headers["webhook-id"] for r in rx.requests]
    assert sum(results) == 12 and len(ids) == 12 and len(set(ids)) == 12
    assert {d.status for d in await deliveries(app)} == {"delivered"}
    assert sub["id"]


async def test_a_slow_subscriber_does_not_hold_up_the_others(app, client, world, settings):
    tuned = settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    async with Receiver(delay=5) as slow, Receiver() as fast:
        await subscribe(client, world, slow.url)
        await subscribe(client, world, fast.url)
        await make_report(app, world, state="accepted")
        started = time.monotonic()
        assert await job(app, tuned, datetime.now(UTC)) == 2
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert len(fast.requests) == 1
    by_url = {}
    async with app.state.db.session(write=False) as s:
        for d, url in (await s.execute(select(WebhookDelivery, WebhookSubscription.url).join(WebhookSubscription))):
            by_url[url] = d
    assert by_url[fast.url].status == "delivered"
    assert by_url[slow.url].status == "pending" and "timed out" in by_url[slow.url].last_error


async def test_a_private_address_is_refused_again_at_delivery(app, client, world, settings):
    strict = settings.model_copy(update={"webhook_allow_private": False})
    async with Receiver() as rx:
        await subscribe(client, world, rx.url)  # allowed at registration (tests allow private addresses)
        await make_report(app, world, state="accepted")
        assert await job(app, strict, datetime.now(UTC)) == 1
    assert rx.requests == []
    (d,) = await deliveries(app)
    assert d.status == "pending" and d.last_error == "address refused: loopback (127.0.0.1)"


async def test_a_redirect_is_a_failure_and_is_not_followed(app, client, world, settings):
    async with Receiver(statuses=[302], location="http://169.254.169.254/latest") as rx:
        await subscribe(client, world, rx.url)
        await make_report(app, world, state="accepted")
        await job(app, settings, datetime.now(UTC))
    assert len(rx.requests) == 1
    (d,) = await deliveries(app)
    assert d.status == "pending" and d.last_status_code == 302 and "redirect not followed" in d.last_error


async def test_410_gone_stops_the_subscription(app, client, world, settings):
    async with Receiver(statuses=[410]) as rx:
        sub = await subscribe(client, world, rx.url)
        await make_report(app, world, state="accepted")
        await job(app, settings, datetime.now(UTC))
    got = (await client.get(f"{BASE}/{sub['id']}", headers=world.headers("admin_c1"))).json()
    assert got["is_active"] is False and "410" in got["disabled_reason"]
    assert [d.status for d in await deliveries(app)] == ["failed"]


async def test_an_unreachable_subscriber_is_retried_then_failed(app, client, world, settings):
    tuned = settings.model_copy(update={"webhook_retry_schedule": (10, 20)})
    async with Receiver() as rx:
        port = rx.port
    await subscribe(client, world, f"http://127.0.0.1:{port}/hook")  # nobody listens there any more
    await make_report(app, world, state="accepted")
    t = datetime.now(UTC)
    for step in (0, 12, 40, 100):
        await job(app, tuned, t + timedelta(seconds=step))
    (d,) = await deliveries(app)
    assert (d.status, d.attempts) == ("failed", 3) and d.last_status_code is None and "Connect" in d.last_error


async def test_redeliver_sends_again_with_the_same_id(app, client, world, settings):
    async with Receiver() as rx:
        sub = await subscribe(client, world, rx.url)
        await make_report(app, world, state="accepted")
        await job(app, settings, datetime.now(UTC))
        (d,) = await deliveries(app)
        assert d.status == "delivered"
        h = world.headers("admin_c1")
        again = await client.post(f"{BASE}/{sub['id']}/deliveries/{d.id}/redeliver", headers=h)
        assert again.status_code == 200 and again.json()["status"] == "pending"
        await job(app, settings, datetime.now(UTC))
        # while an attempt is in flight (leased), redelivery is refused
        async with app.state.db.session(write=True) as s:
            await s.execute(update(WebhookDelivery).values(locked_until=datetime.now(UTC) + timedelta(minutes=5)))
        busy = await client.post(f"{BASE}/{sub['id']}/deliveries/{d.id}/redeliver", headers=h)
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "delivery_in_flight"
    assert [r.headers["webhook-id"] for r in rx.requests] == [d.message_id, d.message_id]
    (d,) = await deliveries(app)
    assert (d.status, d.attempts) == ("delivered", 2)


async def test_after_a_rotation_both_secrets_sign_for_a_while(app, client, world, settings):
    async with Receiver() as rx:
        sub = await subscribe(client, world, rx.url)
        rotated = (await client.post(f"{BASE}/{sub['id']}/rotate-secret", headers=world.headers("admin_c1"))).json()
        await make_report(app, world, state="accepted")
        await job(app, settings, datetime.now(UTC))
    (r,) = rx.requests
    assert len(r.headers["webhook-signature"].split(" ")) == 2
    assert verify(rotated["secret"], r.headers, r.body) and verify(sub["secret"], r.headers, r.body)


async def test_submission_and_auto_close_announce_too(app, client, world, settings):
    await subscribe(client, world, "http://127.0.0.1:9/hook", events=("report.submitted", "report.closed"))
    report = await make_report(app, world, state="resolved")
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report.id)
                        .values(resolved_at=datetime.now(UTC) - timedelta(days=settings.auto_close_days + 1)))
        assert await reports_service.auto_close_due(s, settings, datetime.now(UTC)) == 1
    sent = await deliveries(app)
    assert [d.event_type for d in sent] == ["report.submitted", "report.closed"]
    submitted, closed = (json.loads(d.body)["data"] for d in sent)
    assert submitted["number"] == report.number and submitted["action"] == "submit"
    assert submitted["previous_state"] is None and submitted["state"] == "submitted"
    assert (closed["action"], closed["previous_state"], closed["state"]) == ("auto_close", "resolved", "closed")


async def test_only_matching_subscriptions_of_the_community_and_its_street_get_the_event(app, client, world,
                                                                                          settings):
    street = await subscribe(client, world, "http://127.0.0.1:9/street", who="admin_street", grid=world.street)
    c1 = await subscribe(client, world, "http://127.0.0.1:9/c1")
    await subscribe(client, world, "http://127.0.0.1:9/c1-closed", events=("report.closed",))
    await subscribe(client, world, "http://127.0.0.1:9/c2", who="admin_c2", grid=world.c2)
    report = await make_report(app, world, state="submitted")
    before = {d.id for d in await deliveries(app)}
    p = await principal(app, world.users["worker_in"])
    async with app.state.db.session(write=True) as s:
        await reports_service.take_step(s, settings, p, report.id,
                                        StepIn(action=Action.accept, expected_version=report.version))
    new = [d for d in await deliveries(app) if d.id not in before]
    assert sorted(d.subscription_id for d in new) == sorted([street["id"], c1["id"]])
    assert {d.event_type for d in new} == {"report.accepted"}
    prefixes = {d.message_id.rsplit("_", 1)[0] for d in new}  # one event, one id per subscription
    assert len(prefixes) == 1 and len({d.message_id for d in new}) == 2
