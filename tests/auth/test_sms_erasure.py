"""Erasing one's account with an SMS code (purpose `erase`) instead of the password (issue 21 item 5 + issue 18)."""

from __future__ import annotations

from sqlalchemy import select

from app.users.models import User
from tests.auth.sms_helpers import code_for, wrong
from tests.helpers import assert_error

URL = "/api/v1/me/erase"


async def _user(app, user_id: int) -> User:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(User).where(User.id == user_id))).scalar_one()


async def test_an_erase_code_of_the_own_number_erases_the_account(pclient, app, world, fake):
    a = world.users["resident_a"]
    headers = world.headers("resident_a")
    code = await code_for(pclient, fake, a.phone, "erase")
    err = assert_error(await pclient.post(URL, headers=headers, json={"method": "sms_code", "code": wrong(code)}),
                       401, "sms_code_invalid")
    assert err["details"] == {"attempts_left": 4}  # the wrong try stands
    assert (await _user(app, a.id)).is_active
    resp = await pclient.post(URL, headers=headers, json={"method": "sms_code", "code": code})
    assert resp.status_code == 204, resp.text
    erased = await _user(app, a.id)
    assert not erased.is_active and erased.phone != a.phone
    assert (await pclient.get("/api/v1/me", headers=headers)).status_code == 401
    # the code is spent with the erasure
    assert_error(await pclient.post("/api/v1/auth/sms/login", json={"phone": a.phone, "code": code}), 401)


async def test_another_numbers_code_does_not_erase(pclient, app, world, fake):
    b = world.users["resident_b"]
    code = await code_for(pclient, fake, b.phone, "erase")  # resident_b's code, sent by resident_a
    assert_error(await pclient.post(URL, headers=world.headers("resident_a"),
                                    json={"method": "sms_code", "code": code}), 401, "sms_code_invalid")
    assert (await _user(app, world.users["resident_a"].id)).is_active
    assert (await _user(app, b.id)).is_active
