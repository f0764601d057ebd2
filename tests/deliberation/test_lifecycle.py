"""The proposal state machine and the policies, table-tested without a database."""

from __future__ import annotations

import pytest

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotPermitted
from app.deliberation import policies
from app.deliberation.lifecycle import (
    STEPS,
    TRANSITIONS,
    Action,
    InvalidTransition,
    ProposalFacts,
    State,
    allowed_actions,
    check_step,
)
from app.users.roles import Role

PATH = "/1/2/"
PROPOSER = Principal(user_id=10, role=Role.resident, community_id=2)
NEIGHBOUR = Principal(user_id=11, role=Role.resident, community_id=2)
OUTSIDER = Principal(user_id=12, role=Role.resident, community_id=3)
ADMIN = Principal(user_id=13, role=Role.admin, scope_grid_id=2, scope_path=PATH)


def facts(state: State) -> ProposalFacts:
    return ProposalFacts(state=state, proposer_id=10, community_id=2, community_path=PATH)


# the glossary's six steps, pinned: (from, action) -> to
EXPECTED = {
    (State.open, Action.put_on_agenda): State.on_agenda, (State.open, Action.reach_threshold): State.on_agenda,
    (State.open, Action.decline): State.declined, (State.on_agenda, Action.decline): State.declined,
    (State.open, Action.withdraw): State.withdrawn, (State.on_agenda, Action.withdraw): State.withdrawn,
    (State.on_agenda, Action.publish_plan): State.in_notice, (State.in_notice, Action.open_vote): State.voting,
    (State.voting, Action.decide): State.decided,
}


def test_the_table_is_the_spec():
    assert {k: v.to for k, v in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.action)
@pytest.mark.parametrize("state", list(State))
def test_every_state_and_action(step, state):
    council = step.action not in (Action.withdraw,)
    who = PROPOSER if step.action is Action.withdraw else ADMIN
    needs = frozenset(step.needs)
    if not step.who:  # the system's own steps: no person may take them
        with pytest.raises(NotPermitted):
            check_step(step.action, who, facts(state), council, needs)
    elif (state, step.action) in TRANSITIONS:
        assert check_step(step.action, who, facts(state), council, needs).to is step.to
    else:
        with pytest.raises(InvalidTransition):
            check_step(step.action, who, facts(state), council, needs)


def test_no_relation_is_403_before_the_state_is_looked_at():
    with pytest.raises(NotPermitted):
        check_step(Action.put_on_agenda, NEIGHBOUR, facts(State.decided), council=False)
    with pytest.raises(NotPermitted):
        check_step(Action.withdraw, NEIGHBOUR, facts(State.open), council=False)


def test_missing_fields_are_422():
    with pytest.raises(InvalidInput):
        check_step(Action.decline, ADMIN, facts(State.open), council=True)


def test_allowed_actions():
    assert allowed_actions(ADMIN, facts(State.open), True) == [Action.put_on_agenda, Action.decline]
    assert allowed_actions(PROPOSER, facts(State.open), False) == [Action.withdraw]
    assert allowed_actions(NEIGHBOUR, facts(State.open), False) == []


@pytest.mark.parametrize(("who", "council", "sees", "supports"), [
    (PROPOSER, False, True, False), (NEIGHBOUR, False, True, True), (OUTSIDER, False, False, False),
    (ADMIN, True, True, False),
])
def test_who_sees_and_supports(who, council, sees, supports):
    f = facts(State.open)
    assert policies.can_see(who, f, council) is sees
    assert policies.can_support(who, f) is supports


def test_eligibility_reasons():
    assert policies.ineligibility(NEIGHBOUR, True, True) is None
    assert policies.ineligibility(NEIGHBOUR, False, False) is policies.Ineligible.outside_electorate
    assert policies.ineligibility(NEIGHBOUR, False, True) is policies.Ineligible.joined_after_opening
    assert policies.ineligibility(ADMIN, False, False) is policies.Ineligible.not_a_resident


def test_hidden_comments_show_to_their_author_and_the_council_only():
    assert policies.sees_hidden_comment(NEIGHBOUR, 11, False)
    assert not policies.sees_hidden_comment(PROPOSER, 11, False)
    assert policies.sees_hidden_comment(ADMIN, 11, True)
    assert policies.can_hide_comment(ADMIN, True) and not policies.can_hide_comment(NEIGHBOUR, False)
