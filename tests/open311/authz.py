"""Authorization-matrix entries of the Open311 facade (merged into tests/quality/authz_matrix.MATRIX).

The facade is public: its GETs answer everyone alike (a bearer token changes nothing: the answer is what the
public may see, checked below by listing a private report next to a public one). Its POST is authenticated by the
`api_key` form field, the secret of a registered app with the `open311` scope: the key is the credential, whoever
sends it (tests/open311/test_api.py refuses a missing, wrong, suspended or scope-less key with the spec's 403)."""

from __future__ import annotations

import httpx

from tests.open311.helpers import open311_app, post_form
from tests.quality.authz_matrix import PUBLIC, Ctx, Entry, Req

V2 = "/open311/v2"


async def _reports(c: Ctx) -> dict:
    async def make() -> dict:
        public, private = await c.report(is_public=True), await c.report(is_public=False)
        return {"public": public, "private": private}
    return await c.once("reports", make)


async def _one(c: Ctx) -> Req:
    made = await _reports(c)
    return Req(path={"service_request_id": made["public"].id, "format": "json"})


async def _listing(c: Ctx) -> Req:
    made = await _reports(c)
    return Req(path={"format": "json"}, params={"service_request_id": f"{made['public'].id},{made['private'].id}"})


def _lists_only_the_public_report(c: Ctx, resp: httpx.Response) -> None:
    made = c.shared["reports"]
    assert [r["service_request_id"] for r in resp.json()] == [made["public"].id], resp.text


async def _token(c: Ctx) -> Req:
    made = await _reports(c)
    return Req(path={"token": made["public"].number, "format": "json"})


async def _post(c: Ctx) -> Req:
    async def make() -> str:
        return (await open311_app(c.app, c.world))[1]
    key = await c.once("api_key", make)
    return Req(path={"format": "json"}, data=post_form(c.world, key))


ENTRIES = {
    ("GET", f"{V2}/services.{{format}}"): Entry(PUBLIC, lambda c: Req(path={"format": "json"}),
                                                why="Open311 service list: public"),
    ("GET", f"{V2}/services/{{service_code}}.{{format}}"): Entry(
        PUBLIC, lambda c: Req(path={"service_code": c.world.cat.code, "format": "xml"}),
        why="Open311 service definition: public"),
    ("GET", f"{V2}/requests.{{format}}"): Entry(PUBLIC, _listing, check=_lists_only_the_public_report,
                                                why="published reports only, to everyone alike"),
    ("GET", f"{V2}/requests/{{service_request_id}}.{{format}}"): Entry(PUBLIC, _one,
                                                                      why="a published report: public"),
    ("GET", f"{V2}/tokens/{{token}}.{{format}}"): Entry(PUBLIC, _token, why="a published report's number: public"),
    ("POST", f"{V2}/requests.{{format}}"): Entry(PUBLIC, _post,
                                                 why="the api_key (an app's secret, open311 scope) is the credential"),
}
