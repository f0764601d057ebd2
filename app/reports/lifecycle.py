"""The report state machine: one table, pure Python, no database.

`TRANSITIONS[(state, action)]` gives the Step; `check_step` decides who may take it (role *and* relation to
the report) and what it needs. `reports.service.take_step` is the only code that applies a Step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotPermitted
from app.users.roles import Role


class State(StrEnum):
    submitted = "submitted"      # 待受理
    accepted = "accepted"        # 受理
    rejected = "rejected"        # 不予受理
    withdrawn = "withdrawn"      # 撤回
    dispatched = "dispatched"    # 分派
    in_progress = "in_progress"  # 处理中
    resolved = "resolved"        # 办结
    closed = "closed"            # 评价后关闭
    merged = "merged"            # 合并


OPEN_STATES = frozenset({State.submitted, State.accepted, State.dispatched, State.in_progress})
HANDLING_STATES = frozenset({State.dispatched, State.in_progress})
ALL_STATES = frozenset(State)


class Action(StrEnum):
    accept = "accept"
    reject = "reject"
    withdraw = "withdraw"
    dispatch = "dispatch"
    return_ = "return"
    start = "start"
    resolve = "resolve"
    merge = "merge"
    escalate = "escalate"
    supervise = "supervise"
    request_extension = "request_extension"
    extend = "extend"
    hide = "hide"
    unhide = "unhide"
    hide_photo = "hide_photo"
    rate = "rate"
    reopen = "reopen"
    auto_close = "auto_close"


# What a timeline event records: every step, and the submission that starts the timeline (not a step).
EventAction = StrEnum(  # type: ignore[misc]  # built from Action, so the two cannot drift apart
    "EventAction", [("submit", "submit"), *((a.name, a.value) for a in Action)])

# Who acted: a role, or the system (the worker's automatic steps).
ActorRole = StrEnum(  # type: ignore[misc]  # built from Role, plus the system
    "ActorRole", [*((r.name, r.value) for r in Role), ("system", "system")])


class Relation(StrEnum):
    """How an actor relates to a report. A step names the relations that may take it."""

    reporter = "reporter"          # filed it, or it was filed on their behalf
    grid_keeper = "grid_keeper"    # grid worker of the report's grid
    scope_admin = "scope_admin"    # admin whose subtree holds the report
    handler = "handler"            # staff of the department it is dispatched to, or the grid worker keeping it
    dept_handler = "dept_handler"  # only department staff of the handling department (for 退回)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the rules need to know about a report."""

    state: State
    reporter_id: int
    grid_id: int
    grid_path: str
    community_id: int
    handler_department_id: int | None
    handler_user_id: int | None
    is_public: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    sources: frozenset[State]
    to: State | None                   # None: the state does not change (a recorded step)
    who: frozenset[Relation]
    needs: tuple[str, ...] = ()        # fields the request must carry
    public_event: bool = True          # residents (reporter, community) see that it happened
    note_public: bool = True           # default visibility of the note to residents


def _s(*states: State) -> frozenset[State]:
    return frozenset(states)


INTAKE = frozenset({Relation.grid_keeper, Relation.scope_admin})

