"""openapi/openapi.json is a valid OpenAPI 3.1 document (issue 18, item 6): it validates against the OpenAPI
Initiative's JSON Schema for 3.1 (tests/quality/openapi-3.1-schema.json, the published schema of 2022-10-07,
https://spec.openapis.org/oas/3.1/schema/2022-10-07), every schema in it is a valid JSON Schema 2020-12, every local
$ref resolves, and every operationId is a short readable snake_case name (`submit_report`), not a generated one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

ROOT = Path(__file__).resolve().parents[2]
OAS_31 = json.loads((ROOT / "tests" / "quality" / "openapi-3.1-schema.json").read_text(encoding="utf-8"))
_READABLE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# what FastAPI's generated ids look like (`list_reports_api_v1_reports_get`): never in ours
_GENERATED = re.compile(r"api_v1|_(get|post|put|patch|delete)$")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message[:200]}"
              for e in jsonschema_rs.validator_for(OAS_31).iter_errors(doc)]
    assert errors == [], "\n".join(errors[:20])


def test_the_validator_refuses_a_broken_document(doc):
    broken = {**doc, "paths": {"no-leading-slash": {}}}
    assert not jsonschema_rs.validator_for(OAS_31).is_valid(broken)
    broken = {**doc, "info": {"title": "no version"}}
    assert not jsonschema_rs.validator_for(OAS_31).is_valid(broken)


def test_every_schema_is_json_schema_2020_12(doc):
    wrong = [name for name, schema in doc["components"]["schemas"].items() if not jsonschema_rs.meta.is_valid(schema)]
    assert wrong == []


def test_every_reference_resolves(doc):
    missing = []
    for ref in set(_refs(doc)):
        assert ref.startswith("#/"), f"a non-local $ref: {ref}"
        try:
            _resolve(doc, ref)
        except (KeyError, IndexError, TypeError):
            missing.append(ref)
    assert missing == []


def test_operation_ids_are_readable(doc):
    ids = [op["operationId"] for item in doc["paths"].values() for method, op in item.items()
           if isinstance(op, dict) and "operationId" in op]
    assert ids and len(ids) == len(set(ids))
    assert [i for i in ids if not _READABLE.match(i) or _GENERATED.search(i) or len(i) > 40] == []
