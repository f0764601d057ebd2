"""The live stream, in-process: live delivery, Last-Event-ID replay, heartbeats, the end of a stream, privacy."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.core.security import issue_token
from app.notifications.service import notify
from app.users.models import User
from tests.helpers import assert_error
from tests.support.asgi_stream import AsgiStream

STREAM = "/api/v1/notifications/stream"


@pytest.fixture
def fast_heartbeat(app):
    before = app.state.settings
    app.state.settings = before.model_copy(update={"stream_heartbeat_seconds": 0.2})
    yield
    app.state.settings = before


async def _notify(db, user_id: int, title: str = "t") -> None:
    async with db.session(write=True) as s:
        await notify(s, [user_id], "report.accepted", object_type="report", object_id=1, link="/api/v1/reports/1",
                     params={"title": title})


async def test_a_committed_notification_arrives_at_once(app, db, world):
    a = world.users["resident_a"].id
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        assert stream.status == 200 and stream.response_headers["content-type"].startswith("text/event-stream")
        await stream.read_until(b"retry: ")
        await _notify(db, a, "路灯不亮")
        [got] = await stream.events(1, within=1.0)
    assert got["event"] == "notification"
    data = json.loads(got["data"])
    assert data["type"] == "report.accepted" and "路灯不亮" in data["body"] and int(got["id"]) == data["id"]


async def test_english_on_request(app, db, world):
    async with AsgiStream(app, STREAM, world.headers("resident_a", **{"Accept-Language": "en"})) as stream:
        await stream.read_until(b"retry: ")
        await _notify(db, world.users["resident_a"].id)
        [got] = await stream.events(1)
    assert json.loads(got["data"])["title"] == "Report accepted"


async def test_a_rolled_back_notification_never_streams(app, db, world):
    a = world.users["resident_a"].id
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b"retry: ")
        with pytest.raises(RuntimeError):
            async with db.session(write=True) as s:
                await notify(s, [a], "report.accepted", object_type="report", object_id=1, link="/x",
                             params={"title": "rolled back"})
                raise RuntimeError("the step fails after its notification was added")
        await _notify(db, a, "committed")
        [got] = await stream.events(1)
    assert "committed" in json.loads(got["data"])["body"]


async def test_last_event_id_replays_exactly_what_was_missed(app, db, world):
    a = world.users["resident_a"].id
    for i in range(3):
        await _notify(db, a, f"before-{i}")
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b"retry: ")
        await _notify(db, a, "seen")
        [seen] = await stream.events(1)
    for i in range(150):  # missed while disconnected: more than one read batch
        await _notify(db, a, f"missed-{i}")
    headers = world.headers("resident_a", **{"Last-Event-ID": seen["id"]})
    async with AsgiStream(app, STREAM, headers) as stream:
        replayed = await stream.events(150, within=20)
        await _notify(db, a, "live")
        [live] = await stream.events(1)
    bodies = [json.loads(e["data"])["body"] for e in replayed]
    assert bodies == [f"您的诉求「missed-{i}」已受理。" for i in range(150)]
    ids = [int(e["id"]) for e in replayed]
    assert ids == sorted(ids) and ids[0] > int(seen["id"]) and int(live["id"]) > ids[-1]


async def test_the_query_parameter_resumes_too(app, db, world):
    a = world.users["resident_a"].id
    await _notify(db, a, "one")
    await _notify(db, a, "two")
    async with AsgiStream(app, STREAM, world.headers("resident_a"), params={"last_event_id": 0}) as stream:
        got = await stream.events(2)
    assert ["one" in json.loads(got[0]["data"])["body"], "two" in json.loads(got[1]["data"])["body"]] == [True, True]


async def test_only_the_callers_notifications(app, db, world):
    b = world.users["resident_b"].id
    async with AsgiStream(app, STREAM, world.headers("resident_a"), params={"last_event_id": 0}) as stream:
        await stream.read_until(b"retry: ")
        await _notify(db, b, "not yours")
        await _notify(db, world.users["resident_a"].id, "yours")
        [got] = await stream.events(1)
    assert "yours" in json.loads(got["data"])["body"] and "not yours" not in json.loads(got["data"])["body"]


async def test_heartbeats_keep_the_stream_open(app, world, fast_heartbeat):
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b": keepalive\n\n", within=2)
        await stream.read_until(b": keepalive\n\n", within=2)
        assert not stream.finished


async def test_a_disabled_user_s_stream_ends(app, db, world, fast_heartbeat):
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b"retry: ")
        async with db.session(write=True) as s:
            await s.execute(update(User).where(User.id == world.users["resident_a"].id).values(is_active=False))
        app.state.principals.forget("*")  # what the PostgreSQL listener does on that commit
        rest = await stream.rest(within=3)
    assert b'event: end\ndata: {"reason": "signed_out"}' in rest


async def test_a_stream_ends_when_its_token_expires(app, world, settings):
    user = world.users["resident_a"]
    almost = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds - 2)
    token = issue_token(settings, settings.jwt_secret, user_id=user.id, role=user.role, typ="access",
                        now=almost).token
    async with AsgiStream(app, STREAM, {"Authorization": f"Bearer {token}"}) as stream:
        rest = await stream.rest(within=5)
    assert rest.endswith(b'event: end\ndata: {"reason": "token_expired"}\n\n')


async def test_a_client_going_away_leaves_no_subscription(app, world):
    broker = app.state.broker
    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b"retry: ")
        assert broker.streams_of(world.users["resident_a"].id) == 1
    await asyncio.sleep(0)
    assert broker.streams_of(world.users["resident_a"].id) == 0


async def test_streams_per_user_are_limited(app, world, client):
    limit = app.state.settings.stream_max_per_user
    streams = [await AsgiStream(app, STREAM, world.headers("resident_a")).open() for _ in range(limit)]
    try:
        resp = await client.get(STREAM, headers=world.headers("resident_a"))
        assert_error(resp, 429, "too_many_requests")
    finally:
        for s in streams:
            await s.close()


async def test_refusals(client, world):
    assert_error(await client.get(STREAM), 401, "unauthenticated")
    assert_error(await client.get(STREAM, headers=world.headers("resident_a", **{"Last-Event-ID": "x"})), 422)
    assert_error(await client.get(STREAM, headers=world.headers("resident_a"), params={"last_event_id": -1}), 422)


async def test_a_stream_ends_for_a_reconnect_after_its_time(app, world):
    before = app.state.settings
    app.state.settings = before.model_copy(update={"stream_max_seconds": 0.3})
    try:
        async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
            rest = await stream.rest(within=3)
    finally:
        app.state.settings = before
    assert rest.endswith(b'event: end\ndata: {"reason": "reconnect"}\n\n')


async def test_ids_follow_commit_order_so_a_stream_loses_nothing(app, db, world):
    """Many transactions notify one user at once, each waiting a random moment between writing its notification
    and committing. A user's ids must follow commit order (the inbox is locked per user until commit): otherwise a
    stream that already sent a larger id would never send a smaller one that commits later."""
    import random

    from app.db.session import before_commit

    a = world.users["resident_a"].id
    rng = random.Random(7)

    async def one(i: int) -> None:
        async with db.session(write=True) as s:
            await notify(s, [a], "report.accepted", object_type="report", object_id=i, link="/x",
                         params={"title": f"n{i}"})
            pause = rng.random() * 0.05
            before_commit(s, "zz_pause", lambda _s: asyncio.sleep(pause))  # after the insert, before the commit

    async with AsgiStream(app, STREAM, world.headers("resident_a")) as stream:
        await stream.read_until(b"retry: ")
        await asyncio.gather(*(one(i) for i in range(20)))
        got = await stream.events(20, within=5)
    assert sorted(json.loads(e["data"])["object_id"] for e in got) == list(range(20))


async def test_a_commit_outside_the_unit_of_work_cannot_drop_notifications(db, world):
    async with db.sessionmaker() as s:
        await notify(s, [world.users["resident_a"].id], "report.accepted", object_type="report", object_id=1,
                     link="/x")
        with pytest.raises(RuntimeError, match="before-commit"):
            await s.commit()


async def test_a_notification_committed_right_after_the_first_byte_is_delivered(app, db, world):
    """The stream's starting point is read before `retry:` is sent: a notification committed as soon as the
    client sees the stream open is delivered (it was skipped when the newest id was read after the first byte)."""
    from app.notifications.broker import LocalBroker
    from app.notifications.stream import StreamSpec, events

    a = world.users["resident_a"].id
    broker = LocalBroker()
    later = datetime.now(UTC) + timedelta(hours=1)

    async def allowed() -> bool:
        return True

    spec = StreamSpec(user_id=a, last_id=None, english=False, heartbeat=30.0, expires_at=later, ends_at=later,
                      still_allowed=allowed)
    stream = events(db.reader, broker, spec)
    assert (await anext(stream)).startswith(b"retry: ")
    await _notify(db, a, "right after")
    broker.committed([a])
    got = await asyncio.wait_for(anext(stream), 2.0)
    await stream.aclose()
    assert b"right after" in got
