"""Retiring what open reports or active categories depend on is refused, saying what depends on it; a community's
category may default to a street department (issue 13, item 18)."""

from __future__ import annotations

from tests.helpers import assert_error
from tests.reports.factories import make_report

API = "/api/v1/admin"


async def test_a_department_with_open_reports_or_categories_is_not_retired(client, app, world):
    h = world.headers("admin_street")
    await make_report(app, world, state="dispatched")  # handled by d1
    resp = await client.post(f"{API}/departments/{world.d1.id}/retire", headers=h)
    assert_error(resp, 409, "has_dependants")
    assert resp.json()["error"]["details"] == {"open_reports": 1, "active_categories": 1}  # world.cat -> d1
    assert (await client.get(f"{API}/departments/{world.d1.id}", headers=h)).json()["retired_at"] is None


async def test_a_department_nothing_depends_on_is_retired(client, world):
    resp = await client.post(f"{API}/departments/{world.d2.id}/retire", headers=world.headers("admin_street"))
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None


async def test_a_department_some_category_defaults_to_is_not_retired(client, world):
    h = world.headers("admin_street")
    resp = await client.post(f"{API}/departments/{world.d1.id}/retire", headers=h)
    assert_error(resp, 409, "has_dependants")
    assert resp.json()["error"]["details"] == {"open_reports": 0, "active_categories": 1}


async def test_a_category_with_open_reports_is_not_retired_until_they_close(client, app, world):
    h = world.headers("admin_street")
    await make_report(app, world, state="submitted")
    resp = await client.post(f"{API}/categories/{world.cat.id}/retire", headers=h)
    assert_error(resp, 409, "has_dependants")
    assert resp.json()["error"]["details"] == {"open_reports": 1, "active_categories": 0}


async def test_a_category_whose_reports_are_closed_is_retired(client, app, world):
    await make_report(app, world, state="closed")
    resp = await client.post(f"{API}/categories/{world.cat.id}/retire", headers=world.headers("admin_street"))
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None


async def test_a_community_admin_may_default_a_category_to_a_street_department(client, world):
    resp = await client.post(f"{API}/categories", headers=world.headers("admin_c1"), json={
        "grid_id": world.c1.id, "name": "社区环境", "code": "c1-env", "default_department_id": world.d1.id,
        "respond_within_minutes": 60, "resolve_within_minutes": 600})
    assert resp.status_code == 201, resp.text
    assert resp.json()["default_department_id"] == world.d1.id
    # but not a department of another community
    resp = await client.post(f"{API}/categories", headers=world.headers("admin_c1"), json={
        "grid_id": world.c1.id, "name": "社区环境2", "code": "c1-env2", "default_department_id": world.d2.id,
        "respond_within_minutes": 60, "resolve_within_minutes": 600})
    assert_error(resp, 422, "invalid_reference")
