"""Issue 21's two scenario tests, data-driven so that a later domain that leaks makes them fail:

1. Every GET operation of the OpenAPI document (the authorization matrix builds each request on objects of
   resident_a in every domain, tests/quality/authz_matrix.py) is called as the public and as residents, after an
   anonymous reporter has filed, followed and rated reports. No answer may hold another person's phone number
   (full or masked), nor the anonymous reporter's display name or user id.
2. All log output of that scenario, at DEBUG, from the app's loggers and every library's: no password, token,
   verification code or full phone number, neither in what the app's formatter writes nor in the messages the
   app's own loggers are given (the sources, not only the safety net).

A new route needs a matrix entry (test_authz_matrix fails without one), so it is walked here as soon as it exists.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from app.core.logging import JsonFormatter
from app.openapi import current_openapi
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role
from tests.factories import PASSWORD
from tests.images import PNG
from tests.quality.authz_matrix import Ctx, build, entries, openapi_operations

VIEWERS = ("anonymous", "resident_a", "resident_b", "resident_c")
ANON_NAME = "匿名者甲乙丙"  # unique: found anywhere = a leak
ANON_PHONE = "13712345678"
ANON_PASSWORD = "anon-pass-4321"
# what a phone number looks like in a response: full, or masked like 138****1234
PHONE = re.compile(r"(?<!\d)1[3-9]\d(?:\d{4}|\*{4})\d{4}(?!\d)")
LONG_HEX = re.compile(r"[0-9a-fA-F]{32,}")  # signatures and storage keys: not phone numbers
# keys that hold a person's id
PERSON_KEYS = {"id", "user_id", "reporter_id", "author_id", "actor_id", "resident_id", "proposer_id", "owner_id",
               "rater_id", "member_id", "leader_id", "created_by_id", "filed_by_id", "voter_id", "invited_by_id"}


@contextmanager
def capture_all_logs() -> Iterator[tuple[list[str], list[logging.LogRecord]]]:
    """Every record at DEBUG from every logger: formatted by the app's JSON formatter, and the raw records."""
    lines: list[str] = []
    records: list[logging.LogRecord] = []
    formatter = JsonFormatter()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            lines.append(formatter.format(record))

    handler = Collect(level=logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("weilinli")]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield lines, records
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def _person_ids(value: Any, found: set[int]) -> None:
    """Every id held under a person key, or as the id of an object with a display name."""
    if isinstance(value, dict):
        named = "display_name" in value
        for k, v in value.items():
            if isinstance(v, int) and not isinstance(v, bool) and (
                    (k in PERSON_KEYS and k != "id") or (k == "id" and named)):
                found.add(v)
            else:
                _person_ids(v, found)
    elif isinstance(value, list):
        for v in value:
            _person_ids(v, found)


def leaks(text: str, viewer_phone: str | None, anon_id: int) -> list[str]:
    problems = []
    phones = set(PHONE.findall(LONG_HEX.sub("", text))) - {viewer_phone}
    if phones:
        problems.append(f"phone numbers {sorted(phones)}")
    if ANON_NAME in text:
        problems.append("the anonymous reporter's name")
    try:
        body = json.loads(text)
    except ValueError:
        return problems
    ids: set[int] = set()
    _person_ids(body, ids)
    if anon_id in ids:
        problems.append(f"the anonymous reporter's id {anon_id}")
    return problems


async def _anonymous_reporter(app, client, world) -> tuple[int, dict, dict[str, list[int]]]:
    """A resident of community 1 who files public reports with their name hidden, and takes part in them."""
    settings = world.settings
    async with app.state.db.session(write=True) as s:
        user = await users_service.create_user(s, settings, phone=ANON_PHONE, password=ANON_PASSWORD,
                                               display_name=ANON_NAME, role=Role.resident, building_id=world.b2.id)
        await record_consent(s, user.id, settings.privacy_notice_version, via="register", settings=settings)
    login = await client.post("/api/v1/auth/token", data={"username": ANON_PHONE, "password": ANON_PASSWORD})
    assert login.status_code == 200, login.text
    h = {"Authorization": f"Bearer {login.json()['access_token']}"}
    upload = await client.post("/api/v1/uploads", headers=h, files={"file": ("p.png", PNG, "image/png")})
    assert upload.status_code == 201, upload.text
    body = {"category_id": world.cat.id, "title": "路灯不亮", "description": "晚上很黑", "hide_reporter": True,
            "is_public": True, "photo_ids": [upload.json()["id"]], "lat": 31.23, "lng": 121.47}
    resp = await client.post("/api/v1/reports", headers=h, json=body)
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert (await client.post(f"/api/v1/reports/{report['id']}/follow",
                              headers=world.headers("resident_b"))).status_code == 200
    steps = [("worker_in", {"action": "accept"}), ("worker_in", {"action": "dispatch", "department_id": world.d1.id}),
             ("dept_in", {"action": "start"}), ("dept_in", {"action": "resolve", "note": "已修好"}),
             ("anon", {"action": "rate", "stars": 5, "tags": ["办理及时"]})]
    for who, step in steps:
        headers = h if who == "anon" else world.headers(who)
        resp = await client.post(f"/api/v1/reports/{report['id']}/steps", headers=headers,
                                 json={**step, "expected_version": report["version"]})
        assert resp.status_code == 200, (step, resp.text)
        report = resp.json()
    ids = {"report_id": [report["id"]]}
    for title in ("垃圾满溢", "楼道堆物"):  # waiting for intake, in the community feed
        resp = await client.post("/api/v1/reports", headers=h, json={**body, "title": title, "photo_ids": []})
        assert resp.status_code == 201, resp.text
        ids["report_id"].append(resp.json()["id"])
    return user.id, h, ids


