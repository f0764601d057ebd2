"""The facade, field by field against GeoReport v2, in JSON and in XML: service list, definition, one request, a
filtered list, a POST, and each error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.open311.service import UNUSABLE_PASSWORD
from app.org.models import Category, Grid, GridLevel
from app.reports.models import Report
from app.users.models import User
from tests.open311.helpers import (
    FORMATS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    V2,
    as_text,
    errors_of,
    open311_app,
    parse,
    post_form,
    upload,
)
from tests.reports.factories import make_report

pytestmark = pytest.mark.parametrize("fmt", FORMATS)


def w3(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _categories(app, world) -> dict[str, Category]:
    """Besides the street's `sanitation` (default department 城管): one of community 1, one of community 2, and a
    retired one of the street."""
    async with app.state.db.session(write=True) as s:
        cats = {
            "c1": Category(grid_id=world.c1.id, name="物业服务", code="c1-property", respond_within_minutes=60,
                           resolve_within_minutes=600),
            "c2": Category(grid_id=world.c2.id, name="邻里纠纷", code="c2-neighbours",
                           default_department_id=world.d2.id, respond_within_minutes=60, resolve_within_minutes=600),
            "retired": Category(grid_id=world.street.id, name="旧分类", code="old", respond_within_minutes=60,
                                resolve_within_minutes=600, retired_at=datetime.now(UTC)),
        }
        s.add_all(cats.values())
    return cats


async def _count(app, model) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


# ---- services ------------------------------------------------------------------------------------------------


async def test_service_list_field_by_field(app, client, world, fmt):
    await _categories(app, world)
    resp = await client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": world.c1.id})
    assert resp.status_code == 200
    services = parse(resp, fmt, "services")
    expected = [  # by name: 物业服务 (community 1's), 环境卫生 (the street's); not community 2's, not the retired one
        {"service_code": "c1-property", "service_name": "物业服务", "description": "物业服务", "metadata": False,
         "type": "realtime", "keywords": "物业服务", "group": None},
        {"service_code": "sanitation", "service_name": "环境卫生", "description": "环境卫生", "metadata": False,
         "type": "realtime", "keywords": "环境卫生, 城管", "group": "城管"},
    ]
    assert [list(s) for s in services] == [SERVICE_FIELDS] * 2
    if fmt == "json":
        assert services == expected
    else:
        assert services == [{k: as_text(v) for k, v in e.items()} for e in expected]


async def test_a_streets_services_include_its_communities_and_the_only_street_is_the_default(app, client, world,
                                                                                              fmt):
    await _categories(app, world)
    for params in ({"jurisdiction_id": world.street.id}, {}, {"jurisdiction_id": ""}):
        resp = await client.get(f"{V2}/services.{fmt}", params=params)
        assert resp.status_code == 200, resp.text
        codes = [s["service_code"] for s in parse(resp, fmt, "services")]
        assert codes == ["c1-property", "sanitation", "c2-neighbours"]  # by name: 物业服务, 环境卫生, 邻里纠纷


async def test_service_list_errors(app, client, world, fmt):
    for jid in ("999999", "abc", str(world.g1.id), str(world.b1.id)):  # unknown, not an id, not a street/community
        (desc,) = errors_of(await client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": jid}), fmt, 404)
        assert "jurisdiction_id" in desc and "not found" in desc
    async with app.state.db.session(write=True) as s:
        s.add(Grid(level=GridLevel.street, name="第二街道", path="/x/"))
    (desc,) = errors_of(await client.get(f"{V2}/services.{fmt}"), fmt, 400)
    assert "jurisdiction_id was not provided" in desc
    assert (await client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": world.street.id})).status_code == 200


# ---- service definition ----------------------------------------------------------------------------------------


async def test_service_definition(app, client, world, fmt):
    resp = await client.get(f"{V2}/services/sanitation.{fmt}", params={"jurisdiction_id": world.c1.id})
    assert resp.status_code == 200
    if fmt == "json":
        assert parse(resp, fmt, "service_definition") == {"service_code": "sanitation", "attributes": []}
    else:
        doc = parse(resp, fmt, "service_definition")
        assert doc == {"service_code": "sanitation", "attributes": None}  # an empty <attributes/>
        assert b"<attributes />" in resp.content


async def test_service_definition_errors(app, client, world, fmt):
    await _categories(app, world)
    for code in ("nope", "old", "c2-neighbours"):  # unknown, retired, of another community
        (desc,) = errors_of(await client.get(f"{V2}/services/{code}.{fmt}", params={"jurisdiction_id": world.c1.id}),
                            fmt, 404)
        assert f"service_code '{code}' was not found" == desc
    errors_of(await client.get(f"{V2}/services/sanitation.{fmt}", params={"jurisdiction_id": "0"}), fmt, 404)


# ---- requests ----------------------------------------------------------------------------------------------


async def _full_report(app, client, world):
    """A resolved public report with a place, a photo and a public result note."""
    photo = await upload(client, world)
    report = await make_report(app, world, state="resolved", title="路灯不亮", description="3号路口的路灯坏了一周",
                               lat=31.2304, lng=121.4737, address="幸福路3号路口", photo_ids=[photo])
    return report, photo


async def test_one_request_field_by_field(app, client, world, fmt):
    report, photo = await _full_report(app, client, world)
    staff = (await client.get(f"/api/v1/reports/{report.id}", headers=world.headers("admin_street"))).json()
    timeline = (await client.get(f"/api/v1/reports/{report.id}/timeline", headers=world.headers("resident_a"))).json()
    resp = await client.get(f"{V2}/requests/{report.id}.{fmt}", params={"jurisdiction_id": world.street.id})
    assert resp.status_code == 200, resp.text
    (got,) = parse(resp, fmt, "service_requests")
    assert list(got) == REQUEST_FIELDS
    media_url = got.pop("media_url")
    expected = {
        "service_request_id": report.id, "status": "closed", "status_notes": "已清理", "service_name": "环境卫生",
        "service_code": "sanitation", "description": "路灯不亮: 3号路口的路灯坏了一周", "agency_responsible": "城管",
        "service_notice": None, "requested_datetime": w3(staff["created_at"]),
        "updated_datetime": w3(timeline[-1]["created_at"]), "expected_datetime": w3(staff["resolve_by"]),
        "address": "幸福路3号路口", "address_id": world.b1.id, "zipcode": None, "lat": 31.2304, "long": 121.4737}
    assert got == (expected if fmt == "json" else {k: as_text(v) for k, v in expected.items()})
    # the photo, signed: anyone may fetch it, without a token
    assert media_url.startswith(f"http://test/api/v1/photos/{photo}?")
    image = await client.get(media_url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


async def test_a_request_without_address_gives_its_place(app, client, world, fmt):
    report = await make_report(app, world, state="submitted")
    resp = await client.get(f"{V2}/requests/{report.id}.{fmt}")
    (got,) = parse(resp, fmt, "service_requests")
    assert got["address"] == "1号楼, 社区一, 街道"
    assert got["status"] == "open" and got["status_notes"] is None and got["agency_responsible"] is None
    assert got["expected_datetime"] is None and got["media_url"] is None and got["lat"] is None


async def test_one_request_errors(app, client, world, fmt):
    private = await make_report(app, world, is_public=False)
    other = await make_report(app, world, reporter="resident_c")  # in community 2
    for rid, params in ((private.id, {}), (999999, {}), (other.id, {"jurisdiction_id": world.c1.id})):
        (desc,) = errors_of(await client.get(f"{V2}/requests/{rid}.{fmt}", params=params), fmt, 404)
        assert desc == f"service_request_id {rid} was not found"
    errors_of(await client.get(f"{V2}/requests/abc.{fmt}"), fmt, 404)
    assert (await client.get(f"{V2}/requests/{other.id}.{fmt}", params={"jurisdiction_id": world.c2.id})
            ).status_code == 200


async def test_filtered_list(app, client, world, fmt):
    cats = await _categories(app, world)
    submitted = await make_report(app, world, state="submitted")
    dispatched = await make_report(app, world, state="dispatched")
    resolved = await make_report(app, world, state="resolved")
    rejected = await make_report(app, world, state="rejected")
    c1_cat = await make_report(app, world)
    async with app.state.db.session(write=True) as s:  # filed under community 1's own category
        (await s.get(Report, c1_cat.id)).category_id = cats["c1"].id
    private = await make_report(app, world, state="resolved", is_public=False)
    elsewhere = await make_report(app, world, reporter="resident_c")

    async def ids(**params) -> list[int]:
        resp = await client.get(f"{V2}/requests.{fmt}", params=params)
        assert resp.status_code == 200, resp.text
        found = parse(resp, fmt, "service_requests")
        assert all(list(r) == REQUEST_FIELDS for r in found)
        return [int(r["service_request_id"]) for r in found]

    newest_first = [c1_cat.id, rejected.id, resolved.id, dispatched.id, submitted.id]
    assert await ids(jurisdiction_id=world.c1.id) == newest_first
    assert await ids() == [elsewhere.id, *newest_first]
    assert await ids(jurisdiction_id=world.c1.id, status="open") == [c1_cat.id, dispatched.id, submitted.id]
    assert await ids(jurisdiction_id=world.c1.id, status="closed") == [rejected.id, resolved.id]
    assert await ids(jurisdiction_id=world.c1.id, status="closed,open") == newest_first
    assert await ids(jurisdiction_id=world.c1.id, service_code="c1-property") == [c1_cat.id]
    assert await ids(jurisdiction_id=world.c1.id, service_code="c1-property,sanitation", status="open") == \
        [c1_cat.id, dispatched.id, submitted.id]
    # service_request_id overrides the other filters (not the jurisdiction, nor what is published)
    assert await ids(service_request_id=f"{resolved.id},{submitted.id},{private.id}", status="open",
                     start_date="2001-01-01T00:00:00Z") == [resolved.id, submitted.id]
    assert await ids(jurisdiction_id=world.c2.id, service_request_id=f"{resolved.id},{elsewhere.id}") == \
        [elsewhere.id]
    # the last 90 days by default: a report from 100 days ago is left out unless asked for
    async with app.state.db.session(write=True) as s:
        old = await s.get(Report, submitted.id)
        old.created_at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert submitted.id not in await ids(jurisdiction_id=world.c1.id)
    assert await ids(jurisdiction_id=world.c1.id, start_date="2026-01-01T00:00:00Z",
                     end_date="2026-01-02T00:00:00+00:00") == [submitted.id]
    assert await ids(jurisdiction_id=world.c1.id, end_date="2026-01-01T20:00:01+08:00") == [submitted.id]
    assert await ids(jurisdiction_id=world.c1.id, end_date="2026-01-01T12:00:00Z") == []  # end is exclusive


async def test_list_errors(app, client, world, fmt):
    cases = {
        "start_date": ({"start_date": "2026-01-01"}, "time zone"),
        "span": ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        "status": ({"status": "pending"}, "open or closed"),
        "ids": ({"service_request_id": "1,two"}, "service_request_id"),
    }
    for params, words in cases.values():
        (desc,) = errors_of(await client.get(f"{V2}/requests.{fmt}", params=params), fmt, 400)
        assert words in desc, desc
    errors_of(await client.get(f"{V2}/requests.{fmt}", params={"jurisdiction_id": "12345678"}), fmt, 404)
    errors_of(await client.get(f"{V2}/requests.{fmt}", params={"status": "x" * 21}), fmt, 400)


async def test_token_is_the_report_number(app, client, world, fmt):
    report = await make_report(app, world)
    private = await make_report(app, world, is_public=False)
    resp = await client.get(f"{V2}/tokens/{report.number}.{fmt}")
    got = parse(resp, fmt, "service_requests")
    expected = {"service_request_id": report.id, "token": report.number}
    assert got == ([expected] if fmt == "json" else [{k: as_text(v) for k, v in expected.items()}])
    for token in (private.number, "BS19990101-0001"):
        (desc,) = errors_of(await client.get(f"{V2}/tokens/{token}.{fmt}"), fmt, 404)
        assert desc == f"token '{token}' was not found"


async def test_an_unknown_format_is_a_404_in_xml(app, client, world, fmt):
    report = await make_report(app, world)
    for path in ("services.yaml", "services/sanitation.html", "requests.csv", f"requests/{report.id}.JSON",
                 f"tokens/{report.number}.rss"):
        (desc,) = errors_of(await client.get(f"{V2}/{path}"), "xml", 404)
        assert "is not supported" in desc
    (desc,) = errors_of(await client.post(f"{V2}/requests.yaml", data={}), "xml", 404)


# ---- POST ----------------------------------------------------------------------------------------------------


async def test_post_files_a_report_through_the_reports_service(app, client, world, fmt):
    _, key = await open311_app(app, world)
    form = post_form(world, key, lat="31.2304", long="121.4737", address_string="幸福路3号路口",
                     email="someone@example.com", phone="13712345678", first_name="三", last_name="张",
                     device_id="dev-1", account_id="acc-1", media_url="http://example.com/p.jpg")
    resp = await client.post(f"{V2}/requests.{fmt}", data=form)
    assert resp.status_code == 200, resp.text
    (got,) = parse(resp, fmt, "service_requests")
    assert list(got) == ["service_request_id", "service_notice", "account_id"]
    rid = int(got["service_request_id"])
    assert got["account_id"] is None
    staff = (await client.get(f"/api/v1/reports/{rid}", headers=world.headers("admin_street"))).json()
    assert got["service_notice"] == f"Report {staff['number']}; intake expected by {w3(staff['respond_by'])}"
    assert {k: staff[k] for k in ("title", "description", "category_id", "building_id", "community_id", "lat",
                                  "lng", "address", "is_public", "source", "state")} == {
        "title": "路灯不亮", "description": "路灯不亮\n3号路口的路灯坏了一周", "category_id": world.cat.id,
        "building_id": world.b1.id, "community_id": world.c1.id, "lat": 31.2304, "lng": 121.4737,
        "address": "幸福路3号路口", "is_public": True, "source": "app", "state": "submitted"}
    assert staff["reporter"]["display_name"] == "Open311·城市服务热线"
    # the worker of the grid sees it in the queue, as any report
    queue = (await client.get("/api/v1/reports", headers=world.headers("worker_in"))).json()["items"]
    assert [r["id"] for r in queue] == [rid]
    # the facade shows it at once
    listed = parse(await client.get(f"{V2}/requests/{rid}.{fmt}"), fmt, "service_requests")
    assert str(listed[0]["service_request_id"]) == str(rid)


async def test_each_app_files_through_one_service_account(app, client, world, fmt):
    _, key = await open311_app(app, world)
    _, other_key = await open311_app(app, world)
    before = await _count(app, User)
    for k in (key, key, other_key):
        resp = await client.post(f"{V2}/requests.{fmt}", data=post_form(world, k, address_id=world.b2.id))
        assert resp.status_code == 200, resp.text
    assert await _count(app, User) == before + 2
    async with app.state.db.session(write=False) as s:
        reporters = (await s.execute(select(Report.reporter_id).order_by(Report.id))).scalars().all()
        accounts = (await s.execute(select(User).where(User.id.in_(reporters)))).scalars().all()
    assert reporters[0] == reporters[1] != reporters[2]
    for account in accounts:
        assert account.role == "resident" and not account.phone.startswith("1") and len(account.phone) == 11
    # it cannot sign in
    login = await client.post("/api/v1/auth/token", data={"username": accounts[0].phone,
                                                           "password": UNUSABLE_PASSWORD})
    assert login.status_code in (401, 422) and "access_token" not in login.text


async def test_post_errors_write_nothing(app, client, world, fmt):
    cats = await _categories(app, world)
    _, key = await open311_app(app, world)
    _, suspended = await open311_app(app, world, status="suspended")
    _, no_scope = await open311_app(app, world, scopes=["reports:read"])
    _, c2_only = await open311_app(app, world, grid=world.c2)
    reports, users = await _count(app, Report), await _count(app, User)
    cases = [
        (403, {"api_key": None}, "api_key is missing"),
        (403, {"api_key": "wlc_nope.x"}, "invalid api_key"),
        (403, {"api_key": key + "x"}, "invalid api_key"),
        (403, {"api_key": suspended}, "suspended"),
        (403, {"api_key": no_scope}, "not allowed"),
        (403, {"api_key": c2_only}, "outside the area"),
        (404, {"service_code": "nope"}, "service_code 'nope' was not found"),
        (404, {"service_code": "old"}, "service_code 'old' was not found"),
        (404, {"jurisdiction_id": "99999"}, "jurisdiction_id '99999' was not found"),
        (404, {"jurisdiction_id": world.c2.id}, "address_id"),  # b1 is not in community 2
        (404, {"address_id": world.g1.id}, "address_id"),  # not a building
        (404, {"address_id": "x"}, "address_id"),
        (400, {"service_code": None}, "service_code was not provided"),
        (400, {"address_id": None}, "address_id (a building id"),
        (400, {"lat": "31.2"}, "sent together"),
        (400, {"lat": "north", "long": "121"}, "numbers"),
        (400, {"lat": "91", "long": "121"}, "within"),
        (400, {"attribute[WHISPAWN]": "1"}, "no attributes"),
        (400, {"colour": "red"}, "unknown argument(s): colour"),
        (400, {"description": "长" * 2001}, "2000 characters"),
        (400, {"description": "长" * 4001}, "description"),
        (400, {"address_string": "长" * 201}, "200 characters"),
    ]
    for status, fields, words in cases:
        resp = await client.post(f"{V2}/requests.{fmt}", data=post_form(world, key, **fields))
        (desc,) = errors_of(resp, fmt, status)
        assert words in desc, (fields, desc)
    assert cats["c2"].code  # community 2's category is not a service of community 1's building ...
    (desc,) = errors_of(await client.post(f"{V2}/requests.{fmt}", data=post_form(
        world, key, jurisdiction_id=world.c1.id, service_code="c2-neighbours")), fmt, 404)
    # ... and the reports service's own rule holds too: a street's app may not file it in community 1
    resp = await client.post(f"{V2}/requests.{fmt}", data=post_form(world, key, service_code="c2-neighbours"))
    (desc,) = errors_of(resp, fmt, 400)
    assert await _count(app, Report) == reports
    assert await _count(app, User) == users  # not even the service account


async def test_other_paths_under_the_facade_are_the_specs_404(app, client, world, fmt):
    for path in (f"discovery.{fmt}", f"requests/1/comments.{fmt}", f"services/a/b.{fmt}"):
        (desc,) = errors_of(await client.get(f"{V2}/{path}"), fmt, 404)
        assert desc.startswith("no such resource"), desc
    assert (await client.get(f"{V2}/services.{fmt}")).status_code == 200  # declared routes come first


async def test_a_streamed_body_past_the_limit_is_the_middlewares_413(app, client, world, fmt):
    reports = await _count(app, Report)

    async def body():
        yield b"api_key=x&description="
        for _ in range(app.state.settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    resp = await client.post(f"{V2}/requests.{fmt}", content=body(),
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert await _count(app, Report) == reports
