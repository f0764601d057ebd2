"""Input abuse: fields a client must not set, absurd sizes and depths, NUL characters, path traversal, and JWT
algorithm confusion. Each is refused with a 4xx in the error envelope, never a 500, and never applied.
(alg none, expired, no exp/aud and refresh-as-access tokens are in tests/auth/test_tokens.py.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from app.reports.models import Report
from app.users.models import User
from tests.helpers import assert_error
from tests.quality.authz_matrix import PHOTO_PNG, openapi_operations

# Fields that name who owns something, its state, its identity or its privileges: the server sets them.
SERVER_SET = {"role": "admin", "state": "closed", "owner_id": 1, "id": 1, "is_active": False,
              "reporter_id": 1, "community_id": 1, "scope_grid_id": 1, "password_hash": "x", "version": 99}
LONG = "长" * 10_000


async def _count(app, model) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def _user(app, user_id: int) -> User:
    async with app.state.db.session(write=False) as s:
        return await s.get(User, user_id)


# ---- fields a client must not set -------------------------------------------------------------------------


@pytest.mark.parametrize("field", sorted(SERVER_SET))
async def test_me_refuses_server_set_fields_and_applies_nothing(app, client, world, field):
    user = world.users["resident_a"]
    resp = await client.patch("/api/v1/me", headers=world.headers("resident_a"),
                              json={"display_name": "改了名", field: SERVER_SET[field]})
    err = assert_error(resp, 422, "validation_error")
    assert any(field in d["loc"] for d in err["details"]), err
    after = await _user(app, user.id)
    assert (after.display_name, after.role, after.is_active, after.community_id, after.scope_grid_id) == \
        (user.display_name, "resident", True, user.community_id, None)
    assert after.password_hash == user.password_hash


@pytest.mark.parametrize("field", sorted(SERVER_SET))
async def test_register_refuses_server_set_fields_and_creates_nothing(app, client, world, field):
    before = await _count(app, User)
    body = {"phone": "13512340000", "password": "a-good-pass-1", "display_name": "新居民",
            "building_id": world.b1.id, "privacy_notice_version": world.settings.privacy_notice_version,
            field: SERVER_SET[field]}
    assert_error(await client.post("/api/v1/auth/register", json=body), 422, "validation_error")
    assert await _count(app, User) == before


@pytest.mark.parametrize("field", ["state", "owner_id", "reporter_id", "id", "version", "community_id"])
async def test_report_submission_refuses_server_set_fields(app, client, world, field):
    before = await _count(app, Report)
    body = {"category_id": world.cat.id, "title": "路灯不亮", field: SERVER_SET.get(field, 1)}
    assert_error(await client.post("/api/v1/reports", headers=world.headers("resident_a"), json=body), 422)
    assert await _count(app, Report) == before


async def test_admin_cannot_change_an_accounts_role(app, client, world):
    target = world.users["resident_c"]
    resp = await client.patch(f"/api/v1/admin/users/{target.id}", headers=world.headers("admin_street"),
                              json={"role": "admin"})
    assert_error(resp, 422, "validation_error")
    assert (await _user(app, target.id)).role == "resident"


# ---- sizes and depths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "who", "body"), [
    ("PATCH", "/api/v1/me", "resident_a", {"display_name": LONG}),
    ("POST", "/api/v1/auth/register", None, {"phone": "13512340001", "password": "a-good-pass-1",
                                             "display_name": LONG, "building_id": 1}),
    ("POST", "/api/v1/auth/register", None, {"phone": "13512340001", "password": LONG, "display_name": "x",
                                             "building_id": 1}),
    ("POST", "/api/v1/auth/refresh", None, {"refresh_token": LONG}),
    ("POST", "/api/v1/me/password", "resident_a", {"current_password": LONG, "new_password": "a-good-pass-2"}),
    ("POST", "/api/v1/reports", "resident_a", {"category_id": 1, "title": LONG}),
    ("POST", "/api/v1/reports", "resident_a", {"category_id": 1, "title": "路灯", "description": LONG * 2}),
    ("POST", "/api/v1/admin/grids", "admin_street", {"parent_id": 1, "level": "building", "name": LONG}),
])
async def test_very_long_strings_are_422(client, world, method, url, who, body):
    headers = world.headers(who) if who else {}
    assert_error(await client.request(method, url, json=body, headers=headers), 422, "validation_error")


async def test_very_long_query_strings_and_login_fields_are_422(client, world):
    h = world.headers("admin_street")
    for url in ("/api/v1/admin/grids", "/api/v1/admin/users", "/api/v1/reports"):
        assert_error(await client.get(url, params={"q": "q" * 10_000}, headers=h), 422)
        assert_error(await client.get(url, params={"cursor": "A" * 10_000}, headers=h), 422)
    for username, password in ((LONG, "x" * 10), (world.users["resident_a"].phone, LONG)):
        resp = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert_error(resp, 422)


async def test_very_long_request_id_is_replaced_not_echoed(client):
    resp = await client.get("/healthz", headers={"X-Request-ID": "r" * 10_000})
    assert resp.status_code == 200 and len(resp.headers["x-request-id"]) <= 64


def _paginated_lists() -> list[str]:
    from app.openapi import current_openapi

    doc = current_openapi()["paths"]
    return [path for method, path in openapi_operations() if method == "GET"
            and any(p["name"] == "limit" and p["in"] == "query" for p in doc[path]["get"].get("parameters", []))]


@pytest.mark.parametrize("path", _paginated_lists())
async def test_huge_page_sizes_are_422(client, world, path):
    headers = world.headers("admin_street")
    for limit in (10**9, 10**30, -1, 0):
        assert_error(await client.get(path, params={"limit": limit}, headers=headers), 422, "validation_error")


def test_every_list_route_is_bounded():
    assert len(_paginated_lists()) >= 5  # the parametrisation above found the list routes


@pytest.mark.parametrize("shape", ["lists", "objects", "mixed"])
@pytest.mark.parametrize(("url", "who"), [("/api/v1/auth/register", None), ("/api/v1/me", "resident_a"),
                                          ("/api/v1/reports", "resident_a"), ("/api/v1/admin/grids", "admin_street")])
async def test_deeply_nested_json_is_4xx(client, world, url, who, shape):
    depth = 10_000
    if shape == "lists":
        raw = "[" * depth + "]" * depth
    elif shape == "objects":
        raw = '{"a":' * depth + "1" + "}" * depth
    else:
        raw = '{"display_name":' + '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2) + "}"
    headers = {"Content-Type": "application/json", **(world.headers(who) if who else {})}
    method = "PATCH" if url == "/api/v1/me" else "POST"
    resp = await client.request(method, url, content=raw.encode(), headers=headers)
    assert_error(resp, 422, "validation_error")


async def test_nesting_within_the_parser_limit_is_refused_by_the_schema(client, world):
    """Deep enough to stress a recursive validator, shallow enough for the JSON parser: still a clean 422."""
    deep = "x"
    for _ in range(900):
        deep = [deep]
    resp = await client.patch("/api/v1/me", headers=world.headers("resident_a"), json={"display_name": deep})
    assert_error(resp, 422, "validation_error")


async def test_body_that_is_not_utf8_is_422(client, world):
    resp = await client.patch("/api/v1/me", headers={**world.headers("resident_a"),
                                                     "Content-Type": "application/json"}, content=b'{"x": "\xff\xfe"}')
    err = assert_error(resp, 422, "validation_error")
    assert err["details"][0]["loc"] == ["body"]


# ---- NUL characters (PostgreSQL text cannot hold them) -----------------------------------------------------


async def test_nul_characters_are_422_in_bodies_queries_and_paths(app, client, world):
    h = world.headers("admin_street")
    before = world.g2.name
    for method, url, kw in (
        ("PATCH", f"/api/v1/admin/grids/{world.g2.id}", {"json": {"name": "a\u0000b"}}),
        ("PATCH", "/api/v1/me", {"json": {"display_name": "\u0000"}}),
        ("POST", "/api/v1/admin/departments", {"json": {"grid_id": world.c2.id, "name": "部门", "code": "d\u0000"}}),
        ("GET", "/api/v1/admin/grids?q=a%00b", {}),
        ("GET", "/api/v1/admin/users?q=%00", {}),
        ("GET", "/api/v1/reports?q=%00", {}),
        ("GET", "/api/v1/admin/grids/1%00", {}),
    ):
        assert_error(await client.request(method, url, headers=h, **kw), 422, "validation_error")
    async with app.state.db.session(write=False) as s:
        from app.org.models import Grid

        assert (await s.get(Grid, world.g2.id)).name == before


# ---- path traversal ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../etc/passwd.png", "..\\..\\windows\\win.ini.png", "/etc/passwd.png",
                                  "photo.png\u0000.sh", "a/" * 200 + "b.png", "长" * 5000 + ".png", ".htaccess"])
async def test_upload_file_names_are_never_used_as_paths(client, world, settings, name):
    before = {p for p in settings.upload_dir.rglob("*") if p.is_file()}
    resp = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                             files={"file": (name, PHOTO_PNG, "image/png")})
    assert resp.status_code in (201, 422), resp.text
    new = {p for p in settings.upload_dir.rglob("*") if p.is_file()} - before
    root = settings.upload_dir.resolve()
    assert all(p.resolve().is_relative_to(root) for p in new)
    assert not any(".." in p.name or "passwd" in p.name or "win.ini" in p.name or "htaccess" in p.name
                   for p in new)


@pytest.mark.parametrize("tail", ["..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd", "..%5C..%5Cwin.ini",
                                  "1/../../../etc/passwd"])
async def test_traversal_in_url_paths_finds_nothing(client, world, tail):
    resp = await client.get(f"/api/v1/uploads/{tail}", headers=world.headers("resident_a"))
    assert resp.status_code in (404, 422), resp.text
    assert "root:" not in resp.text


# ---- JWT algorithm confusion ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(world) -> dict:
    now = datetime.now(UTC)
    user = world.users["resident_a"]
    return {"sub": str(user.id), "role": "resident", "typ": "access", "jti": "j" * 32,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
            "iss": world.settings.jwt_issuer, "aud": world.settings.jwt_audience}


@pytest.fixture(scope="module")
def rsa_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem, key


def _hs256_with_secret(claims: dict, secret: bytes, header: dict | None = None) -> str:
    """HS256 signed by hand: PyJWT itself refuses a PEM as an HMAC secret, an attacker does not."""
    head = _b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


@pytest.mark.parametrize("case", ["rs256", "hs256_public_pem", "rs256_embedded_jwk", "hs256_public_pem_kid"])
async def test_algorithm_confusion_is_401(client, world, rsa_key, case):
    private_pem, public_pem, key = rsa_key
    claims = _claims(world)
    if case == "rs256":
        token = jwt.encode(claims, private_pem.decode(), algorithm="RS256")
    elif case == "hs256_public_pem":
        token = _hs256_with_secret(claims, public_pem)
    elif case == "rs256_embedded_jwk":
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
        token = jwt.encode(claims, private_pem.decode(), algorithm="RS256", headers={"jwk": jwk})
    else:
        token = _hs256_with_secret(claims, public_pem, {"alg": "HS256", "typ": "JWT", "kid": "../../dev/null"})
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(resp, 401, "unauthenticated")
    # the same claims, signed with the real secret, do work: the refusal is about the signature alone
    good = jwt.encode(claims, world.settings.jwt_secret, algorithm="HS256")
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"})).status_code == 200
