"""Authorization-matrix entries of deliberation and announcements (merged into tests/quality/authz_matrix.MATRIX).

Objects "owned by someone else": resident_a's proposal in community 1 (its residents and its council, i.e. the
admins over c1, see it); its project; announcements to community 2 (admin objects live in c2, like the rest of
the matrix)."""

from __future__ import annotations

from typing import Any

import httpx

from app.deliberation.budgets import budget_year
from tests.deliberation import helpers
from tests.quality.authz_matrix import OVER_C1, OVER_C2, SIGNED_IN, Build, Ctx, Entry, Req

# who sees resident_a's proposal: the residents of c1 and the council of c1 (admins over it)
SEES_PROPOSAL = frozenset({"resident_a", "resident_b"}) | OVER_C1
SEES_C2_NOTICE = frozenset({"resident_c"}) | OVER_C2


async def _proposal(c: Ctx, state: str = "open") -> dict:
    if state == "voting":
        return await helpers.to_voting(c.app, c.client, c.world)
    prop = await helpers.raise_proposal(c.client, c.world)
    if state == "on_agenda":
        prop = await helpers.step(c.client, c.world, "admin_c1", prop, "put_on_agenda")
    return prop


def _on(state: str = "open", shared: bool = True) -> Build:
    async def make(c: Ctx) -> Req:
        prop = await (c.once(f"proposal-{state}", lambda: _proposal(c, state)) if shared else _proposal(c, state))
        return Req(path={"proposal_id": prop["id"]})
    return make


def _step(state: str, action: str, **extra: Any) -> Build:
    async def make(c: Ctx) -> Req:
        prop = await _proposal(c, state)
        return Req(path={"proposal_id": prop["id"]},
                   json={"action": action, "expected_version": prop["version"], **extra})
    return make


async def _listing(c: Ctx) -> Req:
    await c.once("proposal-open", lambda: _proposal(c))
    return Req()


