"""Deliberation test helpers: walk a proposal through the real API, move windows into the past, run the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.deliberation import results
from app.deliberation.models import Proposal, Vote
from app.users.models import Role
from tests.factories import World, make_user

BASE = "/api/v1/proposals"


def soon(**kw) -> str:
    return (datetime.now(UTC) + timedelta(**kw)).isoformat()


async def raise_proposal(client, world: World, who: str = "resident_a", **fields) -> dict:
    body = {"title": fields.pop("title", "加装电梯"), "body": "1号楼老人多，上下楼困难", **fields}
    resp = await client.post(BASE, headers=world.headers(who), json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def step(client, world: World, who: str, prop: dict, action: str, **extra) -> dict:
    resp = await client.post(f"{BASE}/{prop['id']}/steps", headers=world.headers(who),
                             json={"action": action, "expected_version": prop["version"], **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def plan(cost: int | None = None) -> dict:
    out = {"text": "在1号楼加装电梯，费用由专项资金承担", "notice_starts_at": soon(minutes=-1),
           "notice_ends_at": soon(days=7)}
    if cost is not None:
        out["cost"] = cost
    return out


async def end_notice(app, proposal_id: int) -> None:
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Proposal).where(Proposal.id == proposal_id)
                        .values(notice_ends_at=datetime.now(UTC) - timedelta(seconds=1)))


async def close_vote(app, proposal_id: int) -> None:
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Vote).where(Vote.proposal_id == proposal_id)
                        .values(opens_at=datetime.now(UTC) - timedelta(hours=2),
                                closes_at=datetime.now(UTC) - timedelta(seconds=1)))


async def run_results(app, settings) -> int:
    async with app.state.db.session(write=True) as s:
        return await results.publish_due_results(s, settings, datetime.now(UTC))


async def to_voting(app, client, world: World, *, vote: dict | None = None, cost: int | None = None,
                    who: str = "resident_a") -> dict:
    """A proposal of `who`, put on the agenda, planned, noticed, and in a vote (yes/no, the community, 1 hour)."""
    prop = await raise_proposal(client, world, who)
    prop = await step(client, world, "admin_c1", prop, "put_on_agenda")
    prop = await step(client, world, "admin_c1", prop, "publish_plan", plan=plan(cost))
    await end_notice(app, prop["id"])
    return await step(client, world, "admin_c1", prop, "open_vote",
                      vote=vote or {"closes_at": soon(hours=1)})


async def residents(app, world: World, building, n: int, start: int = 100) -> list[str]:
    """n more residents in `building`, registered in world.users as r<start+i>; their names."""
    names = []
    async with app.state.db.session(write=True) as s:
        for i in range(n):
            name = f"r{start + i}"
            world.users[name] = await make_user(s, world.settings, Role.resident, start + i,
                                                building_id=building.id)
            names.append(name)
    return names
