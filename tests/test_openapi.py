"""The committed OpenAPI document is the app's, and every operation is documented the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.openapi import current_openapi, render

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
OPEN311_ERROR_REF = "#/components/schemas/Open311Error"
OPEN311_ERRORS = ("400", "403", "404")  # the facade's own; 413, 422 (middleware) and 500 are the envelope


@pytest.fixture(scope="module")
def doc() -> dict:
    return current_openapi()


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", op


def test_committed_document_is_current(doc):
    assert COMMITTED.exists(), "openapi/openapi.json is missing: run `weilinli openapi` and commit it"
    assert COMMITTED.read_text(encoding="utf-8") == render(doc), (
        "openapi/openapi.json is out of date: run `weilinli openapi` and commit the result")


def test_every_operation_has_a_summary_and_tags(doc):
    missing = [name for name, op in _operations(doc) if not op.get("summary") or not op.get("tags")]
    assert missing == [], f"operations without a summary or tags: {missing}"


def test_every_error_response_is_the_envelope(doc):
    wrong = []
    for name, op in _operations(doc):
        for status, resp in op.get("responses", {}).items():
            if status[0] not in "45":
                continue
            schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
            if name.split(" ", 1)[1].startswith("/open311/") and status in OPEN311_ERRORS:
                # issue 19: the Open311 facade answers its own errors in the spec's list, in JSON and XML
                if schema.get("items", {}).get("$ref") != OPEN311_ERROR_REF or "text/xml" not in resp["content"]:
                    wrong.append(f"{name} {status}: not the Open311 error list in JSON and XML")
                continue
            if schema.get("$ref") != ENVELOPE_REF:
                wrong.append(f"{name} {status}: {schema or 'no JSON schema'}")
    assert wrong == [], ("error responses must be documented with the ErrorEnvelope schema "
                         "(responses=error_responses(...) from app/core/errors.py):\n" + "\n".join(wrong))
    assert "HTTPValidationError" not in doc.get("components", {}).get("schemas", {})


def test_errors_that_can_happen_are_documented(doc):
    """Authenticated operations document 401; operations with parameters or a body document 422."""
    missing = []
    for name, op in _operations(doc):
        statuses = set(op.get("responses", {}))
        if op.get("security") and "401" not in statuses:
            missing.append(f"{name}: 401")
        if (op.get("parameters") or op.get("requestBody")) and "422" not in statuses:
            missing.append(f"{name}: 422")
        if name.split(" ", 1)[1].startswith("/api/v1/admin/") and "403" not in statuses:
            missing.append(f"{name}: 403")
    assert missing == [], f"undocumented error responses: {missing}"


def test_the_envelope_schema_is_the_one_the_handlers_send(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["ErrorEnvelope"]["required"] == ["error"]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details"}


def test_operation_ids_are_readable_and_unique(doc):
    """operationIds are the route functions' names (clients generated from openapi.json call them by it)."""
    ids = [op["operationId"] for _, op in _operations(doc)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    unreadable = [i for i in ids if "api_v1" in i or not i.replace("_", "").isalnum() or not i.islower()]
    assert unreadable == [], unreadable


def test_closed_values_are_enums_for_typed_clients(doc):
    """Issue 13, item 15: what a typed client needs to switch on is a closed enum, with the values sent."""
    schemas = doc["components"]["schemas"]

    def enum_of(schema: dict) -> set:
        if "$ref" in schema:
            return enum_of(schemas[schema["$ref"].rsplit("/", 1)[1]])
        return set(schema.get("enum", []))

    event = schemas["EventRead"]["properties"]
    assert "submit" in enum_of(event["action"]) and "auto_close" in enum_of(event["action"])
    assert enum_of(event["actor_role"]) == {"resident", "grid_worker", "department", "admin", "system"}
    for name in ("ReportRead", "ReportSummary"):
        if "source" in schemas[name]["properties"]:
            assert enum_of(schemas[name]["properties"]["source"]) == {"app", "mini_program", "patrol", "hotline"}
    counts = schemas["CountsByState"]
    assert set(counts["properties"]) == {"submitted", "accepted", "rejected", "withdrawn", "dispatched",
                                         "in_progress", "resolved", "closed", "merged"}
    assert set(counts["required"]) == set(counts["properties"])


# nullable on purpose: null clears them
CLEARABLE = {("GridUpdate", "code"), ("DepartmentUpdate", "phone"), ("CategoryUpdate", "default_department_id"),
             # bookings: a service's place, minimum age and eligible grids are cleared with null
             ("ServiceUpdate", "place"), ("ServiceUpdate", "min_age"), ("ServiceUpdate", "eligible_grid_ids")}
CLEARABLE |= {("GroupUpdate", "member_cap"), ("RewardUpdate", "per_resident_limit")}  # null: no cap, no limit
CLEARABLE |= {("ApiClientUpdate", "wechat_appid")}  # issue 18: null removes an app's WeChat appid


def test_patch_bodies_declare_null_only_where_null_is_accepted(doc):
    """Issue 13, item 15: a PATCH field that refuses null must not be declared nullable."""
    schemas = doc["components"]["schemas"]
    nullable = set()
    for name, schema in schemas.items():
        if not name.endswith("Update"):
            continue
        for field, prop in schema.get("properties", {}).items():
            if any(alt.get("type") == "null" for alt in prop.get("anyOf", [])):
                nullable.add((name, field))
    assert nullable == CLEARABLE


async def test_null_for_a_field_that_needs_a_value_is_a_422(client, world):
    from tests.helpers import assert_error

    h = world.headers("admin_street")
    for url, field in ((f"/api/v1/admin/users/{world.users['resident_a'].id}", "is_active"),
                       (f"/api/v1/admin/grids/{world.g1.id}", "name"), ("/api/v1/me", "display_name")):
        headers = world.headers("resident_a") if url == "/api/v1/me" else h
        assert_error(await client.patch(url, headers=headers, json={field: None}), 422, "validation_error")
