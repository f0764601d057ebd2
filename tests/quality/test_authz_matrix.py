"""Every route, called as every actor on an object owned by someone else: only the matrix's allowed actors
succeed, everyone else is refused (401 anonymous; 403 or 404 signed in). The routes come from the OpenAPI
document, so a new route without an entry in tests/quality/authz_matrix.py fails here."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.quality.authz_matrix import ACTORS, MATRIX, Ctx, build, entries, openapi_operations
from tests.support.asgi_stream import AsgiStream

OPERATIONS = openapi_operations()
_PARAM = re.compile(r"\{(\w+)\}")


def test_every_operation_has_a_matrix_entry():
    missing = [f"{m} {p}" for m, p in OPERATIONS if (m, p) not in MATRIX]
    assert not missing, (
        "routes without an authorization-matrix entry (add one to MATRIX in tests/quality/authz_matrix.py, "
        "keyed by (METHOD, path): who may succeed, and how to build the request on someone else's object):\n  "
        + "\n  ".join(missing))
    stale = [f"{m} {p}" for m, p in MATRIX if (m, p) not in OPERATIONS]
    assert not stale, "matrix entries for routes that no longer exist:\n  " + "\n  ".join(stale)


def _refused(actor: str, status: int, body: dict | None, refused_codes: frozenset[str]) -> bool:
    if actor == "anonymous":
        return status == 401
    if status in (403, 404):
        return True
    code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
    return status == 422 and code in refused_codes


async def _open_stream(app, url: str, headers: dict, params: dict | None) -> httpx.Response:
    """An endless response (a live stream): its status and, when the app ended it (a refusal), its body."""
    async with AsgiStream(app, url, headers, params) as stream:
        body = await stream.rest() if stream.finished or stream.status != 200 else b""
    assert stream.status is not None
    return httpx.Response(stream.status, content=body, headers=stream.response_headers)


def _json(resp):
    try:
        return resp.json()
    except ValueError:
        return None


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: v)
async def test_only_allowed_actors_succeed(app, client, world, method, path):
    if (method, path) not in OPERATIONS:
        pytest.skip("no such route (test_every_operation_has_a_matrix_entry reports it)")
    problems: list[str] = []
    for i, entry in enumerate(entries((method, path))):
        label = f"{method} {path}" + (f" [{entry.why}]" if entry.why else f" [case {i}]")
        shared: dict = {}
        # refused actors first, on untouched data; then the allowed ones
        order = [a for a in ACTORS if a not in entry.allowed] + [a for a in ACTORS if a in entry.allowed]
        for actor in order:
            ctx = Ctx(app=app, world=world, client=client, actor=actor, shared=shared)
            req = await build(entry, ctx)
            names = _PARAM.findall(path)
            assert set(names) == set(req.path), f"{label}: path parameters {names}, the entry gives {req.path}"
            url = path.format(**req.path)
            headers = {**({} if actor == "anonymous" else world.headers(actor)), **(req.headers or {})}
            if entry.endless:
                resp = await _open_stream(app, url, headers, req.params)
            else:
                resp = await client.request(method, url, headers=headers, json=req.json, data=req.data,
                                            files=req.files, params=req.params)
            body = _json(resp)
            if actor in entry.allowed:
                if not 200 <= resp.status_code < 300:
                    problems.append(f"{label}: {actor} is allowed but got {resp.status_code} {resp.text[:200]}")
                elif entry.check is not None:
                    try:
                        entry.check(ctx, resp)
                    except AssertionError as exc:
                        problems.append(f"{label}: {actor}: {exc}")
            elif not _refused(actor, resp.status_code, body, entry.refused_codes):
                expected = "401" if actor == "anonymous" else "403/404" + (
                    f" or 422 {sorted(entry.refused_codes)}" if entry.refused_codes else "")
                problems.append(f"{label}: {actor} must be refused ({expected}) but got {resp.status_code} "
                                f"{resp.text[:200]}")
    assert not problems, "\n".join(problems)
