"""Sign-in, sign-out, refresh reuse and self-moves leave audit entries, without secrets (issue 13, item 17)."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit.models import AuditEntry
from tests.factories import PASSWORD


async def _entries(db, user_id: int) -> list[tuple[str, dict]]:
    async with db.session(write=False) as s:
        rows = (await s.execute(select(AuditEntry.action, AuditEntry.details)
                                .where(AuditEntry.object_id == user_id).order_by(AuditEntry.id))).all()
    return [(a, d) for a, d in rows]


async def test_sign_in_failure_success_reuse_and_logout_are_audited(client, world, db):
    user = world.users["resident_a"]
    login = {"username": user.phone, "password": "wrong-pass-1"}
    assert (await client.post("/api/v1/auth/token", data=login)).status_code == 401
    tokens = (await client.post("/api/v1/auth/token", data={**login, "password": PASSWORD})).json()
    rotated = (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    # the first refresh token again: reuse, the family is revoked
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            ).status_code == 401
    fresh = (await client.post("/api/v1/auth/token", data={**login, "password": PASSWORD})).json()
    assert (await client.post("/api/v1/auth/logout", json={"refresh_token": fresh["refresh_token"]},
                              headers={"Authorization": f"Bearer {fresh['access_token']}"})).status_code == 204
    actions = [a for a, _ in await _entries(db, user.id)]
    assert actions == ["auth.login_failed", "auth.login", "auth.refresh_reuse", "auth.login", "auth.logout"]
    text = json.dumps(await _entries(db, user.id), ensure_ascii=False)
    for secret in (PASSWORD, "wrong-pass-1", tokens["refresh_token"], rotated["access_token"], user.phone):
        assert secret not in text


async def test_a_self_move_is_audited(client, world, db):
    user = world.users["resident_a"]
    resp = await client.patch("/api/v1/me", headers=world.headers("resident_a"), json={"building_id": world.b2.id})
    assert resp.status_code == 200, resp.text
    [(action, details)] = [e for e in await _entries(db, user.id) if e[0] == "user.self_move"]
    assert details["from_building_id"] == world.b1.id and details["to_building_id"] == world.b2.id
