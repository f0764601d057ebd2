"""Reading facade responses in both formats into the same Python shapes, and the facade's fixtures."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import httpx

from tests.clients.factories import make_client

V2 = "/open311/v2"
FORMATS = ("json", "xml")
# the list element of each XML document, and what its repeated child is called
ITEMS = {"services": "service", "service_requests": "request", "errors": "error"}
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def _element(el: ET.Element) -> Any:
    children = list(el)
    if not children:
        return el.text
    if el.tag in ("attributes", "values"):
        return [_element(c) for c in children]
    return {c.tag: _element(c) for c in children}


def parse(resp: httpx.Response, fmt: str, root: str) -> Any:
    """The document as Python: JSON as is; XML (checked: declaration, root element, item element names) as the
    same structure with every value as text."""
    if fmt == "json":
        assert resp.headers["content-type"] == "application/json; charset=utf-8", resp.headers
        return resp.json()
    assert resp.headers["content-type"] == "text/xml; charset=utf-8", resp.headers
    assert resp.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), resp.content[:60]
    doc = ET.fromstring(resp.content)
    assert doc.tag == root, doc.tag
    if root in ITEMS:
        assert all(c.tag == ITEMS[root] for c in doc), [c.tag for c in doc]
        return [{f.tag: _element(f) for f in item} for item in doc]
    return {c.tag: _element(c) for c in doc}


def as_text(value: Any) -> str | None:
    """A JSON value as the XML document writes it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def errors_of(resp: httpx.Response, fmt: str, status: int) -> list[str]:
    """The spec's error list, checked: the HTTP status, each item's code (the status) and a description."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    items = parse(resp, fmt, "errors")
    assert isinstance(items, list) and items, items
    for item in items:
        assert list(item) == ["code", "description"], item
        assert str(item["code"]) == str(status), item
        assert isinstance(item["description"], str) and item["description"], item
    assert resp.headers.get("x-request-id")
    return [i["description"] for i in items]


async def open311_app(app, world, *, scopes: list[str] | None = None, status: str = "active", grid=None):
    """A registered app (on the street unless `grid`), and its secret: the api_key."""
    async with app.state.db.session(write=True) as s:
        client, secret = await make_client(s, (grid or world.street).id,
                                           scopes=["open311"] if scopes is None else scopes, status=status,
                                           kind="server", name="城市服务热线")
    return client, secret


def post_form(world, key: str, **fields: Any) -> dict[str, str]:
    """A valid POST (the street's jurisdiction, `sanitation`, at b1); `fields` change it, a None removes one."""
    form = {"api_key": key, "jurisdiction_id": str(world.street.id), "service_code": world.cat.code,
            "address_id": str(world.b1.id), "description": "路灯不亮\n3号路口的路灯坏了一周"}
    form.update({k: str(v) for k, v in fields.items() if v is not None})
    for k in [k for k, v in fields.items() if v is None]:
        form.pop(k, None)
    return form


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def upload(client, world, who: str = "resident_a") -> int:
    from tests.images import PNG

    resp = await client.post("/api/v1/uploads", headers=world.headers(who),
                             files={"file": ("p.png", PNG, "image/png")})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def step(app, world, who: str, report_id: int, action: str, **extra: Any):
    """One step through the reports service, at the report's current version."""
    from app.reports import service
    from app.reports.schemas import ReportRead, StepIn
    from tests.reports.factories import principal

    p = await principal(app, world.users[who])
    async with app.state.db.session(write=False) as s:
        from app.reports.models import Report

        version = (await s.get(Report, report_id)).version
    async with app.state.db.session(write=True) as s:
        out = await service.take_step(s, app.state.settings, p, report_id,
                                      StepIn(action=action, expected_version=version, **extra))
    return ReportRead.model_validate(app.state.photo_signer.sign_photos(out))
