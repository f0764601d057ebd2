"""Bad tokens get 401 in the envelope: tampered, expired, alg none, wrong key/audience/issuer, wrong type."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.core.security import issue_token
from tests.helpers import assert_error


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _claims(world, **over):
    now = datetime.now(UTC)
    user = world.users["resident_a"]
    base = {"sub": str(user.id), "role": "resident", "typ": "access", "jti": "j" * 32,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
            "iss": world.settings.jwt_issuer, "aud": world.settings.jwt_audience}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def _sign(world, claims, key=None, alg="HS256"):
    return jwt.encode(claims, key or world.settings.jwt_secret, algorithm=alg)


async def _me(client, token):
    return await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


async def test_valid_token_reads_me(client, world):
    resp = await _me(client, _sign(world, _claims(world)))
    assert resp.status_code == 200 and resp.json()["id"] == world.users["resident_a"].id


@pytest.mark.parametrize("case", [
    "tampered", "expired", "alg_none", "other_key", "wrong_audience", "wrong_issuer", "no_exp", "no_aud",
    "no_iat", "no_iss", "no_sub", "no_jti",
    "refresh_as_access", "role_mismatch", "unknown_user", "garbage", "hs512",
])
async def test_bad_tokens_are_401(client, world, case):
    good = _sign(world, _claims(world))
    if case == "tampered":
        head, body, sig = good.split(".")
        claims = _claims(world, role="admin")
        token = f"{head}.{_b64(claims)}.{sig}"
    elif case == "expired":
        past = datetime.now(UTC) - timedelta(hours=1)
        token = _sign(world, _claims(world, iat=int(past.timestamp()) - 60, exp=int(past.timestamp())))
    elif case == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(world))}."
    elif case == "other_key":
        token = _sign(world, _claims(world), key="another-secret-" + "z" * 40)
    elif case == "wrong_audience":
        token = _sign(world, _claims(world, aud="someone-else"))
    elif case == "wrong_issuer":
        token = _sign(world, _claims(world, iss="evil"))
    elif case == "no_exp":
        token = _sign(world, _claims(world, exp=None))
    elif case in ("no_iat", "no_iss", "no_sub", "no_jti"):  # every required claim is required (PyJWT)
        token = _sign(world, _claims(world, **{case[3:]: None}))
    elif case == "no_aud":
        token = _sign(world, _claims(world, aud=None))
    elif case == "refresh_as_access":
        user = world.users["resident_a"]
        token = issue_token(world.settings, world.settings.jwt_secret, user_id=user.id, role="resident",
                            typ="refresh", family="f" * 32).token
    elif case == "role_mismatch":
        token = _sign(world, _claims(world, role="admin"))
    elif case == "unknown_user":
        token = _sign(world, _claims(world, sub="999999"))
    elif case == "hs512":
        token = _sign(world, _claims(world), alg="HS512")
    else:
        token = "not.a.token"
    assert_error(await _me(client, token), 401, "unauthenticated")


async def test_missing_token_is_401_with_www_authenticate(client):
    resp = await client.get("/api/v1/me")
    assert_error(resp, 401, "unauthenticated")
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_deactivated_account_token_stops_working(client, world):
    headers = world.headers("resident_a")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    resp = await client.patch(f"/api/v1/admin/users/{world.users['resident_a'].id}",
                              json={"is_active": False}, headers=world.headers("admin_c1"))
    assert resp.status_code == 200, resp.text
    assert_error(await client.get("/api/v1/me", headers=headers), 401)


async def test_a_token_verified_before_still_expires(client, world, monkeypatch):
    """Verification is remembered per token string; expiry is checked on every use all the same."""
    now = datetime.now(UTC)
    token = _sign(world, _claims(world, exp=int((now + timedelta(seconds=30)).timestamp())))
    assert (await _me(client, token)).status_code == 200
    assert (await _me(client, token)).status_code == 200
    monkeypatch.setattr("app.core.security.time.time", lambda: now.timestamp() + 60)
    assert_error(await _me(client, token), 401, "unauthenticated")


async def test_a_remembered_token_is_not_accepted_as_another_type(world):
    from app.core.security import InvalidToken, decode_token

    token = issue_token(world.settings, world.settings.jwt_secret, user_id=1, role="resident", typ="refresh").token
    assert decode_token(world.settings, world.settings.jwt_secret, token, expected="refresh").sub == "1"
    with pytest.raises(InvalidToken):
        decode_token(world.settings, world.settings.jwt_secret, token, expected="access")
