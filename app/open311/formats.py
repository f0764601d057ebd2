"""GeoReport v2 documents in JSON and XML, and the spec's error list. Pure: no I/O.

The XML shapes follow the spec (no namespace, UTF-8 declaration): <services><service>..., <service_definition>,
<service_requests><request>..., <errors><error>...; JSON is the same data (the spec's "Spark convention": a list
where XML repeats an element). Booleans are `true`/`false`, a missing value is JSON null and an empty XML element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


class Format(StrEnum):
    json = "json"
    xml = "xml"


def parse_format(value: str) -> Format | None:
    """The format named by the path's extension; None for any other (the caller answers 404, as the spec says)."""
    try:
        return Format(value)
    except ValueError:
        return None


def w3(dt: datetime | None) -> str | None:
    """W3C date-time with an explicit zone (UTC, 'Z'), as the spec requires."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Characters XML 1.0 cannot carry at all, even escaped (C0 controls but tab, newline, return; U+FFFE, U+FFFF;
# lone surrogates): a resident's text holding one must not make the whole document unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    """`value` as child element(s) of `parent`: a mapping is an element of elements, a list repeats `item`."""
    el = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        item = _ITEM_OF.get(name, "item")
        for v in value:
            _fill(el, item, v)
    else:
        el.text = _text(value)


# the element a list's items are called in XML (the list's own element name is the key)
_ITEM_OF = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
            "values": "value"}


def to_xml(root: str, value: Any) -> bytes:
    """The document: `root` holding `value` (a list of items, or a mapping of fields)."""
    doc = ET.Element(root)
    if isinstance(value, list):
        for v in value:
            _fill(doc, _ITEM_OF[root], v)
    else:
        for k, v in value.items():
            _fill(doc, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(doc, encoding="unicode").encode()


def render(fmt: Format, root: str, value: Any, status: int = 200) -> Response:
    if fmt is Format.xml:
        return Response(to_xml(root, value), status_code=status, media_type=XML_TYPE)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return Response(body, status_code=status, media_type=JSON_TYPE)


def errors(fmt: Format, status: int, descriptions: Sequence[str]) -> Response:
    """The spec's error list: one {code, description} per problem; `code` is the HTTP status."""
    return render(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)
