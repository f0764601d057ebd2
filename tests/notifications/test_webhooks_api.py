"""The admin API of webhooks: subscriptions in scope, validation, optimistic concurrency, secrets shown once."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import func, select

from app.main import create_app
from app.notifications.webhooks_models import WebhookDelivery
from tests.reports.factories import make_report

BASE = "/api/v1/admin/webhooks"


def _new(world, grid, url="http://127.0.0.1:9/hook", events=("report.accepted",), **extra) -> dict:
    return {"grid_id": grid.id, "url": url, "event_types": list(events), "description": "区网格平台", **extra}


async def _create(client, world, who="admin_c1", grid=None, **kw) -> dict:
    resp = await client.post(BASE, json=_new(world, grid or world.c1, **kw), headers=world.headers(who))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_create_answers_the_secret_once(client, world):
    made = await _create(client, world)
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"][len("whsec_"):])) == 32
    assert made["version"] == 1 and made["is_active"] and made["event_types"] == ["report.accepted"]
    got = await client.get(f"{BASE}/{made['id']}", headers=world.headers("admin_c1"))
    assert got.status_code == 200 and "secret" not in got.json() and made["secret"] not in got.text
    listed = await client.get(BASE, headers=world.headers("admin_c1"))
    assert [s["id"] for s in listed.json()["items"]] == [made["id"]] and made["secret"] not in listed.text


async def test_scope_another_communitys_admin_sees_nothing(client, world):
    made = await _create(client, world)  # community 1's
    for path in ("", "/deliveries"):
        assert (await client.get(f"{BASE}/{made['id']}{path}", headers=world.headers("admin_c2"))).status_code == 404
    assert (await client.get(BASE, headers=world.headers("admin_c2"))).json()["items"] == []
    patch = await client.patch(f"{BASE}/{made['id']}", json={"expected_version": 1, "description": "x"},
                               headers=world.headers("admin_c2"))
    assert patch.status_code == 404
    assert (await client.delete(f"{BASE}/{made['id']}", headers=world.headers("admin_c2"))).status_code == 404
    # nor can they register one for community 1; the street's admin can see and manage it
    resp = await client.post(BASE, json=_new(world, world.c1), headers=world.headers("admin_c2"))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_reference"
    assert (await client.get(f"{BASE}/{made['id']}", headers=world.headers("admin_street"))).status_code == 200
    # non-admins are refused
    assert (await client.get(BASE, headers=world.headers("worker_in"))).status_code == 403


async def test_only_communities_and_streets_own_subscriptions(client, world):
    resp = await client.post(BASE, json=_new(world, world.g1), headers=world.headers("admin_c1"))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_reference"
    street = await _create(client, world, who="admin_street", grid=world.street)
    assert street["grid_id"] == world.street.id
    # a community admin may not hang one on the street above them
    resp = await client.post(BASE, json=_new(world, world.street), headers=world.headers("admin_c1"))
    assert resp.status_code == 422


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.com/hook", "scheme"), ("https://user:secret@example.com/hook", "credentials"),
    ("https://example.com/" + "x" * 2000, "longer"), ("not a url", "spaces"), ("https:///hook", "no host"),
])
async def test_malformed_urls_get_webhook_url_invalid(client, world, url, reason):
    resp = await client.post(BASE, json=_new(world, world.c1, url=url), headers=world.headers("admin_c1"))
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "webhook_url_invalid" and reason in err["details"]["reason"]
    assert err["details"]["field"] == "url"


async def test_unknown_or_no_event_types_are_refused(client, world):
    for events in (["report.exploded"], [], ["report.accepted", "*"]):
        resp = await client.post(BASE, json=_new(world, world.c1, events=events), headers=world.headers("admin_c1"))
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error", events
        assert resp.json()["error"]["details"][0]["loc"][:2] == ["body", "event_types"]


async def test_unresolvable_hosts_are_refused(client, world):
    resp = await client.post(BASE, json=_new(world, world.c1, url="https://no-such-host.invalid/hook"),
                             headers=world.headers("admin_c1"))
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "webhook_address_forbidden"
    assert resp.json()["error"]["details"]["reason"] == "unresolvable"


@pytest.fixture
async def strict_client(settings):
    """An app with WEBHOOK_ALLOW_PRIVATE off (production's default), on the same database."""
    strict = create_app(settings.model_copy(update={"webhook_allow_private": False}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://test") as c:
        yield c
    await strict.state.db.dispose()


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:8080/hook", "loopback"), ("http://localhost/hook", "loopback"),
    ("http://10.0.0.8/hook", "private"), ("http://192.168.1.10/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link_local"), ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:10.0.0.1]/hook", "private"), ("http://0.0.0.0/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
])
async def test_private_addresses_get_webhook_address_forbidden(strict_client, world, url, reason):
    resp = await strict_client.post(BASE, json=_new(world, world.c1, url=url), headers=world.headers("admin_c1"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "webhook_address_forbidden"
    assert resp.json()["error"]["details"]["reason"] == reason


async def test_a_public_address_is_accepted_when_private_ones_are_not(strict_client, world):
    resp = await strict_client.post(BASE, json=_new(world, world.c1, url="https://93.184.216.34/hook"),
                                    headers=world.headers("admin_c1"))
    assert resp.status_code == 201, resp.text


async def test_update_checks_the_version_first(client, world):
    made = await _create(client, world)
    h = world.headers("admin_c1")
    ok = await client.patch(f"{BASE}/{made['id']}", headers=h, json={
        "expected_version": 1, "url": "http://127.0.0.1:10/other", "event_types": ["report.closed", "report.closed"],
        "description": "新平台"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["url"].endswith("/other")
    assert ok.json()["event_types"] == ["report.closed"] and ok.json()["description"] == "新平台"
    # stale: reported before anything else, even with a bad URL in the same body
    stale = await client.patch(f"{BASE}/{made['id']}", headers=h, json={"expected_version": 1, "url": "ftp://x"})
    assert stale.status_code == 409
    assert stale.json()["error"] == {**stale.json()["error"], "code": "stale_version",
                                     "details": {"current_version": 2, "state": "active"}}
    bad = await client.patch(f"{BASE}/{made['id']}", headers=h, json={"expected_version": 2, "url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "webhook_url_invalid"
    null = await client.patch(f"{BASE}/{made['id']}", headers=h, json={"expected_version": 2, "url": None})
    assert null.status_code == 422


async def test_disabling_fails_pending_deliveries_and_stops_new_ones(app, client, world):
    made = await _create(client, world)
    await make_report(app, world, state="accepted")
    h = world.headers("admin_c1")
    page = (await client.get(f"{BASE}/{made['id']}/deliveries", headers=h)).json()["items"]
    assert [d["status"] for d in page] == ["pending"]
    off = await client.patch(f"{BASE}/{made['id']}", headers=h, json={"expected_version": 1, "is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    page = (await client.get(f"{BASE}/{made['id']}/deliveries", headers=h)).json()["items"]
    assert [(d["status"], d["last_error"]) for d in page] == [("failed", "the subscription was disabled")]
    await make_report(app, world, state="accepted")
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one() == 1
    redo = await client.post(f"{BASE}/{made['id']}/deliveries/{page[0]['id']}/redeliver", headers=h)
    assert redo.status_code == 409 and redo.json()["error"]["code"] == "webhook_disabled"


async def test_rotating_answers_a_new_secret_once(client, world):
    made = await _create(client, world)
    h = world.headers("admin_c1")
    rotated = await client.post(f"{BASE}/{made['id']}/rotate-secret", headers=h)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != made["secret"] and body["version"] == 2
    assert body["previous_secret_valid_until"] is not None
    assert body["secret"] not in (await client.get(f"{BASE}/{made['id']}", headers=h)).text


async def test_delete_removes_it_with_its_deliveries(app, client, world):
    made = await _create(client, world)
    await make_report(app, world, state="accepted")
    h = world.headers("admin_c1")
    assert (await client.delete(f"{BASE}/{made['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{BASE}/{made['id']}", headers=h)).status_code == 404
    async with app.state.db.session(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one() == 0


async def test_deliveries_are_paginated_and_filtered(app, client, world):
    made = await _create(client, world, events=("report.submitted", "report.accepted"))
    for _ in range(3):
        await make_report(app, world, state="accepted")  # submitted + accepted: 6 deliveries
    h = world.headers("admin_c1")
    seen, cursor = [], None
    while True:
        page = await client.get(f"{BASE}/{made['id']}/deliveries", headers=h,
                                params={"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6 and [d["id"] for d in seen] == sorted((d["id"] for d in seen), reverse=True)
    assert {d["event_type"] for d in seen} == {"report.submitted", "report.accepted"}
    assert len({d["webhook_id"] for d in seen}) == 6
    failed = await client.get(f"{BASE}/{made['id']}/deliveries", headers=h, params={"status": "failed"})
    assert failed.json()["items"] == []
    bad = await client.get(f"{BASE}/{made['id']}/deliveries", headers=h, params={"status": "lost"})
    assert bad.status_code == 422
    other = await client.get(f"{BASE}/{made['id']}/deliveries/{seen[0]['id'] + 1000}", headers=h)
    assert other.status_code == 404


async def test_only_subscribers_of_the_reports_community_or_street_get_deliveries(app, client, world):
    c1 = await _create(client, world)
    c2 = await _create(client, world, who="admin_c2", grid=world.c2)
    street = await _create(client, world, who="admin_street", grid=world.street)
    closed_only = await _create(client, world, events=("report.closed",))
    await make_report(app, world, state="accepted")  # in community 1
    counts = {}
    for sub, who in ((c1, "admin_c1"), (c2, "admin_c2"), (street, "admin_street"), (closed_only, "admin_c1")):
        page = await client.get(f"{BASE}/{sub['id']}/deliveries", headers=world.headers(who))
        counts[sub["id"]] = len(page.json()["items"])
    assert counts == {c1["id"]: 1, c2["id"]: 0, street["id"]: 1, closed_only["id"]: 0}


async def test_the_list_filters_by_owner_node(client, world):
    c1 = await _create(client, world)
    c2 = await _create(client, world, who="admin_c2", grid=world.c2)
    h = world.headers("admin_street")
    every = (await client.get(BASE, headers=h)).json()["items"]
    assert [s["id"] for s in every] == [c1["id"], c2["id"]]
    only_c2 = (await client.get(BASE, headers=h, params={"grid_id": world.c2.id})).json()["items"]
    assert [s["id"] for s in only_c2] == [c2["id"]]
    assert (await client.get(BASE, headers=h, params={"grid_id": 0})).status_code == 422
