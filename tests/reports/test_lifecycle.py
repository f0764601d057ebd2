"""The report state machine, as a table: every (state, action), every relation. No database."""

from __future__ import annotations

import itertools

import pytest

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotPermitted
from app.reports.lifecycle import (
    STEP_BY_ACTION,
    TRANSITIONS,
    Action,
    InvalidTransition,
    Relation,
    ReportFacts,
    State,
    allowed_actions,
    check_step,
    rating_outcome,
    relations,
)
from app.users.models import Role

GRID, OTHER_GRID = 30, 31
DEPT, OTHER_DEPT = 7, 8


def facts(state: State, **over) -> ReportFacts:
    base = dict(state=state, reporter_id=1, grid_id=GRID, grid_path="/1/2/30/", community_id=2,
                handler_department_id=DEPT, handler_user_id=None, is_public=True, hidden=False)
    base.update(over)
    return ReportFacts(**base)


ACTORS = {
    "reporter": Principal(user_id=1, role=Role.resident, community_id=2),
    "neighbour": Principal(user_id=2, role=Role.resident, community_id=2),
    "worker_in": Principal(user_id=3, role=Role.grid_worker, grid_ids=frozenset({GRID})),
    "worker_out": Principal(user_id=4, role=Role.grid_worker, grid_ids=frozenset({OTHER_GRID})),
    "dept_in": Principal(user_id=5, role=Role.department, department_id=DEPT),
    "dept_out": Principal(user_id=6, role=Role.department, department_id=OTHER_DEPT),
    "admin_in": Principal(user_id=7, role=Role.admin, scope_grid_id=2, scope_path="/1/2/"),
    "admin_out": Principal(user_id=8, role=Role.admin, scope_grid_id=9, scope_path="/1/9/"),
}

# The legal table, written out by hand (the spec), compared with the module's.
LEGAL = {
    (State.submitted, Action.accept): State.accepted,
    (State.submitted, Action.reject): State.rejected,
    (State.submitted, Action.withdraw): State.withdrawn,
    (State.accepted, Action.withdraw): State.withdrawn,
    (State.accepted, Action.dispatch): State.dispatched,
    (State.dispatched, Action.return_): State.accepted,
    (State.dispatched, Action.start): State.in_progress,
    (State.in_progress, Action.resolve): State.resolved,
    (State.submitted, Action.merge): State.merged,
    (State.accepted, Action.merge): State.merged,
    (State.resolved, Action.rate): State.closed,          # the usual outcome; see rating_outcome
    (State.resolved, Action.reopen): State.dispatched,
    (State.closed, Action.reopen): State.dispatched,
    (State.resolved, Action.auto_close): State.closed,
}
RECORDED = {  # steps that do not change the state
    Action.escalate: {State.submitted, State.accepted, State.dispatched, State.in_progress},
    Action.supervise: {State.accepted, State.dispatched, State.in_progress},
    Action.request_extension: {State.dispatched, State.in_progress},
    Action.extend: {State.dispatched, State.in_progress},
    Action.hide: set(State), Action.unhide: set(State), Action.hide_photo: set(State),
}


def test_transition_table_is_exactly_the_spec():
    got = {k: v.to for k, v in TRANSITIONS.items() if v.to is not None}
    assert got == LEGAL
    for action, states in RECORDED.items():
        assert {s for (s, a), step in TRANSITIONS.items() if a is action} == states
        assert STEP_BY_ACTION[action].to is None


@pytest.mark.parametrize(("state", "action"), list(itertools.product(State, Action)))
def test_every_illegal_step_is_a_409_for_a_permitted_actor(state, action):
    step = STEP_BY_ACTION[action]
    if not step.who:  # taken by the system only (auto_close): no principal may, in any state
        with pytest.raises(NotPermitted):
            check_step(action, ACTORS["admin_in"], facts(state), frozenset(step.needs))
        return
    # pick an actor that has the needed relation, so only the state can make it illegal
    actor = {Relation.reporter: "reporter", Relation.grid_keeper: "worker_in", Relation.scope_admin: "admin_in",
             Relation.handler: "dept_in", Relation.dept_handler: "dept_in"}[sorted(step.who)[0]]
    f = facts(state, hidden=(action is Action.unhide))
    given = frozenset(step.needs)
    if (state, action) in TRANSITIONS:
        assert check_step(action, ACTORS[actor], f, given) is step
    else:
        with pytest.raises(InvalidTransition):
            check_step(action, ACTORS[actor], f, given)