async def test_no_resident_facing_answer_and_no_log_line_leaks(app, client, world):
    with capture_all_logs() as (lines, records):
        anon_id, anon_headers, scenario = await _anonymous_reporter(app, client, world)
        tokens = [anon_headers["Authorization"].removeprefix("Bearer ")]
        login = await client.post("/api/v1/auth/token", data={"username": world.users["resident_a"].phone,
                                                              "password": PASSWORD})
        tokens += [login.json()["access_token"], login.json()["refresh_token"]]
        problems, walked = await _walk(app, client, world, anon_id, tokens, scenario)
    assert walked > 50, f"only {walked} answers walked: the walk is broken"
    assert not problems, "answers to residents or the public leak:\n  " + "\n  ".join(problems)

    assert lines, "nothing was logged: the capture is broken"
    secrets = [PASSWORD, ANON_PASSWORD, *tokens, *(t.split(".")[2] for t in tokens if t.count(".") == 2)]
    phones = [u.phone for u in world.users.values()] + [ANON_PHONE]
    for line in lines:
        for secret in secrets + phones:
            assert secret not in line, (secret[:12], line[:300])
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", LONG_HEX.sub("", line)), line[:300]
    own = [r for r in records if r.name.startswith("weilinli")]
    assert own, "the app logged nothing of its own: the capture is broken"
    for record in own:  # the sources: what the app hands its loggers, before any scrubbing
        text = record.getMessage() + " " + " ".join(f"{k}={v}" for k, v in record.__dict__.items()
                                                    if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
        for secret in secrets + phones:
            assert secret not in text, (record.name, secret[:12], text[:300])


@cache
def _spec() -> dict:
    return current_openapi()  # built anew on each call: a second or so


def _enum_values(schema: dict, components: dict) -> list[Any]:
    """The values an enum parameter takes (through $ref, anyOf and array items), else []."""
    if "$ref" in schema:
        return _enum_values(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "enum" in schema:
        return list(schema["enum"])
    if schema.get("type") == "array":  # filters (several states ...) narrow a list; the single choices (view,
        return []                       # when, role ...) open other lists, and those are walked
    return [v for sub in schema.get("anyOf", []) for v in _enum_values(sub, components)]


def _variants(path: str, req_path: dict, req_params: dict | None, scenario: dict[str, list[int]]) -> list[tuple]:
    """The matrix's request, the same with each enum value of each query parameter (views, states ...), and
    with each path parameter the scenario knows ids for (the anonymous reporter's reports ...) put in."""
    spec = _spec()
    components = spec["components"]["schemas"]
    out = [(req_path, req_params)]
    for param in spec["paths"][path]["get"].get("parameters", []):
        if param["in"] == "query":
            out += [(req_path, {**(req_params or {}), param["name"]: value})
                    for value in _enum_values(param["schema"], components)]
        elif param["in"] == "path" and param["name"] in scenario:
            out += [({**req_path, param["name"]: i}, req_params) for i in scenario[param["name"]]]
    return out


async def _walk(app, client, world, anon_id: int, tokens: list[str],
                scenario: dict[str, list[int]]) -> tuple[list[str], int]:
    problems: list[str] = []
    walked = 0
    for method, path in openapi_operations():
        if method != "GET":
            continue
        for entry in entries((method, path)):
            if entry.endless:  # live streams carry the inbox's notifications, walked as the inbox
                continue
            shared: dict = {}
            for viewer in VIEWERS:
                ctx = Ctx(app=app, world=world, client=client, actor=viewer, shared=shared)
                req = await build(entry, ctx)
                headers = {} if viewer == "anonymous" else world.headers(viewer)
                if headers:
                    tokens.append(headers["Authorization"].removeprefix("Bearer "))
                for req_path, params in _variants(path, req.path, req.params, scenario):
                    resp = await client.get(path.format(**req_path), headers=headers, params=params)
                    if not resp.headers.get("content-type", "").startswith(("application/json", "text/")):
                        continue  # photos
                    walked += 1
                    own = world.users[viewer].phone if viewer in world.users else None
                    for problem in leaks(resp.text, own, anon_id):
                        problems.append(f"GET {path} {params or ''} as {viewer} ({resp.status_code}): {problem}")
    return problems, walked
