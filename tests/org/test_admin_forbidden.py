"""Every admin endpoint refuses residents, grid workers and department staff with 403, and writes nothing.

The endpoints are enumerated from the app's OpenAPI document, so a new /api/v1/admin/ route is covered the day it
is added. The refusal must come before validation: an empty body `{}` gets 403, not 422 (add the `AdminOnly`
guard from app/auth/deps.py to the router). Known routes are also tried with a valid body, so the services'
own check is exercised too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.db.models import Base
from tests.helpers import assert_error

PREFIX = "/api/v1/admin/"
METHODS = ("get", "post", "put", "patch", "delete")
NON_ADMINS = ["resident_a", "worker_in", "dept_in"]


def _admin_operations(app) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted((method, path) for path, ops in paths.items() if path.startswith(PREFIX)
                  for method in ops if method in METHODS)


def _path_ids(world) -> dict[str, int]:
    """An existing object, in scope of the non-admins' own community, for each path parameter."""
    return {"grid_id": world.g1.id, "department_id": world.d1.id, "category_id": world.cat.id,
            "user_id": world.users["resident_a"].id}


def _valid_bodies(world) -> dict[tuple[str, str], dict]:
    """A body an admin of the street would get a 2xx with, for the routes known today."""
    cat = {"name": "新分类", "code": "new-cat", "respond_within_minutes": 60, "resolve_within_minutes": 600}
    return {
        ("post", "/api/v1/admin/grids"): {"parent_id": world.g1.id, "level": "building", "name": "新楼"},
        ("patch", "/api/v1/admin/grids/{grid_id}"): {"name": "改名"},
        ("post", "/api/v1/admin/departments"): {"grid_id": world.street.id, "name": "新部门", "code": "new-dep"},
        ("patch", "/api/v1/admin/departments/{department_id}"): {"name": "改名"},
        ("post", "/api/v1/admin/categories"): {"grid_id": world.street.id, **cat},
        ("patch", "/api/v1/admin/categories/{category_id}"): {"name": "改名"},
        ("post", "/api/v1/admin/users"): {"phone": "13700000001", "password": "a-good-pass-1", "display_name": "x",
                                          "role": "grid_worker", "grid_ids": [world.g1.id]},
        ("patch", "/api/v1/admin/users/{user_id}"): {"display_name": "改名"},
    }


def _fill(path: str, ids: dict[str, int], fallback: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), fallback)), path)


async def _row_counts(db) -> dict[str, int]:
    async with db.session(write=False) as s:
        return {t.name: (await s.execute(select(func.count()).select_from(t))).scalar_one()
                for t in Base.metadata.sorted_tables}


def test_the_enumeration_finds_the_admin_routes(app):
    ops = _admin_operations(app)
    for expected in [("get", "/api/v1/admin/grids"), ("post", "/api/v1/admin/grids/{grid_id}/retire"),
                     ("patch", "/api/v1/admin/departments/{department_id}"), ("post", "/api/v1/admin/categories"),
                     ("get", "/api/v1/admin/users/{user_id}"), ("patch", "/api/v1/admin/users/{user_id}")]:
        assert expected in ops


@pytest.mark.parametrize("who", NON_ADMINS)
async def test_non_admins_get_403_on_every_admin_endpoint(client, app, world, db, who):
    headers = world.headers(who)
    ids = _path_ids(world)
    bodies = _valid_bodies(world)
    before = await _row_counts(db)
    refused = []
    for method, path in _admin_operations(app):
        url = _fill(path, ids, world.c1.id)
        attempts = [None] if method in ("get", "delete") else [{}]
        if (method, path) in bodies:
            attempts.append(bodies[(method, path)])
        for body in attempts:
            resp = await client.request(method.upper(), url, headers=headers,
                                        **({} if body is None else {"json": body}))
            assert resp.status_code == 403, (
                f"{who} {method.upper()} {url} body={body}: {resp.status_code} {resp.text}; admin routes must "
                "refuse non-admins before validation: add dependencies=[AdminOnly] (app/auth/deps.py) to the router")
            assert_error(resp, 403, "forbidden")
            refused.append((method, path))
        # query parameters are not looked at either: a bad one is still a 403
        if method == "get":
            assert_error(await client.get(url, headers=headers, params={"limit": "zero", "cursor": "x"}),
                         403, "forbidden")
    assert len(refused) >= 15
    assert await _row_counts(db) == before


async def test_admins_pass_the_same_requests(client, app, world):
    """The other half: with the street admin's token, the valid bodies are accepted (so 403 above is the role)."""
    headers = world.headers("admin_street")
    ids = {**_path_ids(world), **await _webhook_ids(app, world), **await _api_client_ids(app, world)}
    for (method, path), body in _valid_bodies(world).items():
        resp = await client.request(method.upper(), _fill(path, ids, world.c1.id), headers=headers, json=body)
        assert resp.status_code in (200, 201), (method, path, resp.text)
    for method, path in _admin_operations(app):
        if method == "get":
            assert (await client.get(_fill(path, ids, world.c1.id), headers=headers)).status_code == 200, path


async def test_anonymous_gets_401_on_every_admin_endpoint(client, app, world):
    for method, path in _admin_operations(app):
        resp = await client.request(method.upper(), _fill(path, _path_ids(world), world.c1.id),
                                    **({} if method in ("get", "delete") else {"json": {}}))
        assert_error(resp, 401, "unauthenticated")


async def _webhook_ids(app, world) -> dict[str, int]:
    """A webhook subscription of community 1 with one delivery (for the /admin/webhooks/... reads)."""
    from datetime import UTC, datetime

    from app.notifications import outbox
    from app.notifications.webhooks_events import WebhookEventType
    from app.notifications.webhooks_models import WebhookDelivery, WebhookSubscription

    async with app.state.db.session(write=True) as s:
        sub = WebhookSubscription(grid_id=world.c1.id, url="http://127.0.0.1:9/hook", event_types=["report.closed"],
                                  secret="whsec_" + "A" * 44, is_active=True, version=1, description="")
        s.add(sub)
        await s.flush()
        await outbox.enqueue(s, [sub.id], WebhookEventType.report_closed, {}, datetime.now(UTC))
        delivery_id = (await s.execute(select(WebhookDelivery.id))).scalar_one()
    return {"subscription_id": sub.id, "delivery_id": delivery_id}


async def _api_client_ids(app, world) -> dict[str, int]:
    """A registered app of community 1 (issue 18: the /admin/clients/... reads)."""
    from tests.clients.factories import make_client

    async with app.state.db.session(write=True) as s:
        row, _ = await make_client(s, world.c1.id)
    return {"api_client_id": row.id}
