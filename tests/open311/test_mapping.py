"""The facade's pure translation: status mapping, the list's arguments, titles, the XML shapes; and the
published_* rules of reports it reads (table tests, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from app.open311 import mapping
from app.open311.formats import Format, parse_format, to_xml, w3
from app.open311.mapping import BadArgument
from app.reports import policies
from app.reports.lifecycle import State

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("state", "status"), [
    (State.submitted, "open"), (State.accepted, "open"), (State.dispatched, "open"), (State.in_progress, "open"),
    (State.resolved, "closed"), (State.closed, "closed"), (State.rejected, "closed"), (State.merged, "closed")])
def test_every_published_state_maps_to_open_or_closed(state, status):
    assert mapping.status_of(state) == status


def test_the_status_filter_covers_every_published_state_once():
    published = {s.value for s in State} - {State.withdrawn.value}
    assert set(mapping.OPEN) | set(mapping.CLOSED) == published
    assert not set(mapping.OPEN) & set(mapping.CLOSED)
    assert mapping.statuses("open") == list(mapping.OPEN)
    assert mapping.statuses("closed, open") == [*mapping.CLOSED, *mapping.OPEN]
    assert mapping.statuses(None) == []
    with pytest.raises(BadArgument, match="open or closed"):
        mapping.statuses("open,pending")


def test_date_range_defaults_and_limits():
    assert mapping.date_range(None, None, NOW) == (NOW - timedelta(days=90), NOW)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert mapping.date_range("2026-01-01T00:00:00Z", None, NOW) == (start, start + timedelta(days=90))
    assert mapping.date_range(None, "2026-01-01T08:00:00+08:00", NOW) == (start - timedelta(days=90), start)
    assert mapping.date_range("2026-01-01T00:00:00Z", "2026-03-31T00:00:00Z", NOW) == \
        (start, datetime(2026, 3, 31, tzinfo=UTC))
    with pytest.raises(BadArgument, match="90 days"):
        mapping.date_range("2026-01-01T00:00:00Z", "2026-04-02T00:00:00Z", NOW)
    with pytest.raises(BadArgument, match="before"):
        mapping.date_range("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", NOW)
    with pytest.raises(BadArgument, match="time zone"):
        mapping.date_range("2026-01-01T00:00:00", None, NOW)
    with pytest.raises(BadArgument, match="W3C"):
        mapping.date_range("yesterday", None, NOW)


def test_request_ids():
    assert mapping.request_ids("3, 1,3,,2") == [3, 1, 2]
    assert mapping.request_ids(None) == []
    for bad in ("1,x", "-1", "0", str(2**60)):
        with pytest.raises(BadArgument):
            mapping.request_ids(bad)
    with pytest.raises(BadArgument, match="at most"):
        mapping.request_ids(",".join(str(i) for i in range(1, mapping.MAX_IDS + 2)))


def test_titles_and_texts():
    assert mapping.title_of("路灯不亮\n3号路口", "市政设施") == "路灯不亮"
    assert mapping.title_of("", "市政设施") == "市政设施"
    assert mapping.title_of("坏", "市政设施") == "市政设施"
    assert mapping.title_of("长" * 300, "市政设施") == "长" * 100
    assert mapping.text_of("路灯不亮", "") == "路灯不亮"
    assert mapping.text_of("路灯不亮", "路灯不亮\n3号路口") == "路灯不亮\n3号路口"
    assert mapping.text_of("路灯不亮", "3号路口") == "路灯不亮: 3号路口"


def test_formats():
    assert parse_format("json") is Format.json and parse_format("xml") is Format.xml
    assert parse_format("yaml") is None and parse_format("JSON") is None
    assert w3(datetime(2026, 1, 1, 8, 0, 0, 123, tzinfo=UTC)) == "2026-01-01T08:00:00Z"
    doc = to_xml("service_definition", {"service_code": "x", "attributes": [
        {"code": "a", "values": [{"key": "1", "name": "一"}], "required": True, "order": 1, "note": None}]})
    assert doc.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(doc)
    attribute = root.find("attributes/attribute")
    assert root.tag == "service_definition" and root.findtext("service_code") == "x"
    assert attribute.findtext("required") == "true" and attribute.findtext("order") == "1"
    assert attribute.find("note").text is None
    assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [("1", "一")]
    errors = ET.fromstring(to_xml("errors", [{"code": 400, "description": "<bad> & 'x'"}]))
    assert [(e.findtext("code"), e.findtext("description")) for e in errors] == [("400", "<bad> & 'x'")]
    # text XML cannot carry (a control character a resident pasted) is replaced, the document stays readable
    odd = ET.fromstring(to_xml("errors", [{"code": 400, "description": "a\x0bb\x1fc\td\ne"}]))
    assert odd.findtext("error/description") == "a\ufffdb\ufffdc\td\ne"


@pytest.mark.parametrize(("is_public", "hidden", "state", "published"), [
    (True, False, "submitted", True), (True, False, "closed", True), (True, False, "merged", True),
    (False, False, "submitted", False), (True, True, "submitted", False), (True, False, "withdrawn", False)])
def test_published_reports(is_public, hidden, state, published):
    assert policies.is_published(is_public, hidden, state) is published


def test_published_photos_and_notes():
    assert policies.published_photo(False, None)        # from the submission
    assert policies.published_photo(False, True)        # from a public step
    assert not policies.published_photo(False, False)   # from an internal step
    assert not policies.published_photo(True, None)     # hidden by a moderator
    assert policies.published_note(True, True, "已清理")
    assert not policies.published_note(True, False, "退回理由")   # a public step's internal note
    assert not policies.published_note(False, False, "督办")     # an internal step
    assert not policies.published_note(True, True, None)
