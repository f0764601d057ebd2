"""Authorization-matrix entries of registered apps (issue 18), merged into MATRIX by tests/quality/authz_matrix.py.

The app "owned by someone else" hangs on community 2, made straight in the database: admin_c2 and admin_street may
manage it, admin_c1 must be refused (404), everyone else 403 (401 anonymous)."""

from __future__ import annotations

import httpx

from tests.clients.factories import make_client
from tests.quality.authz_matrix import ADMINS, OVER_C2, Ctx, Entry, Req

BASE = "/api/v1/admin/clients"


async def _app_c2(c: Ctx) -> int:
    async with c.app.state.db.session(write=True) as s:
        row, _ = await make_client(s, c.world.c2.id, name=c.unique("app"))
        return row.id


async def _shared(c: Ctx) -> Req:
    return Req(path={"api_client_id": await c.once("app_c2", lambda: _app_c2(c))})


async def _fresh(c: Ctx) -> Req:  # changes bump the version: one app per call
    return Req(path={"api_client_id": await _app_c2(c)})


async def _fresh_with(c: Ctx, body: dict) -> Req:
    return Req(path={"api_client_id": await _app_c2(c)}, json=body)


async def _suspended(c: Ctx) -> Req:
    app_id = await _app_c2(c)
    from sqlalchemy import update

    from app.clients.models import ApiClient
    async with c.app.state.db.session(write=True) as s:
        await s.execute(update(ApiClient).where(ApiClient.id == app_id).values(status="suspended", version=2))
    return Req(path={"api_client_id": app_id}, json={"expected_version": 2})


async def _listing(c: Ctx) -> Req:
    await c.once("app_c2", lambda: _app_c2(c))
    return Req()


def _lists_c2_app_iff_over_c2(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["app_c2"] in {item["id"] for item in resp.json()["items"]}
    assert listed == (c.actor in OVER_C2), f"{c.actor}: community 2's app listed={listed}"


ENTRIES = {
    ("GET", BASE): Entry(ADMINS, _listing, check=_lists_c2_app_iff_over_c2,
                         why="admins list the apps of their scope only"),
    ("POST", BASE): Entry(
        OVER_C2, lambda c: Req(json={"grid_id": c.world.c2.id, "name": "app", "kind": "web",
                                     "scopes": ["reports:read"]}),
        refused_codes={"invalid_reference"}, why="for a community or street in scope"),
    ("GET", BASE + "/{api_client_id}"): Entry(OVER_C2, _shared, why="owner node in scope"),
    ("PATCH", BASE + "/{api_client_id}"): Entry(
        OVER_C2, lambda c: _fresh_with(c, {"expected_version": 1, "name": "改名"}), why="owner node in scope"),
    ("POST", BASE + "/{api_client_id}/rotate-secret"): Entry(OVER_C2, _fresh, why="owner node in scope"),
    ("POST", BASE + "/{api_client_id}/suspend"): Entry(
        OVER_C2, lambda c: _fresh_with(c, {"expected_version": 1}), why="owner node in scope"),
    ("POST", BASE + "/{api_client_id}/reactivate"): Entry(OVER_C2, _suspended, why="owner node in scope"),
}
