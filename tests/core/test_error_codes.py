"""One documented `details` shape per error code; validation messages in the caller's language (issue 13, item 15)."""

from __future__ import annotations

import re
from pathlib import Path

from app.core import error_codes
from app.core.i18n import MESSAGES
from app.openapi import current_openapi
from tests.helpers import assert_error

APP = Path(__file__).resolve().parents[2] / "app"
RAISED = re.compile(r'(?:InvalidInput|Conflict|NotFound|NotPermitted|BadRequest|PayloadTooLarge|Unauthenticated|'
                    r'UnsupportedMediaType|TooManyRequests|flush_or_conflict\(db,)\s*\(?\s*"([a-z_]+)"'
                    r'|code = "([a-z_]+)"')


def test_every_code_the_app_raises_has_a_shape_and_messages():
    raised = {a or b for p in APP.rglob("*.py") for a, b in RAISED.findall(p.read_text(encoding="utf-8"))}
    assert raised, "the scan found nothing: the pattern is broken"
    assert raised - set(error_codes.DETAILS) == set()
    assert set(error_codes.DETAILS) - {"error"} <= set(MESSAGES)


def test_the_shapes_are_in_openapi():
    body = current_openapi()["components"]["schemas"]["ErrorBody"]["properties"]
    for code in ("stale_version", "has_dependants", "validation_error", "too_many_requests"):
        assert f"`{code}`" in body["details"]["description"]
        assert f"`{code}`" in body["code"]["description"]


def test_service_validation_errors_take_the_same_list_shape():
    shaped = error_codes.normalize("validation_error", {"field": "display_name", "reason": "must not be null"})
    assert shaped == [{"loc": ["body", "field"], "type": "invalid", "msg": "display_name: must not be null"}]
    assert error_codes.normalize("invalid_reference", {"photo_ids": [3], "reason": "not yours"}) == \
        {"field": "photo_ids", "value": [3], "reason": "not yours"}
    assert error_codes.normalize("invalid_transition", {"reason": "top"}) == \
        {"state": None, "action": None, "reason": "top"}
    assert error_codes.normalize("phone_taken", {"anything": 1}) is None


async def test_validation_messages_are_chinese_by_default_and_english_on_request(client, world):
    body = {"category_id": world.cat.id, "title": ""}
    zh = assert_error(await client.post("/api/v1/reports", headers=world.headers("resident_a"), json=body), 422)
    en = assert_error(await client.post("/api/v1/reports", headers=world.headers("resident_a", **{
        "Accept-Language": "en"}), json=body), 422)
    [zh_issue] = [i for i in zh["details"] if i["loc"][-1] == "title"]
    [en_issue] = [i for i in en["details"] if i["loc"][-1] == "title"]
    assert zh_issue["type"] == en_issue["type"] == "string_too_short"
    assert zh_issue["msg"] == "内容过短" and "at least" in en_issue["msg"]
    # a validation error raised by a service has the same list shape
    worker = await client.patch("/api/v1/me", headers=world.headers("worker_in"), json={"building_id": world.b1.id})
    details = assert_error(worker, 422, "validation_error")["details"]
    assert isinstance(details, list) and {"loc", "type", "msg"} == set(details[0])