def _lists_proposal_iff_sees(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["proposal-open"]["id"] in [p["id"] for p in resp.json()["items"]]
    assert listed == (c.actor in SEES_PROPOSAL), f"{c.actor}: resident_a's proposal listed={listed}"


async def _comment(c: Ctx) -> Req:
    prop = await c.once("proposal-open", lambda: _proposal(c))
    resp = await c.client.post(f"{helpers.BASE}/{prop['id']}/comments", headers=c.world.headers("resident_b"),
                               json={"body": "意见"})
    return Req(path={"comment_id": resp.json()["id"]}, json={"reason": "不文明用语"})


async def _ballot(c: Ctx) -> Req:
    prop = await c.once("proposal-voting", lambda: _proposal(c, "voting"))
    vote = (await c.client.get(f"{helpers.BASE}/{prop['id']}/vote", headers=c.world.headers("admin_c1"))).json()
    return Req(path={"proposal_id": prop["id"]}, json={"option_id": vote["options"][0]["id"]})


async def _project(c: Ctx) -> int:
    async def make() -> int:
        prop = await _proposal(c, "voting")
        vote = (await c.client.get(f"{helpers.BASE}/{prop['id']}/vote", headers=c.world.headers("resident_b"))).json()
        await c.client.post(f"{helpers.BASE}/{prop['id']}/vote/ballots", headers=c.world.headers("resident_b"),
                            json={"option_id": vote["options"][0]["id"]})
        await helpers.close_vote(c.app, prop["id"])
        await helpers.run_results(c.app, c.app.state.settings)
        detail = (await c.client.get(f"{helpers.BASE}/{prop['id']}", headers=c.world.headers("resident_a"))).json()
        return detail["project_id"]
    return await c.once("project", make)


def _project_req(**json: Any) -> Build:
    async def make(c: Ctx) -> Req:
        return Req(path={"project_id": await _project(c)}, json=json or None)
    return make


async def _project_listing(c: Ctx) -> Req:
    await _project(c)
    return Req()


def _lists_project_iff_sees(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["project"] in [p["id"] for p in resp.json()["items"]]
    assert listed == (c.actor in SEES_PROPOSAL), f"{c.actor}: the project listed={listed}"


def _community(json: Any = None) -> Build:
    return lambda c: Req(path={"community_id": c.world.c1.id}, json=json)


def _budget(c: Ctx) -> Req:
    from datetime import UTC, datetime

    return Req(path={"community_id": c.world.c1.id, "year": budget_year(datetime.now(UTC))}, json={"amount": 5000})


async def _c2_notice(c: Ctx, shared: bool = True) -> int:
    async def make() -> int:
        resp = await c.client.post("/api/v1/announcements", headers=c.world.headers("admin_c2"),
                                   json={"grid_id": c.world.c2.id, "title": "停电通知", "body": "明天停电"})
        return resp.json()["id"]
    return await (c.once("c2-notice", make) if shared else make())


async def _notice_req(c: Ctx) -> Req:
    return Req(path={"announcement_id": await _c2_notice(c)})


async def _fresh_notice_req(c: Ctx) -> Req:
    return Req(path={"announcement_id": await _c2_notice(c, shared=False)})


async def _notice_listing(c: Ctx) -> Req:
    await _c2_notice(c)
    return Req()


def _lists_notice_iff_sees(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["c2-notice"] in [a["id"] for a in resp.json()["items"]]
    assert listed == (c.actor in SEES_C2_NOTICE), f"{c.actor}: community 2's announcement listed={listed}"


ENTRIES: dict[tuple[str, str], Entry | tuple[Entry, ...]] = {
    ("POST", "/api/v1/proposals"): Entry(
        {"resident_a", "resident_b", "resident_c"}, lambda c: Req(json={"title": "增设充电桩", "body": "电动车多"}),
        why="residents raise proposals in their own community"),
    ("GET", "/api/v1/proposals"): Entry(SIGNED_IN, _listing, check=_lists_proposal_iff_sees,
                                        why="the community's residents and its council"),
    ("GET", "/api/v1/proposals/{proposal_id}"): Entry(SEES_PROPOSAL, _on(), why="residents of c1 and its council"),
    ("GET", "/api/v1/proposals/{proposal_id}/timeline"): Entry(SEES_PROPOSAL, _on(), why="as the proposal"),
    ("POST", "/api/v1/proposals/{proposal_id}/steps"): (
        Entry(OVER_C1, _step("open", "put_on_agenda"), why="the council (admins over c1) steers"),
        Entry(OVER_C1, _step("on_agenda", "decline", note="不属于议事范围"), why="the council declines"),
        Entry({"resident_a"}, _step("open", "withdraw"), why="only the proposer withdraws"),
    ),
    ("POST", "/api/v1/proposals/{proposal_id}/support"): Entry(
        {"resident_b"}, _on(shared=False), why="neighbours support, not the proposer or outsiders"),
    ("GET", "/api/v1/proposals/{proposal_id}/comments"): Entry(SEES_PROPOSAL, _on(), why="as the proposal"),
    ("POST", "/api/v1/proposals/{proposal_id}/comments"): Entry(
        SEES_PROPOSAL, lambda c: _with_json(_on()(c), {"body": "赞成"}), why="residents of c1 and its council"),
    ("POST", "/api/v1/proposal-comments/{comment_id}/hide"): Entry(OVER_C1, _comment,
                                                                   why="admins on the council moderate"),
    ("GET", "/api/v1/proposals/{proposal_id}/vote"): Entry(SEES_PROPOSAL, _on("voting"), why="as the proposal"),
    ("POST", "/api/v1/proposals/{proposal_id}/vote/ballots"): Entry(
        {"resident_a", "resident_b"}, _ballot, why="residents on the roll, once each"),
    ("GET", "/api/v1/communities/{community_id}/deliberation-settings"): Entry(
        SEES_PROPOSAL, _community(), why="the community's residents and admins over it"),
    ("PUT", "/api/v1/communities/{community_id}/deliberation-settings"): Entry(
        OVER_C1, _community({"support_threshold": 3}), why="admins over the community"),
    ("GET", "/api/v1/communities/{community_id}/budgets"): Entry(
        SEES_PROPOSAL, _community(), why="public finances of the community"),
    ("PUT", "/api/v1/communities/{community_id}/budgets/{year}"): Entry(OVER_C1, _budget,
                                                                        why="admins over the community"),
    ("GET", "/api/v1/projects"): Entry(SIGNED_IN, _project_listing, check=_lists_project_iff_sees,
                                       why="the community's residents and admins over it"),
    ("GET", "/api/v1/projects/{project_id}"): Entry(SEES_PROPOSAL, _project_req(), why="as the proposal"),
    ("POST", "/api/v1/projects/{project_id}/milestones"): Entry(
        OVER_C1, _project_req(happened_on="2026-12-20", note="施工中", amount_spent=10),
        why="admins over the community record progress"),
    ("POST", "/api/v1/projects/{project_id}/follow"): Entry({"resident_a", "resident_b"}, _project_req(),
                                                            why="residents of the community follow"),
    ("DELETE", "/api/v1/projects/{project_id}/follow"): Entry(SEES_PROPOSAL, _project_req(),
                                                              why="anyone who sees it may stop following"),
    ("POST", "/api/v1/announcements"): Entry(
        OVER_C2, lambda c: Req(json={"grid_id": c.world.c2.id, "title": "停水通知", "body": "明天停水"}),
        refused_codes={"invalid_reference"}, why="admins publish to nodes in their scope"),
    ("GET", "/api/v1/announcements"): Entry(SIGNED_IN, _notice_listing, check=_lists_notice_iff_sees,
                                            why="residents below the node, admins over it"),
    ("GET", "/api/v1/announcements/{announcement_id}"): Entry(SEES_C2_NOTICE, _notice_req,
                                                              why="residents below the node, admins over it"),
    ("POST", "/api/v1/announcements/{announcement_id}/withdraw"): Entry(OVER_C2, _fresh_notice_req,
                                                                        why="admins over the node"),
}



async def _with_json(req_awaitable, json: Any) -> Req:
    req = await req_awaitable
    return Req(path=req.path, json=json)