STEPS: tuple[Step, ...] = (
    Step(Action.accept, _s(State.submitted), State.accepted, INTAKE),
    Step(Action.reject, _s(State.submitted), State.rejected, INTAKE, needs=("note",)),
    Step(Action.withdraw, _s(State.submitted, State.accepted), State.withdrawn, frozenset({Relation.reporter})),
    Step(Action.dispatch, _s(State.accepted), State.dispatched, INTAKE, needs=("target",)),
    Step(Action.return_, _s(State.dispatched), State.accepted, frozenset({Relation.dept_handler}),
         needs=("note",), note_public=False),
    Step(Action.start, _s(State.dispatched), State.in_progress, frozenset({Relation.handler})),
    Step(Action.resolve, _s(State.in_progress), State.resolved, frozenset({Relation.handler}), needs=("note",)),
    Step(Action.merge, _s(State.submitted, State.accepted), State.merged, INTAKE, needs=("target_report_id",)),
    Step(Action.escalate, OPEN_STATES, None, INTAKE, needs=("note",), public_event=False, note_public=False),
    Step(Action.supervise, _s(State.accepted, State.dispatched, State.in_progress), None,
         frozenset({Relation.scope_admin}), public_event=False, note_public=False),
    Step(Action.request_extension, HANDLING_STATES, None, frozenset({Relation.handler}),
         needs=("note", "resolve_by"), public_event=False, note_public=False),
    Step(Action.extend, HANDLING_STATES, None, frozenset({Relation.scope_admin}), needs=("note", "resolve_by")),
    Step(Action.hide, ALL_STATES, None, frozenset({Relation.scope_admin}), needs=("note",),
         public_event=False, note_public=False),
    Step(Action.unhide, ALL_STATES, None, frozenset({Relation.scope_admin}), public_event=False, note_public=False),
    Step(Action.hide_photo, ALL_STATES, None, frozenset({Relation.scope_admin}), needs=("note", "photo_id"),
         public_event=False, note_public=False),
    # 评价: the outcome (closed, reopened to the handler, or escalated) is rating_outcome(); `to` is the usual one
    Step(Action.rate, _s(State.resolved), State.closed, frozenset({Relation.reporter}), needs=("stars",),
         note_public=False),
    # 重办 by an admin's decision
    Step(Action.reopen, _s(State.resolved, State.closed), State.dispatched, frozenset({Relation.scope_admin}),
         needs=("note",)),
    # taken only by the worker (no principal has a relation for it)
    Step(Action.auto_close, _s(State.resolved), State.closed, frozenset()),
)

STEP_BY_ACTION: dict[Action, Step] = {s.action: s for s in STEPS}
TRANSITIONS: dict[tuple[State, Action], Step] = {(src, s.action): s for s in STEPS for src in s.sources}


class InvalidTransition(Conflict):
    code = "invalid_transition"


def relations(p: Principal, r: ReportFacts) -> frozenset[Relation]:
    out: set[Relation] = set()
    if p.user_id == r.reporter_id:
        out.add(Relation.reporter)
    if p.role is Role.grid_worker and r.grid_id in p.grid_ids:
        out.add(Relation.grid_keeper)
    if p.in_scope(r.grid_path):
        out.add(Relation.scope_admin)
    if p.role is Role.department and r.handler_department_id is not None and p.department_id == r.handler_department_id:
        out.update((Relation.handler, Relation.dept_handler))
    if r.handler_user_id is not None and p.user_id == r.handler_user_id:
        out.add(Relation.handler)
    return frozenset(out)


def _extra_conditions(step: Step, r: ReportFacts) -> bool:
    """Conditions beyond the state: hiding needs a visible public report, unhiding a hidden one."""
    if step.action is Action.hide:
        return r.is_public and not r.hidden
    if step.action is Action.unhide:
        return r.hidden
    return True


def check_step(action: Action, p: Principal, r: ReportFacts, given: frozenset[str] = frozenset()) -> Step:
    """The Step for this action by this actor on this report, or raise:
    NotPermitted (403) when no relation of the actor may take it, InvalidTransition (409) when the report's
    state does not allow it, InvalidInput (422) when a needed field is missing."""
    step = STEP_BY_ACTION[action]
    if not (relations(p, r) & step.who):
        raise NotPermitted()
    if (r.state, action) not in TRANSITIONS or not _extra_conditions(step, r):
        raise InvalidTransition(details={"state": r.state, "action": action})
    missing = [n for n in step.needs if n not in given]
    if missing:
        raise InvalidInput("validation_error", {"missing": missing, "action": action})
    return step


def rating_outcome(stars: int, reopen_count: int, reopen_limit: int) -> State:
    """3-5 stars close the report (3 counts as not satisfied). 1-2 (差评) reopen it to the same handler, unless
    it was already reopened `reopen_limit` times: then it goes back to intake, escalated to the admins."""
    if stars >= 3:
        return State.closed
    return State.dispatched if reopen_count < reopen_limit else State.accepted


def allowed_actions(p: Principal, r: ReportFacts) -> list[Action]:
    """Steps this actor could take now (for clients to show the right buttons)."""
    rel = relations(p, r)
    return [s.action for s in STEPS
            if rel & s.who and (r.state, s.action) in TRANSITIONS and _extra_conditions(s, r)]
