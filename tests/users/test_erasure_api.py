"""POST /api/v1/me/erase (issue 21 item 5), through the HTTP API: the account cannot sign in and its live tokens
are refused; its reports still count; no response names it; what was still to come is cancelled and freed; its
points are forfeited with a ledger entry; its ballots still count, unlinked."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import KnownLoginAddress
from app.bookings.timetable import CHINA
from app.core.errors import Conflict
from app.deliberation.models import VoteElector
from app.points.models import PointEntry
from app.uploads.models import Upload
from app.users import erasure
from app.users.erasure import ERASED_NAME, placeholder_phone
from app.users.models import User
from tests.deliberation.helpers import close_vote, run_results
from tests.factories import PASSWORD
from tests.helpers import assert_error
from tests.users.scenario import A_COMMENT, FAMILY_MEMBER, build, today_period

URL = "/api/v1/me/erase"
NAME = "王小明"  # resident_a's name: distinctive, so a leak is found wherever it is


async def _login(client, phone: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/token", data={"username": phone, "password": password})


async def _erase(client, headers, password: str = PASSWORD):
    return await client.post(URL, headers=headers, json={"method": "password", "password": password})


async def _figures(client, world) -> dict:
    resp = await client.get("/api/v1/stats/figures", headers=world.headers("admin_c1"), params=today_period())
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return {"states": body["states"], "counts": body["counts"], "satisfaction": body["satisfaction"]}


async def _storage_has(app, upload_id: int) -> bool:
    async with app.state.db.session(write=False) as s:
        key = (await s.execute(select(Upload.storage_key).where(Upload.id == upload_id))).scalar_one_or_none()
    return key is not None and app.state.storage.local_path(key).exists()


async def test_erasure_end_to_end(app, client, world, settings):
    a = world.users["resident_a"]
    phone = a.phone
    assert (await client.patch("/api/v1/me", headers=world.headers("resident_a"),
                               json={"display_name": NAME})).status_code == 200
    s = await build(app, client, world)
    tokens = (await _login(client, phone)).json()
    live = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v1/me", headers=live)).status_code == 200
    before = await _figures(client, world)
    async with app.state.db.session(write=False) as db:
        private_key = (await db.execute(select(Upload.storage_key).where(Upload.id == s.private_photo))).scalar_one()
    assert await _storage_has(app, s.private_photo) and await _storage_has(app, s.public_photo)

    # a wrong password changes nothing (and counts: see the throttle test)
    assert_error(await _erase(client, live, "not-my-password"), 422, "wrong_password")
    assert (await client.get("/api/v1/me", headers=live)).status_code == 200

    assert (await _erase(client, live)).status_code == 204

    # no sign-in, no token: the live pair, and a token without a session
    assert_error(await _login(client, phone), 401, "invalid_credentials")
    assert_error(await client.get("/api/v1/me", headers=live), 401)
    assert_error(await client.get("/api/v1/me", headers=world.headers("resident_a")), 401)
    assert_error(await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_error(await _login(client, placeholder_phone(a.id), ""), 422)  # the placeholder is no phone number

    # the reports still count, the same way
    assert await _figures(client, world) == before

    # the account row: erased fields
    async with app.state.db.session(write=False) as db:
        row = (await db.execute(select(User).where(User.id == a.id))).scalar_one()
        assert (row.phone, row.display_name, row.is_active, row.birth_date) == \
            (placeholder_phone(a.id), ERASED_NAME, False, None)
        assert (await db.execute(select(func.count()).select_from(KnownLoginAddress)
                                 .where(KnownLoginAddress.user_id == a.id))).scalar_one() == 0
        # ballots: no roll row links the account to a vote
        assert (await db.execute(select(func.count()).select_from(VoteElector)
                                 .where(VoteElector.user_id == a.id))).scalar_one() == 0
        entries = (await db.execute(select(PointEntry.kind, PointEntry.amount, PointEntry.balance_after,
                                           PointEntry.source_type).where(PointEntry.user_id == a.id)
                                    .order_by(PointEntry.id))).all()
        audit = (await db.execute(select(AuditEntry.details).where(AuditEntry.action == "user.erase"))).scalars().all()
        private_upload = await db.get(Upload, s.private_photo)
    # points: the redemption refunded, then everything forfeited with an entry
    assert [tuple(e) for e in entries] == [("adjust", 50, 50, "adjustment"), ("redeem", -10, 40, "redemption"),
                                           ("refund", 10, 50, "redemption"), ("adjust", -50, 0, "erasure")]
    assert len(audit) == 1 and phone not in str(audit) and NAME not in str(audit)
    assert audit[0]["points_forfeited"] == 50 and audit[0]["bookings_cancelled"] == 2

    # photos: the private report's are gone (row and file), the public report's stay
    assert private_upload is None and not app.state.storage.local_path(private_key).exists()
    assert await _storage_has(app, s.public_photo)

    # bookings: both cancelled; the place went to resident_b, who waited
    admin, b = world.headers("admin_c1"), world.headers("resident_b")
    waiting = (await client.get(f"/api/v1/bookings/{s.waiting['id']}", headers=b)).json()
    assert waiting["status"] == "booked"
    for booking in (s.booking, s.errand):
        detail = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=admin))
        assert detail.status_code == 200 and detail.json()["status"] == "cancelled", detail.text
    # the activity's place is free, the group has one member less
    activity = (await client.get(f"/api/v1/activities/{s.activity['id']}", headers=admin)).json()
    assert activity["signed_up"] == 0
    group = (await client.get(f"/api/v1/groups/{s.group['id']}", headers=admin)).json()
    assert group["member_count"] == 1

    # the ballots still count: two cast, two yes once tallied
    await close_vote(app, s.proposal["id"])
    assert await run_results(app, settings) == 1
    vote = (await client.get(f"/api/v1/proposals/{s.proposal['id']}/vote", headers=b)).json()
    assert vote["ballots_cast"] == 2
    assert {o["key"]: o["ballots"] for o in vote["options"]}["yes"] == 2

    # every response a neighbour or staff can get shows 已注销居民 and neither the name nor the number
    pid, rid, gid = s.proposal["id"], s.public_report["id"], s.group["id"]
    now = datetime.now(CHINA)
    reads = [
        ("resident_b", f"/api/v1/reports/{rid}"), ("resident_b", f"/api/v1/reports/{rid}/timeline"),
        ("resident_b", "/api/v1/reports"), ("worker_in", f"/api/v1/reports/{s.private_report['id']}"),
        ("worker_in", f"/api/v1/reports/{s.private_report['id']}/timeline"), ("worker_in", "/api/v1/reports"),
        ("admin_c1", f"/api/v1/reports/{s.private_report['id']}/timeline"),
        ("resident_b", f"/api/v1/proposals/{pid}"), ("resident_b", f"/api/v1/proposals/{pid}/timeline"),
        ("resident_b", f"/api/v1/proposals/{pid}/comments"), ("resident_b", "/api/v1/proposals"),
        ("resident_b", f"/api/v1/groups/{gid}/members"), ("admin_c1", f"/api/v1/groups/{gid}/members"),
        ("admin_c1", f"/api/v1/activities/{s.activity['id']}/signups"),
        ("admin_c1", f"/api/v1/bookings/{s.booking['id']}"), ("worker_in", "/api/v1/errands"),
        ("admin_c1", "/api/v1/points/redemptions"), ("resident_b", "/api/v1/notifications"),
        ("admin_c1", "/api/v1/admin/users"), ("admin_c1", f"/api/v1/admin/users/{a.id}"),
        ("resident_b", f"/api/v1/points/ranking?period=month&year={now.year}&number={now.month}"),
    ]
    shown = []
    for who, path in reads:
        resp = await client.get(path, headers=world.headers(who))
        assert resp.status_code == 200, (who, path, resp.text)
        assert NAME not in resp.text and phone not in resp.text and FAMILY_MEMBER not in resp.text, (who, path)
        shown.append(ERASED_NAME in resp.text)
    assert sum(shown) >= 5  # the author is still shown where authors are: as 已注销居民
    comments = (await client.get(f"/api/v1/proposals/{pid}/comments", headers=b)).json()["items"]
    mine = next(c for c in comments if c["body"] == A_COMMENT)  # the comment stays, de-identified
    assert mine["author"]["display_name"] == ERASED_NAME
    detail = (await client.get(f"/api/v1/proposals/{pid}", headers=b)).json()
    assert detail["proposer"]["display_name"] == ERASED_NAME


async def test_staff_are_never_erased(client, world):
    for who in ("worker_in", "dept_in", "admin_c1", "admin_street"):
        assert_error(await _erase(client, world.headers(who)), 403, "staff_not_erasable")
    assert (await _login(client, world.users["worker_in"].phone)).status_code == 200
    assert_error(await _erase(client, {}), 401)


async def test_wrong_passwords_are_throttled_like_password_changes(client, world, settings):
    headers = world.headers("resident_b")
    for _ in range(settings.login_max_failures):
        assert_error(await _erase(client, headers, "wrong-password-1"), 422, "wrong_password")
    locked = await _erase(client, headers)  # even the right one waits now
    assert_error(locked, 429, "too_many_requests")
    assert int(locked.headers["retry-after"]) >= 1
    # the same counter as the change of password: one limit on guessing this account's password
    changed = await client.post("/api/v1/me/password", headers=headers,
                                json={"current_password": PASSWORD, "new_password": "another-pass-123"})
    assert_error(changed, 429)
    assert (await _login(client, world.users["resident_b"].phone)).status_code == 200  # not erased


async def test_the_body_is_a_choice_of_method(client, world):
    headers = world.headers("resident_b")
    assert_error(await client.post(URL, headers=headers, json={"password": PASSWORD}), 422, "validation_error")
    assert_error(await client.post(URL, headers=headers, json={"method": "sms_code", "code": "12345"}), 422)
    assert_error(await client.post(URL, headers=headers, json={"method": "face", "code": "123456"}), 422)
    assert (await _login(client, world.users["resident_b"].phone)).status_code == 200


async def test_two_erasures_at_once_erase_once(app, client, world):
    headers = world.headers("resident_b")
    results = await asyncio.gather(*[_erase(client, headers) for _ in range(3)])
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 204 and all(c in (401, 422) for c in codes[1:]), [r.text for r in results]
    async with app.state.db.session(write=False) as db:
        erased = (await db.execute(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.action == "user.erase"))).scalar_one()
    assert erased == 1


async def test_the_erased_name_speaks_the_readers_language(app, client, world):
    a = world.headers("resident_a")
    prop = (await client.post("/api/v1/proposals", headers=a, json={"title": "加装电梯", "body": "老人多"})).json()
    assert (await client.post(f"/api/v1/proposals/{prop['id']}/comments", headers=a,
                              json={"body": A_COMMENT})).status_code == 201
    assert (await _erase(client, a)).status_code == 204
    url = f"/api/v1/proposals/{prop['id']}/comments"
    zh = (await client.get(url, headers=world.headers("resident_b"))).json()["items"][0]["author"]
    en = (await client.get(url, headers=world.headers("resident_b", **{"Accept-Language": "en"}))).json()
    assert zh["display_name"] == ERASED_NAME
    assert en["items"][0]["author"]["display_name"] == "Deregistered resident"
    detail = await client.get(f"/api/v1/proposals/{prop['id']}", headers=world.headers("resident_b",
                                                                                       **{"Accept-Language": "en"}))
    assert detail.json()["proposer"]["display_name"] == "Deregistered resident"
    # a living resident's name is never translated
    b = (await client.get("/api/v1/me", headers=world.headers("resident_b", **{"Accept-Language": "en"}))).json()
    assert b["display_name"] == world.users["resident_b"].display_name


async def test_nobody_may_take_the_erased_name(client, world):
    for name in (ERASED_NAME, f" {ERASED_NAME} ", "Deregistered resident"):
        resp = await client.patch("/api/v1/me", headers=world.headers("resident_b"), json={"display_name": name})
        assert_error(resp, 422, "validation_error")
    resp = await client.post("/api/v1/auth/register", json={"phone": "13712345678", "password": PASSWORD,
                                                           "display_name": ERASED_NAME, "building_id": world.b1.id,
                                                           "privacy_notice_version":
                                                               world.settings.privacy_notice_version})
    assert [d["loc"] for d in assert_error(resp, 422, "validation_error")["details"]] == [["body", "display_name"]]


async def test_an_erasure_that_fails_late_leaves_nothing_half_done(app, client, world, monkeypatch):
    s = await build(app, client, world)
    a = world.headers("resident_a")

    async def lost_a_race(db, user_id):  # the last step of the transaction fails
        raise Conflict("stale_version", {"current_version": 2, "state": "booked"})

    monkeypatch.setattr(erasure, "_delete_private_photos", lost_a_race)
    assert_error(await _erase(client, a), 409, "stale_version")
    assert (await client.get("/api/v1/me", headers=a)).json()["display_name"] == world.users["resident_a"].display_name
    assert (await _login(client, world.users["resident_a"].phone)).status_code == 200
    booking = (await client.get(f"/api/v1/bookings/{s.booking['id']}", headers=a)).json()
    assert (booking["status"], booking["for_family_member"]) == ("booked", FAMILY_MEMBER)
    group = (await client.get(f"/api/v1/groups/{s.group['id']}", headers=a)).json()
    assert group["member_count"] == 2
    points = (await client.get("/api/v1/points/me", headers=a)).json()
    assert points["balance"] == 40
    assert await _storage_has(app, s.private_photo)
