"""Idempotency-Key (issue 18): a retried creating POST answers its first response and creates nothing more, on both
databases, also when the two arrive at once; the record and the effect commit together."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from app.core.idempotency import HEADER, REPLAYED, purge_expired
from app.core.idempotency_models import IdempotencyRecord
from app.db.base import utcnow
from app.main import create_app
from app.reports.models import Report
from app.uploads.models import Upload
from tests.helpers import assert_error
from tests.images import image_bytes

# POSTs that take no Idempotency-Key, and why. Everything else that POSTs must take one.
EXEMPT_PREFIXES = {
    "/api/v1/auth/": "sign-in, registration, codes and refresh exchange credentials: a stored answer would keep "
                     "tokens at rest, and each is safe to repeat (a second sign-in is just another sign-in)",
}
EXEMPT = {
    "change_password": "no body to replay (204); repeating it is harmless and it answers per current password",
    "create_webhook": "its answer holds the signing secret, shown once: it is never stored",
    "rotate_webhook_secret": "its answer holds the new signing secret, shown once: it is never stored",
    "register_api_client": "its answer holds the app's secret, shown once: it is never stored",
    "rotate_api_client_secret": "its answer holds the app's new secret, shown once: it is never stored",
    "erase_my_account": "no body to replay (204); once it succeeded, the account's tokens are refused anyway",
    "open311_post_request": "GeoReport v2 has no such header and its clients never send it; the facade answers in "
                            "the spec's own error format, outside our envelope (see docs/decisions.md, Open311)",
}


async def _reports(app) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Report))).scalar_one()


async def _records(app) -> list[IdempotencyRecord]:
    async with app.state.db.session(write=False) as s:
        return list((await s.execute(select(IdempotencyRecord))).scalars())


def _report(world, title: str = "楼道灯坏了") -> dict:
    return {"category_id": world.cat.id, "title": title}


def test_every_creating_post_takes_an_idempotency_key(app):
    doc = app.openapi()
    missing, documented = [], []
    for path, item in doc["paths"].items():
        op = item.get("post")
        if op is None or op["operationId"] in EXEMPT or path.startswith(tuple(EXEMPT_PREFIXES)):
            continue
        params = [p for p in op.get("parameters", []) if p["in"] == "header" and p["name"] == HEADER]
        if not params:
            missing.append(op["operationId"])
        elif not {"409", "422"} <= set(op["responses"]):
            documented.append(op["operationId"])
    assert missing == [], f"POSTs without {HEADER} (add dependencies=[Idempotent], or exempt with a reason): {missing}"
    assert documented == [], f"POSTs that do not document 409 and 422: {documented}"
    assert set(EXEMPT) <= {item["post"]["operationId"] for item in doc["paths"].values() if "post" in item}


async def test_the_same_post_twice_at_once_creates_one_report_and_both_get_its_answer(client, app, world):
    h = {**world.headers("resident_a"), HEADER: "retry-0001"}
    first, second = await asyncio.gather(*[client.post("/api/v1/reports", headers=h, json=_report(world))
                                           for _ in range(2)])
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    assert await _reports(app) == 1
    # a retry after both: the first answer again, marked as a replay
    third = await client.post("/api/v1/reports", headers=h, json=_report(world))
    assert third.status_code == 201 and third.json() == first.json()
    assert third.headers[REPLAYED] == "true" and third.headers["content-type"] == "application/json"
    assert await _reports(app) == 1
    [record] = await _records(app)
    assert record.status_code == 201 and record.key == "retry-0001"


async def test_many_retries_at_once_create_one_report(client, app, world):
    h = {**world.headers("resident_b"), HEADER: "burst"}
    answers = await asyncio.gather(*[client.post("/api/v1/reports", headers=h, json=_report(world))
                                     for _ in range(6)])
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await _reports(app) == 1


async def test_the_key_with_another_body_or_path_is_refused(client, app, world):
    h = {**world.headers("resident_a"), HEADER: "k-1"}
    assert (await client.post("/api/v1/reports", headers=h, json=_report(world))).status_code == 201
    assert_error(await client.post("/api/v1/reports", headers=h, json=_report(world, "另一件事")), 422,
                 "idempotency_key_reused")
    report_id = (await client.get("/api/v1/reports", headers=h)).json()["items"][0]["id"]
    other = await client.post(f"/api/v1/reports/{report_id}/follow", headers=h)
    assert_error(other, 422, "idempotency_key_reused")
    assert await _reports(app) == 1


async def test_keys_are_per_user(client, app, world):
    a = await client.post("/api/v1/reports", headers={**world.headers("resident_a"), HEADER: "same"},
                          json=_report(world))
    b = await client.post("/api/v1/reports", headers={**world.headers("resident_b"), HEADER: "same"},
                          json=_report(world))
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert REPLAYED not in b.headers
    assert await _reports(app) == 2


async def test_a_malformed_key_is_refused_before_anything_is_written(client, app, world):
    for key in ("", "x" * 256, "tab\tinside"):
        resp = await client.post("/api/v1/reports", headers={**world.headers("resident_a"), HEADER: key},
                                 json=_report(world))
        assert_error(resp, 422, "idempotency_key_invalid")
    ok = await client.post("/api/v1/reports", headers={**world.headers("resident_a"), HEADER: "x" * 255},
                           json=_report(world))
    assert ok.status_code == 201
    assert await _reports(app) == 1


async def test_a_failed_request_leaves_no_record_and_its_retry_runs(client, app, world):
    h = {**world.headers("resident_a"), HEADER: "after-failure"}
    body = {**_report(world), "category_id": 999_999}
    assert_error(await client.post("/api/v1/reports", headers=h, json=body), 422, "invalid_reference")
    assert await _records(app) == [] and await _reports(app) == 0
    # the same request again runs again (nothing was stored): the error is its own answer
    assert_error(await client.post("/api/v1/reports", headers=h, json=body), 422, "invalid_reference")
    assert (await client.post("/api/v1/reports", headers=h, json=_report(world))).status_code == 201
    assert await _reports(app) == 1


async def test_an_upload_is_keyed_on_its_raw_bytes(client, app, world):
    h = {**world.headers("resident_a"), HEADER: "photo-1"}
    png = image_bytes("PNG")
    first = await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", png, "image/png")})
    again = await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", png, "image/png")})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = await client.post("/api/v1/uploads", headers=h,
                              files={"file": ("a.png", image_bytes("PNG", color=(1, 2, 3)), "image/png")})
    assert_error(other, 422, "idempotency_key_reused")
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(Upload))).scalar_one() == 1


async def test_a_retry_while_the_first_is_running_waits_for_its_answer(client, app, world):
    """The first request's transaction holds the claimed key (here: a session standing in for it); the retry waits
    for it and answers what it stored when it commits."""
    h = {**world.headers("resident_a"), HEADER: "slow"}
    first = await client.post("/api/v1/reports", headers={**h, HEADER: "model"}, json=_report(world))
    [model] = await _records(app)
    async with app.state.db.session(write=True) as s:
        s.add(IdempotencyRecord(caller=model.caller, key="slow", request_hash=model.request_hash,
                                status_code=299, headers={"content-type": "application/json"},
                                body=b'{"stored": true}', created_at=utcnow()))
        await s.flush()
        retry = asyncio.create_task(client.post("/api/v1/reports", headers=h, json=_report(world)))
        await asyncio.sleep(0.3)
        assert not retry.done()  # it waits for the first's transaction
    answer = await retry
    assert answer.status_code == 299 and answer.json() == {"stored": True}, answer.text
    assert first.status_code == 201 and await _reports(app) == 1


async def test_a_retry_runs_when_the_first_rolls_back_and_postgres_bounds_the_wait(client, app, world, settings):
    h = {**world.headers("resident_a"), HEADER: "rolled-back"}
    probe = await client.post("/api/v1/reports", headers={**h, HEADER: "probe"}, json=_report(world))
    [model] = await _records(app)
    postgres = app.state.db.engine.dialect.name == "postgresql"
    if postgres:  # a first that stays running past IDEMPOTENCY_WAIT_SECONDS: 409 idempotency_in_progress
        quick = create_app(settings.model_copy(update={"idempotency_wait_seconds": 0.2}))
        try:
            async with app.state.db.session(write=True) as s, httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=quick), base_url="http://test") as other:
                s.add(IdempotencyRecord(caller=model.caller, key="rolled-back", request_hash=model.request_hash,
                                        created_at=utcnow()))
                await s.flush()
                assert_error(await other.post("/api/v1/reports", headers=h, json=_report(world)), 409,
                             "idempotency_in_progress")
                await s.rollback()
        finally:
            await quick.state.db.dispose()
    # the first fails (rolls back): the waiting retry claims the key and runs
    async with app.state.db.session(write=True) as s:
        s.add(IdempotencyRecord(caller=model.caller, key="rolled-back", request_hash=model.request_hash,
                                created_at=utcnow()))
        await s.flush()
        retry = asyncio.create_task(client.post("/api/v1/reports", headers=h, json=_report(world)))
        await asyncio.sleep(0.3)
        await s.rollback()
    answer = await retry
    assert answer.status_code == 201 and REPLAYED not in answer.headers, answer.text
    assert probe.status_code == 201 and await _reports(app) == 2


async def test_keys_expire_and_the_worker_purges_them(client, app, world, settings):
    h = {**world.headers("resident_a"), HEADER: "old"}
    assert (await client.post("/api/v1/reports", headers=h, json=_report(world))).status_code == 201
    async with app.state.db.session(write=True) as s:
        for r in (await s.execute(select(IdempotencyRecord))).scalars():
            r.created_at = utcnow() - timedelta(hours=settings.idempotency_ttl_hours, minutes=1)
    # an expired key is a new key: the request runs again
    again = await client.post("/api/v1/reports", headers=h, json=_report(world))
    assert again.status_code == 201 and REPLAYED not in again.headers and await _reports(app) == 2
    async with app.state.db.session(write=True) as s:
        s.add(IdempotencyRecord(caller="u:0", key="stale", request_hash="0" * 64, status_code=201,
                                created_at=utcnow() - timedelta(hours=25)))
    async with app.state.db.session(write=True) as s:
        assert await purge_expired(s, settings, utcnow()) == 1
    assert [r.key for r in await _records(app)] == ["old"]


def test_a_multipart_body_hashes_the_same_under_any_boundary_and_chunking():
    from app.core.idempotency import _BodyHasher, _boundary

    def form(boundary: str) -> bytes:
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG--x--" * 50 + f"\r\n--{boundary}--\r\n".encode()

    def digest(boundary: str, size: int) -> str:
        body = form(boundary)
        hasher = _BodyHasher(b"POST /x?\n", _boundary(f"multipart/form-data; boundary={boundary}"))
        chunks = [body[i:i + size] for i in range(0, len(body), size)]
        for n, chunk in enumerate(chunks):
            hasher.feed(chunk, n == len(chunks) - 1)
        return hasher.hexdigest()

    first = digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10_000)
    assert {digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", n) for n in (1, 3, 7, 31, 64)} == {first}
    assert digest("b" * 40, 5) == first  # re-encoded with another boundary: the same request
    other = _BodyHasher(b"POST /x?\n", None)
    other.feed(form("a" * 32), True)
    assert other.hexdigest() != first  # without the normalisation the bytes differ
