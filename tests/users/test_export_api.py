"""GET /api/v1/me/export (issue 21 item 4): a resident with data in every domain gets all of it, as one document
with a schema, and nothing about anyone else."""

from __future__ import annotations

import json
from typing import Any

from app.openapi import current_openapi
from tests.factories import PASSWORD
from tests.helpers import assert_error
from tests.users.scenario import A_COMMENT, B_COMMENT, ERRAND_NOTE, FAMILY_MEMBER, build

URL = "/api/v1/me/export"
# keys that would name another person; none may appear anywhere in an export
OTHER_PERSON_KEYS = {"actor", "actor_id", "actor_name", "user_id", "rater_id", "author", "author_id", "reporter",
                     "reporter_id", "handler_user_id", "decided_by_id", "created_by_id", "confirmed_by_id",
                     "awarded_by_id", "filed_by_id", "option_id", "choice", "ballot", "display_names"}


def _keys(value: Any) -> set[str]:
    out: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            out.update(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


async def test_export_holds_every_domain_and_nobody_else(app, client, world):
    await client.patch("/api/v1/me", headers=world.headers("resident_b"), json={"display_name": "邻居李四"})
    s = await build(app, client, world)
    signed_in = await client.post("/api/v1/auth/token", data={"username": world.users["resident_a"].phone,
                                                               "password": PASSWORD})
    assert signed_in.status_code == 200
    resp = await client.get(URL, headers=world.headers("resident_a"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    me = world.users["resident_a"]

    assert out["format_version"] == 1 and out["generated_at"]
    profile = out["profile"]
    assert (profile["id"], profile["phone"], profile["display_name"]) == (me.id, me.phone, me.display_name)
    assert (profile["building_id"], profile["building_name"], profile["community_id"]) == \
        (world.b1.id, "1号楼", world.c1.id)

    # reports, their timelines as the reporter sees them (no internal note), photos, ratings
    reports = {r["id"]: r for r in out["reports"]}
    assert set(reports) == {s.private_report["id"], s.public_report["id"]}
    private = reports[s.private_report["id"]]
    assert private["is_public"] is False and private["address"] == "1号楼3单元301"
    assert private["photo_ids"] == [s.private_photo]
    steps = private["timeline"]
    assert [e["action"] for e in steps] == ["submit", "accept", "dispatch", "start", "resolve", "rate"]
    assert [e["by_me"] for e in steps] == [True, False, False, False, False, True]
    assert steps[1]["actor_role"] == "grid_worker" and steps[3]["actor_role"] == "department"
    assert steps[1]["note"] == "已受理" and steps[2]["note"] is None  # the internal dispatch note stays internal
    assert reports[s.public_report["id"]]["photo_ids"] == [s.public_photo]
    assert [(r["report_id"], r["stars"], r["comment"]) for r in out["ratings"]] == \
        [(s.private_report["id"], 4, "处理及时")]
    assert out["followed_reports"] == []  # resident_b follows; that is resident_b's data
    assert sorted(u["id"] for u in out["uploads"]) == sorted([s.private_photo, s.public_photo])
    assert all(u["url"] == f"/api/v1/uploads/{u['id']}" for u in out["uploads"])

    # bookings with the family member and the errand note, memberships, signups
    bookings = {b["id"]: b for b in out["bookings"]}
    assert set(bookings) == {s.booking["id"], s.errand["id"]}
    assert bookings[s.booking["id"]]["for_family_member"] == FAMILY_MEMBER
    assert bookings[s.booking["id"]]["status"] == "booked" and bookings[s.booking["id"]]["slot_id"] == s.slot
    assert bookings[s.errand["id"]]["note"] == ERRAND_NOTE and bookings[s.errand["id"]]["service_kind"] == "errand"
    assert [e["action"] for e in bookings[s.booking["id"]]["events"]] == ["book"]
    assert [(m["group_id"], m["status"]) for m in out["group_memberships"]] == [(s.group["id"], "active")]
    assert [(a["activity_id"], a["status"]) for a in out["activity_signups"]] == [(s.activity["id"], "signed_up")]

    # points: the account, every ledger entry, the redemption
    points = out["points"]
    assert [(a["community_id"], a["balance"]) for a in points["accounts"]] == [(world.c1.id, 40)]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in points["ledger"]] == \
        [("adjust", 50, 50), ("redeem", -10, 40)]
    assert [(r["id"], r["status"], r["cost"]) for r in points["redemptions"]] == \
        [(s.redemption["id"], "requested", 10)]

    # deliberation: my proposal with its timeline, my comment only, that I voted (not how)
    assert [(p["id"], p["support_count"]) for p in out["proposals"]] == [(s.proposal["id"], 1)]
    assert [e["action"] for e in out["proposals"][0]["timeline"]][:2] == ["create", "put_on_agenda"]
    assert out["proposal_supports"] == []
    assert [(c["id"], c["body"]) for c in out["comments"]] == [(s.a_comment["id"], A_COMMENT)]
    ballots = out["ballots"]
    assert len(ballots) == 1 and ballots[0]["proposal_id"] == s.proposal["id"] and ballots[0]["vote_closes_at"]
    assert set(ballots[0]) == {"vote_id", "proposal_id", "proposal_title", "vote_closes_at"}

    assert out["followed_projects"] == []
    assert [a["address"] for a in out["sign_in_addresses"]] == ["127.0.0.1"]
    assert out["notifications"] and all(n["title"] and n["link"] for n in out["notifications"])
    assert {"report.accepted"} <= {n["type"] for n in out["notifications"]}
    assert [c["notice_version"] for c in out["consents"]] == [world.settings.privacy_notice_version]

    # nobody else: no names, phones or ids of other people, not even the neighbour's comment on my proposal
    text = resp.text
    for name, user in world.users.items():
        if name != "resident_a":
            assert user.phone not in text, name
            assert user.display_name not in text, name
    assert "邻居李四" not in text and B_COMMENT not in text
    assert _keys(out) & OTHER_PERSON_KEYS == set()


async def test_export_of_someone_with_nothing_is_complete_and_empty(client, world):
    out = (await client.get(URL, headers=world.headers("resident_c"))).json()
    empty = {k for k, v in out.items() if v == []}
    assert empty == {"reports", "ratings", "followed_reports", "uploads", "bookings", "group_memberships",
                     "activity_signups", "proposals", "proposal_supports", "comments", "ballots", "notifications",
                     "followed_projects", "sign_in_addresses"}
    assert len(out["consents"]) == 1  # the test world's residents accepted the notice
    assert out["points"] == {"accounts": [], "ledger": [], "redemptions": []}


async def test_export_needs_a_token_and_has_a_schema(client, world):
    assert_error(await client.get(URL), 401)
    op = current_openapi()["paths"][URL]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/UserExport")
    schema = current_openapi()["components"]["schemas"]["UserExport"]
    assert set(schema["required"]) >= {"profile", "reports", "bookings", "points", "ballots", "consents"}
    staff = (await client.get(URL, headers=world.headers("worker_in"))).json()
    assert staff["profile"]["role"] == "grid_worker" and staff["reports"] == []
    json.dumps(staff)
