"""The proposal state machine (六步议事): one table, pure Python, no database.

`STEPS` lists each action with its source states, its target, the relations that may take it and the fields it
needs. `check_step` answers 403 (no relation), 409 (state) or 422 (a needed field missing), in that order, so a
stranger learns nothing about the state. `deliberation.service.take_step` is the only code that applies a Step;
the threshold move (`reach_threshold`) and the result (`decide`) are taken by the system only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotPermitted
from app.users.roles import Role


class ProposalState(StrEnum):
    open = "open"                # 征集附议
    on_agenda = "on_agenda"      # 列入议题
    in_notice = "in_notice"      # 方案张榜公示
    voting = "voting"            # 居民表决
    decided = "decided"          # 已决 (outcome: adopted / not_adopted)
    declined = "declined"        # 不予立项
    withdrawn = "withdrawn"      # 提议人撤回


State = ProposalState  # the short name inside the domain


class Outcome(StrEnum):
    adopted = "adopted"
    not_adopted = "not_adopted"


class Action(StrEnum):
    put_on_agenda = "put_on_agenda"
    decline = "decline"
    withdraw = "withdraw"
    publish_plan = "publish_plan"
    open_vote = "open_vote"
    reach_threshold = "reach_threshold"  # system: enough supports
    decide = "decide"                    # system: the worker's result


# What a timeline event records: every step, and the proposal's creation (not a step).
EventAction = StrEnum(  # type: ignore[misc]  # built from Action, so the two cannot drift apart
    "ProposalEventAction", [("create", "create"), *((a.name, a.value) for a in Action)])

ActorRole = StrEnum(  # type: ignore[misc]  # built from Role, plus the system
    "ActorRole", [*((r.name, r.value) for r in Role), ("system", "system")])


class Relation(StrEnum):
    proposer = "proposer"    # raised it
    neighbour = "neighbour"  # a resident of the proposal's community
    council = "council"      # the community's deliberation body (council.is_council)


@dataclass(frozen=True, slots=True)
class ProposalFacts:
    state: State
    proposer_id: int
    community_id: int
    community_path: str


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    sources: frozenset[State]
    to: State
    who: frozenset[Relation]
    needs: tuple[str, ...] = ()


def _s(*states: State) -> frozenset[State]:
    return frozenset(states)


COUNCIL = frozenset({Relation.council})
# supports and comments are taken while the proposal is alive; the rest are steps
SUPPORTABLE = _s(State.open, State.on_agenda, State.in_notice)
COMMENTABLE = _s(State.open, State.on_agenda, State.in_notice, State.voting, State.decided)

STEPS: tuple[Step, ...] = (
    Step(Action.put_on_agenda, _s(State.open), State.on_agenda, COUNCIL),
    Step(Action.decline, _s(State.open, State.on_agenda), State.declined, COUNCIL, needs=("note",)),
    Step(Action.withdraw, _s(State.open, State.on_agenda), State.withdrawn, frozenset({Relation.proposer})),
    Step(Action.publish_plan, _s(State.on_agenda), State.in_notice, COUNCIL, needs=("plan",)),
    Step(Action.open_vote, _s(State.in_notice), State.voting, COUNCIL, needs=("vote",)),
    # taken only by the system (no principal has a relation for them)
    Step(Action.reach_threshold, _s(State.open), State.on_agenda, frozenset()),
    Step(Action.decide, _s(State.voting), State.decided, frozenset()),
)

STEP_BY_ACTION: dict[Action, Step] = {s.action: s for s in STEPS}
TRANSITIONS: dict[tuple[State, Action], Step] = {(src, s.action): s for s in STEPS for src in s.sources}


class InvalidTransition(Conflict):
    code = "invalid_transition"


def relations(p: Principal, f: ProposalFacts, council: bool) -> frozenset[Relation]:
    """`council` is the answer of the one seam, council.is_council (admins over the community, council members)."""
    out: set[Relation] = set()
    if p.user_id == f.proposer_id:
        out.add(Relation.proposer)
    if p.role is Role.resident and p.community_id == f.community_id:
        out.add(Relation.neighbour)
    if council:
        out.add(Relation.council)
    return frozenset(out)


def check_step(action: Action, p: Principal, f: ProposalFacts, council: bool,
               given: frozenset[str] = frozenset()) -> Step:
    step = STEP_BY_ACTION[action]
    if not (relations(p, f, council) & step.who):
        raise NotPermitted()
    if (f.state, action) not in TRANSITIONS:
        raise InvalidTransition(details={"state": f.state, "action": action})
    missing = [n for n in step.needs if n not in given]
    if missing:
        raise InvalidInput("validation_error", {"missing": missing, "action": action})
    return step


def allowed_actions(p: Principal, f: ProposalFacts, council: bool) -> list[Action]:
    rel = relations(p, f, council)
    return [s.action for s in STEPS if rel & s.who and (f.state, s.action) in TRANSITIONS]
