"""docs/integrating.md is executed: every ```http request block is sent to the app, in order, and checked against the
```http response block after it (issue 18, item 6).

Conventions of the guide's examples (its introduction explains them to readers too):
- a request block: request line, headers, blank line, body; `{{name}}` is replaced by a value known before (given
  below, or captured from an earlier answer; `{{sms_code}}` is the last code the SMS gateway on loopback received
  for the resident); a body line `<photo.png bytes>` stands for a small PNG;
- a response block starts with `HTTP/1.1 <status>`; its headers must be present with these values; its JSON body
  is a pattern: objects must have the keys shown (a key "..." means "and more"), lists are checked on their first
  item, "..." matches anything, "{{name}}" captures the answer's value (or, if known, must equal it), and every
  other value must be equal.
Blocks fenced as ```text are illustrations and are not run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import httpx
import pytest

from app.main import create_app
from tests.factories import PASSWORD
from tests.images import image_bytes
from tests.support.sms_inbox import sms_gateway

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrating.md"
_BLOCK = re.compile(r"^```http\n(.*?)^```", re.S | re.M)
_VAR = re.compile(r"\{\{(\w+)\}\}")
PHOTO = "<photo.png bytes>"


def blocks() -> list[tuple[str, str | None]]:
    """(request, response or None) pairs of the guide, in order."""
    found = [m.group(1) for m in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]
    pairs: list[tuple[str, str | None]] = []
    for text in found:
        if text.startswith("HTTP/1.1 "):
            assert pairs and pairs[-1][1] is None, f"a response without its request:\n{text}"
            pairs[-1] = (pairs[-1][0], text)
        else:
            pairs.append((text, None))
    return pairs


class Known(dict[str, Any]):
    """Values by name; `sms_code` is read from the SMS gateway's inbox when it is used."""

    def __init__(self, values: dict[str, Any], inbox: str | None = None):
        super().__init__(values)
        self.inbox = inbox

    def lookup(self, name: str) -> Any:
        if name == "sms_code" and self.inbox:
            codes = json.loads(urlopen(f"{self.inbox}?phone={self['resident_phone']}", timeout=5).read())
            assert codes, "the SMS gateway received no code"
            return codes[0]
        assert name in self, f"{{{{{name}}}}} is used before it is known"
        return self[name]


def _fill(text: str, known: dict[str, Any]) -> str:
    def value(m: re.Match[str]) -> str:
        v = known.lookup(m.group(1)) if isinstance(known, Known) else known[m.group(1)]
        return v if isinstance(v, str) else json.dumps(v)
    return _VAR.sub(value, text)


def _match(pattern: Any, actual: Any, known: dict[str, Any], where: str) -> None:
    if pattern == "...":
        return
    if isinstance(pattern, str) and (m := _VAR.fullmatch(pattern)):
        name = m.group(1)
        if name in known:
            assert actual == known[name], f"{where}: {actual!r} != {{{{{name}}}}} = {known[name]!r}"
        known[name] = actual
        return
    if isinstance(pattern, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, sub in pattern.items():
            if key == "...":
                continue
            assert key in actual, f"{where}: no {key!r} in {sorted(actual)}"
            _match(sub, actual[key], known, f"{where}.{key}")
        return
    if isinstance(pattern, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        if pattern:
            assert actual, f"{where}: expected at least one item"
            _match(pattern[0], actual[0], known, f"{where}[0]")
        return
    assert actual == pattern, f"{where}: {actual!r} != {pattern!r}"


def _split(text: str) -> tuple[list[str], str]:
    head, _, body = text.partition("\n\n")
    return head.splitlines(), body.rstrip("\n")


async def _send(client, request: str, known: dict[str, Any]):
    lines, body = _split(_fill(request, known))
    method, target = lines[0].split(" ")[:2]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    content: bytes = body.encode()
    if PHOTO in body:  # multipart: CRLF line ends, the photo's bytes in place
        before, after = body.split(PHOTO)
        content = (before.replace("\n", "\r\n").encode() + image_bytes("PNG") + after.replace("\n", "\r\n").encode()
                   + b"\r\n")
    return await client.request(method, target, headers=headers, content=content or None)


def _check(response_text: str, resp, known: dict[str, Any], where: str) -> None:
    lines, body = _split(response_text)
    status = int(lines[0].split(" ")[1])
    assert resp.status_code == status, f"{where}: {resp.status_code} {resp.text}"
    for line in lines[1:]:
        name, value = line.split(": ", 1)
        assert name.lower() in resp.headers, f"{where}: no header {name}"
        if m := _VAR.fullmatch(value):
            known[m.group(1)] = resp.headers[name]
        elif name.lower() == "content-type":
            assert resp.headers[name].startswith(value), f"{where}: {name}: {resp.headers[name]}"
        else:
            assert resp.headers[name] == value, f"{where}: {name}: {resp.headers[name]} != {value}"
    if body:
        _match(json.loads(body), resp.json(), known, where)


def test_the_guide_has_examples_in_both_languages():
    text = GUIDE.read_text(encoding="utf-8")
    pairs = blocks()
    assert len(pairs) >= 15 and all(resp is not None for _, resp in pairs), "each request shows its answer"
    for topic in ("Idempotency-Key", "429", "Retry-After", "next_cursor", "X-Client-Id", "text/event-stream",
                  "Accept-Language"):
        assert topic in text, topic
    for heading in ("接入", "Registering", "登录", "Signing in", "幂等", "Idempotency", "限流", "Rate limits",
                    "分页", "Pagination", "错误", "Errors", "实时通知", "Live notifications"):
        assert heading in text, heading


async def test_every_example_of_the_guide_runs_as_shown(settings, world):
    with sms_gateway() as gateway:
        application = create_app(settings.model_copy(update={"sms_provider_url": gateway + "/sms/send",
                                                             "sms_sender": "http"}))
        known = Known({
            "resident_phone": world.users["resident_a"].phone, "password": PASSWORD,
            "category_id": world.cat.id, "department_id": world.d1.id, "community_id": world.c1.id,
            "admin_token": world.headers("admin_c1")["Authorization"].split(" ", 1)[1],
            "worker_token": world.headers("worker_in")["Authorization"].split(" ", 1)[1],
            "department_token": world.headers("dept_in")["Authorization"].split(" ", 1)[1],
        }, inbox=gateway + "/inbox")
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                         base_url="http://test") as client:
                for i, (request, response) in enumerate(blocks()):
                    where = f"example {i + 1}: {request.splitlines()[0]}"
                    resp = await _send(client, request, known)
                    assert response is not None
                    _check(response, resp, known, where)
        finally:
            await application.state.db.dispose()


@pytest.mark.parametrize("bad", ['{"a": "{{x}}"}'])
def test_a_pattern_that_does_not_match_fails(bad):
    known: dict[str, Any] = {"x": 1}
    with pytest.raises(AssertionError):
        _match(json.loads(bad), {"a": 2}, known, "t")
    with pytest.raises(AssertionError):
        _match({"a": [{"b": 1}]}, {"a": []}, {}, "t")
    with pytest.raises(AssertionError):
        _match({"missing": "..."}, {"a": 1}, {}, "t")
