"""Authorization-matrix entries of groups, activities and points (issue 16), merged into MATRIX by
tests/quality/authz_matrix.py.

Objects: groups and activities live in community 1 (resident_a leads, resident_b is the neighbour who may join);
points administration objects (rewards, pact items, redemptions) live in community 2 like the other admin
objects of the matrix (admin_c2 and admin_street may, admin_c1 must be refused); resident_c redeems there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.quality.authz_matrix import OVER_C1, OVER_C2, SIGNED_IN, Ctx, Entry, Req

C1_RESIDENTS = frozenset({"resident_a", "resident_b"})
SEES_C1 = C1_RESIDENTS | OVER_C1
SEES_C2 = frozenset({"resident_c"}) | OVER_C2
RESIDENTS = frozenset({"resident_a", "resident_b", "resident_c"})
G = "/api/v1/groups"
A = "/api/v1/activities"
P = "/api/v1/points"


async def _call(c: Ctx, method: str, url: str, who: str, json: Any = None) -> dict[str, Any]:
    resp = await c.client.request(method, url, headers=c.world.headers(who), json=json)
    assert 200 <= resp.status_code < 300, (url, resp.text)
    return resp.json()


async def _group(c: Ctx, *, join_policy: str = "open", leader: bool = True) -> dict[str, Any]:
    """A fresh active group of community 1 led by resident_a."""
    return await _call(c, "POST", G, "admin_c1", {
        "community_id": c.world.c1.id, "kind": "interest", "name": c.unique("合唱团"), "join_policy": join_policy,
        "leader_ids": [c.world.users["resident_a"].id] if leader else []})


async def _shared_group(c: Ctx) -> dict[str, Any]:
    return await c.once("group", lambda: _group(c))


def _uid(c: Ctx, who: str) -> int:
    return c.world.users[who].id


async def _group_path(c: Ctx) -> Req:
    return Req(path={"group_id": (await _shared_group(c))["id"]})


async def _patch_group(c: Ctx) -> Req:
    g = await _group(c)
    return Req(path={"group_id": g["id"]}, json={"expected_version": g["version"], "description": "新的简介"})


async def _approve_proposal(c: Ctx) -> Req:
    g = await _call(c, "POST", G, "resident_a", {"kind": "interest", "name": c.unique("提议")})
    return Req(path={"group_id": g["id"]}, json={"action": "approve", "expected_version": g["version"]})


async def _join(c: Ctx) -> Req:
    return Req(path={"group_id": (await c.once("open", lambda: _group(c, leader=False)))["id"]})


async def _leave(c: Ctx) -> Req:
    async def make() -> dict[str, Any]:
        g = await _group(c, leader=False)
        for who in ("resident_a", "resident_b"):
            await _call(c, "POST", f"{G}/{g['id']}/join", who)
        return g
    return Req(path={"group_id": (await c.once("members", make))["id"]})


async def _application(c: Ctx) -> Req:
    g = await _group(c, join_policy="approval")
    await _call(c, "POST", f"{G}/{g['id']}/join", "resident_b")
    return Req(path={"group_id": g["id"], "user_id": _uid(c, "resident_b")}, json={"approve": True})


async def _invitation(c: Ctx) -> Req:
    g = await _group(c, join_policy="invite")
    return Req(path={"group_id": g["id"]}, json={"user_id": _uid(c, "resident_b")})


async def _removal(c: Ctx) -> Req:
    g = await _group(c)
    await _call(c, "POST", f"{G}/{g['id']}/join", "resident_b")
    return Req(path={"group_id": g["id"], "user_id": _uid(c, "resident_b")}, json={"reason": "违反群规"})


async def _appoint(c: Ctx) -> Req:
    return Req(path={"group_id": (await _shared_group(c))["id"], "user_id": _uid(c, "resident_b")})


async def _dismiss(c: Ctx) -> Req:
    return Req(path={"group_id": (await _group(c))["id"], "user_id": _uid(c, "resident_a")})


async def _post_notice(c: Ctx) -> Req:
    return Req(path={"group_id": (await _shared_group(c))["id"]}, json={"title": "周六排练", "body": "九点活动室"})


def _lists_id_iff(key: str, allowed: frozenset[str]):
    def check(c: Ctx, resp: httpx.Response) -> None:
        listed = c.shared[key]["id"] in {x["id"] for x in resp.json()["items"]}
        assert listed == (c.actor in allowed), f"{c.actor}: {key} listed={listed}"
    return check


async def _listing_group(c: Ctx) -> Req:
    await _shared_group(c)
    return Req()


# ---- activities --------------------------------------------------------------------------------------------


def _later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _activity_body(community_id: int, volunteer: bool = False) -> dict[str, Any]:
    return {"community_id": community_id, "title": "楼道清洁", "place": "3号楼", "starts_at": _later(48),
            "ends_at": _later(50), "capacity": 20, "is_volunteer_service": volunteer}


async def _activity(c: Ctx, volunteer: bool = False) -> dict[str, Any]:
    return await _call(c, "POST", A, "admin_c1", _activity_body(c.world.c1.id, volunteer))


async def _shared_activity(c: Ctx) -> dict[str, Any]:
    return await c.once("activity", lambda: _activity(c))


async def _activity_path(c: Ctx) -> Req:
    return Req(path={"activity_id": (await _shared_activity(c))["id"]})


async def _cancel_activity(c: Ctx) -> Req:
    a = await _activity(c)
    return Req(path={"activity_id": a["id"]}, json={"expected_version": a["version"], "reason": "天气原因"})


async def _signed_up(c: Ctx) -> Req:
    async def make() -> dict[str, Any]:
        a = await _activity(c)
        for who in ("resident_a", "resident_b"):
            await _call(c, "POST", f"{A}/{a['id']}/signup", who)
        return a
    return Req(path={"activity_id": (await c.once("signed", make))["id"]})


async def _participant(c: Ctx, volunteer: bool) -> dict[str, Any]:
    a = await _activity(c, volunteer)
    await _call(c, "POST", f"{A}/{a['id']}/signup", "resident_a")
    return a


async def _check_in(c: Ctx) -> Req:
    a = await c.once("participant", lambda: _participant(c, False))
    return Req(path={"activity_id": a["id"], "user_id": _uid(c, "resident_a")})


async def _hours(c: Ctx) -> Req:
    async def make() -> dict[str, Any]:
        a = await _participant(c, True)
        await _call(c, "POST", f"{A}/{a['id']}/signups/{_uid(c, 'resident_a')}/check-in", "admin_c1")
        return a
    a = await c.once("volunteer", make)
    return Req(path={"activity_id": a["id"], "user_id": _uid(c, "resident_a")}, json={"hours": 2})


async def _listing_activity(c: Ctx) -> Req:
    await _shared_activity(c)
    return Req()


# ---- points ------------------------------------------------------------------------------------------------


async def _reward(c: Ctx, stock: int = 50) -> dict[str, Any]:
    return await _call(c, "POST", f"{P}/rewards", "admin_c2", {"community_id": c.world.c2.id, "name": "洗车券",
                                                               "cost": 1, "stock": stock})


async def _shared_reward(c: Ctx) -> dict[str, Any]:
    return await c.once("reward", lambda: _reward(c))


async def _reward_path(c: Ctx) -> Req:
    return Req(path={"reward_id": (await _shared_reward(c))["id"]})


async def _patch_reward(c: Ctx) -> Req:
    r = await _reward(c)
    return Req(path={"reward_id": r["id"]}, json={"expected_version": r["version"], "add_stock": 5})


async def _fund_resident_c(c: Ctx) -> None:
    await _call(c, "POST", f"{P}/adjustments", "admin_c2", {
        "user_id": _uid(c, "resident_c"), "community_id": c.world.c2.id, "amount": 100, "reason": "测试"})


async def _redeem(c: Ctx) -> Req:
    await c.once("funded", lambda: _fund_resident_c(c))
    return await _reward_path(c)


async def _redemption(c: Ctx, action: str) -> Req:
    await c.once("funded", lambda: _fund_resident_c(c))
    r = await _shared_reward(c)
    d = await _call(c, "POST", f"{P}/rewards/{r['id']}/redeem", "resident_c")
    return Req(path={"redemption_id": d["id"]}, json={"action": action, "expected_version": d["version"]})


async def _pact_item(c: Ctx) -> dict[str, Any]:
    return await _call(c, "POST", f"{P}/pact-items", "admin_c2", {"community_id": c.world.c2.id,
                                                                  "name": "邻里互助", "points": 3})


async def _listing_reward(c: Ctx) -> Req:
    await _shared_reward(c)
    return Req()


def _c1(c: Ctx, **extra: Any) -> Req:
    return Req(params={"community_id": c.world.c1.id, **extra})


_MONTH = {"period": "month", "year": 2026, "number": 12}

ENTRIES: dict[tuple[str, str], Entry | tuple[Entry, ...]] = {
    # groups (community 1; resident_a leads)
    ("POST", G): Entry(
        {"resident_a", "resident_b", "resident_c"} - C1_RESIDENTS | OVER_C2,
        lambda c: Req(json={"community_id": c.world.c2.id, "kind": "interest", "name": c.unique("社群")}),
        refused_codes={"invalid_reference"},
        why="admins create in their scope; residents propose in their own community"),
    ("GET", G): Entry(SIGNED_IN, _listing_group, check=_lists_id_iff("group", SEES_C1),
                      why="residents see their community's groups, admins their scope's"),
    ("GET", G + "/{group_id}"): Entry(SEES_C1, _group_path, why="the community's residents and admins"),
    ("PATCH", G + "/{group_id}"): Entry({"resident_a"} | OVER_C1, _patch_group, why="leaders and admins"),
    ("POST", G + "/{group_id}/steps"): Entry(OVER_C1, _approve_proposal, why="admins decide proposals"),
    ("POST", G + "/{group_id}/join"): Entry(C1_RESIDENTS, _join, why="residents of the community join"),
    ("POST", G + "/{group_id}/leave"): Entry(C1_RESIDENTS, _leave, why="only members leave"),
    ("GET", G + "/{group_id}/members"): Entry({"resident_a"} | OVER_C1, _group_path,
                                              why="members and staff only"),
    ("POST", G + "/{group_id}/applications/{user_id}"): Entry({"resident_a"} | OVER_C1, _application,
                                                              why="leaders and admins decide applications"),
    ("POST", G + "/{group_id}/invitations"): Entry({"resident_a"} | OVER_C1, _invitation,
                                                   why="leaders and admins invite"),
    ("POST", G + "/{group_id}/members/{user_id}/remove"): Entry({"resident_a"} | OVER_C1, _removal,
                                                                why="leaders and admins remove"),
    ("PUT", G + "/{group_id}/leaders/{user_id}"): Entry(OVER_C1, _appoint, why="admins appoint leaders"),
    ("DELETE", G + "/{group_id}/leaders/{user_id}"): Entry(OVER_C1, _dismiss, why="admins dismiss leaders"),
    ("POST", G + "/{group_id}/notices"): Entry({"resident_a"} | OVER_C1, _post_notice, why="leaders post"),
    ("GET", G + "/{group_id}/notices"): Entry({"resident_a"} | OVER_C1, _group_path, why="members and staff"),

    # activities (community 1, organised by admin_c1)
    ("POST", A): Entry(OVER_C2, lambda c: Req(json=_activity_body(c.world.c2.id)),
                       refused_codes={"invalid_reference"}, why="community activities: its admins"),
    ("GET", A): Entry(SIGNED_IN, _listing_activity, check=_lists_id_iff("activity", SEES_C1),
                      why="the community's residents and admins"),
    ("GET", A + "/{activity_id}"): Entry(SEES_C1, _activity_path, why="the community's residents and admins"),
    ("POST", A + "/{activity_id}/cancel"): Entry(OVER_C1, _cancel_activity, why="organisers and admins"),
    ("POST", A + "/{activity_id}/signup"): Entry(C1_RESIDENTS, _activity_path, why="residents of the community"),
    ("DELETE", A + "/{activity_id}/signup"): Entry(C1_RESIDENTS, _signed_up, why="those signed up"),
    ("GET", A + "/{activity_id}/signups"): Entry(OVER_C1, _activity_path, why="organisers and admins"),
    ("POST", A + "/{activity_id}/signups/{user_id}/check-in"): Entry(OVER_C1, _check_in,
                                                                     why="organisers and admins"),
    ("POST", A + "/{activity_id}/signups/{user_id}/hours"): Entry(OVER_C1, _hours, why="organisers and admins"),

    # points: a resident's own account; administration objects in community 2
    ("GET", P + "/me"): Entry(RESIDENTS, why="one's own points"),
    ("GET", P + "/me/entries"): Entry(RESIDENTS, why="one's own history"),
    ("PUT", P + "/me/publication"): Entry(RESIDENTS, lambda c: Req(json={"hide_from_ranking": True}),
                                          why="one's own choice"),
    ("GET", P + "/ranking"): Entry(SEES_C1, lambda c: _c1(c, **_MONTH), why="the community and its admins"),
    ("GET", P + "/rules"): Entry(SEES_C1, _c1, why="the community and its admins"),
    ("PUT", P + "/rules"): Entry(OVER_C2, lambda c: Req(json={"community_id": c.world.c2.id,
                                                              "points_per_hour": 10}),
                                 refused_codes={"invalid_reference"}, why="admins over the community"),
    ("POST", P + "/pact-items"): Entry(OVER_C2, lambda c: Req(json={"community_id": c.world.c2.id, "name": "示范户",
                                                                    "points": 5}),
                                       refused_codes={"invalid_reference"}, why="admins over the community"),
    ("PATCH", P + "/pact-items/{pact_item_id}"): Entry(
        OVER_C2, lambda c: _pact_item_patch(c), why="admins over the community"),
    ("POST", P + "/pact-awards"): Entry(OVER_C2, lambda c: _pact_award(c), refused_codes={"invalid_reference"},
                                        why="admins over the item's community"),
    ("POST", P + "/adjustments"): Entry(
        OVER_C2, lambda c: Req(json={"user_id": _uid(c, "resident_c"), "community_id": c.world.c2.id, "amount": 5,
                                     "reason": "补录"}),
        refused_codes={"invalid_reference"}, why="admins over the community"),
    ("POST", P + "/rewards"): Entry(
        OVER_C2, lambda c: Req(json={"community_id": c.world.c2.id, "name": "早餐券", "cost": 5, "stock": 3}),
        refused_codes={"invalid_reference"}, why="admins over the community"),
    ("GET", P + "/rewards"): Entry(SIGNED_IN, _listing_reward, check=_lists_id_iff("reward", SEES_C2),
                                   why="the community's residents and admins"),
    ("GET", P + "/rewards/{reward_id}"): Entry(SEES_C2, _reward_path, why="the community's residents and admins"),
    ("PATCH", P + "/rewards/{reward_id}"): Entry(OVER_C2, _patch_reward, why="admins over the community"),
    ("POST", P + "/rewards/{reward_id}/redeem"): Entry({"resident_c"}, _redeem, why="residents of the community"),
    ("GET", P + "/redemptions"): Entry(SIGNED_IN, why="one's own, or an admin's scope"),
    ("POST", P + "/redemptions/{redemption_id}/steps"): (
        Entry(OVER_C2, lambda c: _redemption(c, "fulfil"), why="admins fulfil"),
        Entry({"resident_c"} | OVER_C2, lambda c: _redemption(c, "cancel"), why="the resident or admins cancel"),
    ),
}


async def _pact_item_patch(c: Ctx) -> Req:
    item = await c.once("pact", lambda: _pact_item(c))
    return Req(path={"pact_item_id": item["id"]}, json={"points": 4})


async def _pact_award(c: Ctx) -> Req:
    item = await c.once("pact", lambda: _pact_item(c))
    return Req(json={"pact_item_id": item["id"], "user_id": _uid(c, "resident_c"), "note": "帮助邻居"})