ALLOWED_ACTORS = {
    Action.accept: {"worker_in", "admin_in"},
    Action.reject: {"worker_in", "admin_in"},
    Action.withdraw: {"reporter"},
    Action.dispatch: {"worker_in", "admin_in"},
    Action.return_: {"dept_in"},
    Action.start: {"dept_in"},
    Action.resolve: {"dept_in"},
    Action.merge: {"worker_in", "admin_in"},
    Action.escalate: {"worker_in", "admin_in"},
    Action.supervise: {"admin_in"},
    Action.request_extension: {"dept_in"},
    Action.extend: {"admin_in"},
    Action.hide: {"admin_in"},
    Action.unhide: {"admin_in"},
    Action.hide_photo: {"admin_in"},
    Action.rate: {"reporter"},
    Action.reopen: {"admin_in"},
    Action.auto_close: set(),
}


@pytest.mark.parametrize(("action", "actor"), list(itertools.product(Action, ACTORS)))
def test_who_may_take_each_step(action, actor):
    step = STEP_BY_ACTION[action]
    state = sorted(step.sources)[0]
    f = facts(state, hidden=(action is Action.unhide))
    if actor in ALLOWED_ACTORS[action]:
        check_step(action, ACTORS[actor], f, frozenset(step.needs))
    else:
        with pytest.raises(NotPermitted):
            check_step(action, ACTORS[actor], f, frozenset(step.needs))


def test_a_grid_worker_keeping_a_report_is_its_handler_but_cannot_return_it():
    f = facts(State.dispatched, handler_department_id=None, handler_user_id=3)
    assert Relation.handler in relations(ACTORS["worker_in"], f)
    check_step(Action.start, ACTORS["worker_in"], f)
    with pytest.raises(NotPermitted):
        check_step(Action.return_, ACTORS["worker_in"], f, frozenset({"note"}))
    with pytest.raises(NotPermitted):  # the department is no longer the handler
        check_step(Action.start, ACTORS["dept_in"], f)


def test_missing_needs_are_422():
    with pytest.raises(InvalidInput):
        check_step(Action.reject, ACTORS["worker_in"], facts(State.submitted))
    with pytest.raises(InvalidInput):
        check_step(Action.extend, ACTORS["admin_in"], facts(State.dispatched), frozenset({"note"}))


def test_hide_needs_a_visible_public_report_and_unhide_a_hidden_one():
    with pytest.raises(InvalidTransition):
        check_step(Action.hide, ACTORS["admin_in"], facts(State.accepted, is_public=False), frozenset({"note"}))
    with pytest.raises(InvalidTransition):
        check_step(Action.hide, ACTORS["admin_in"], facts(State.accepted, hidden=True), frozenset({"note"}))
    with pytest.raises(InvalidTransition):
        check_step(Action.unhide, ACTORS["admin_in"], facts(State.accepted))


def test_allowed_actions_match_check_step():
    for state, actor in itertools.product(State, ACTORS):
        f = facts(state)
        listed = set(allowed_actions(ACTORS[actor], f))
        for action in Action:
            try:
                check_step(action, ACTORS[actor], f, frozenset(STEP_BY_ACTION[action].needs))
                ok = True
            except (NotPermitted, InvalidTransition):
                ok = False
            assert (action in listed) == ok, (state, actor, action)


@pytest.mark.parametrize(("stars", "reopens", "limit", "expected"), [
    (5, 0, 2, State.closed), (4, 0, 2, State.closed), (3, 0, 2, State.closed),   # 3 closes (not satisfied)
    (2, 0, 2, State.dispatched), (1, 1, 2, State.dispatched),                    # 差评 → 重办
    (1, 2, 2, State.accepted), (2, 5, 2, State.accepted),                        # too many: to the admins
    (1, 0, 0, State.accepted), (5, 9, 2, State.closed),
])
def test_rating_outcome(stars, reopens, limit, expected):
    assert rating_outcome(stars, reopens, limit) is expected
