"""A secret ballot cannot be linked to its voter: not in the tables, not in any answer of the API, to anyone."""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import select

from app.db.models import Base
from app.deliberation.models import VoteElector
from tests.deliberation.helpers import BASE, close_vote, run_results, to_voting
from tests.quality.authz_matrix import ACTORS, entries, openapi_operations

CHOICE_KEYS = {"option_id", "option_key", "choice", "ballot", "ballots"}
PERSON_KEYS = {"voter", "user_id", "actor", "author", "proposer", "voter_id", "actor_id"}


def _pairs(value, path="$"):
    """Objects that hold a person and a choice side by side."""
    found = []
    if isinstance(value, dict):
        if set(value) & CHOICE_KEYS and set(value) & PERSON_KEYS:
            found.append(path)
        for k, v in value.items():
            found += _pairs(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _pairs(v, f"{path}[{i}]")
    return found


async def test_no_table_and_no_answer_links_a_secret_ballot_to_its_voter(app, client, world, settings):
    prop = await to_voting(app, client, world)
    pid = prop["id"]
    vote = (await client.get(f"{BASE}/{pid}/vote", headers=world.headers("resident_a"))).json()
    opts = {o["key"]: o["id"] for o in vote["options"]}
    answers = [await client.post(f"{BASE}/{pid}/vote/ballots", headers=world.headers("resident_a"),
                                 json={"option_id": opts["yes"]}),
               await client.post(f"{BASE}/{pid}/vote/ballots", headers=world.headers("resident_b"),
                                 json={"option_id": opts["no"]})]
    await close_vote(app, pid)
    await run_results(app, settings)

    # the tables: the roll knows who voted, never how; the only table pointing at an option from a person is the
    # roll, and for a secret vote it is empty there
    refs = {(t.name, fk.parent.name) for t in Base.metadata.sorted_tables for fk in t.foreign_keys
            if fk.column.table.name == "vote_options"}
    assert refs == {("vote_electors", "option_id")}
    async with app.state.db.session(write=False) as s:
        roll = (await s.execute(select(VoteElector.user_id, VoteElector.voted, VoteElector.option_id))).all()
    assert {r.option_id for r in roll} == {None} and sum(r.voted for r in roll) == 2
    assert not any("time" in c.name or c.name.endswith("_at") for c in VoteElector.__table__.c)

    # every GET of the API (and the ballots' own answers), as every actor: no person beside a choice, and no
    # answer that tells resident_a's choice apart from resident_b's
    params = {"proposal_id": pid, "project_id": 1, "community_id": world.c1.id, "announcement_id": 1,
              "notification_id": 1, "comment_id": 1, "report_id": 1, "upload_id": 1, "grid_id": world.c1.id,
              "user_id": world.users["resident_a"].id, "department_id": world.d1.id, "category_id": world.cat.id}
    gets = [p for m, p in openapi_operations() if m == "GET" and not p.endswith(".csv") and "photos" not in p
            and not any(e.endless for e in entries((m, p)))]  # a live stream never ends (its events: inbox items)
    bodies = [a.json() for a in answers]
    for actor in ACTORS:
        headers = {} if actor == "anonymous" else world.headers(actor)
        for path in gets:
            resp = await client.get(path.format_map(defaultdict(lambda: 1, params)), headers=headers)
            if resp.headers.get("content-type", "").startswith("application/json"):
                bodies.append(resp.json())
    assert bodies and not [p for b in bodies for p in _pairs(b)]
    text = json.dumps(bodies, ensure_ascii=False)
    assert '"open_ballots": [' not in text
    assert answers[0].json().keys() == answers[1].json().keys() == {"voted", "ballots_cast"}
