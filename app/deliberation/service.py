"""Proposals: raising one, supporting it (附议), and the one door for every step (take_step). Business rules
live here and in lifecycle.py; reads are in queries.py; votes in votes.py; the result in results.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.db.helpers import flush_or_conflict
from app.deliberation import budgets, lifecycle, notices, policies, queries, votes
from app.deliberation.lifecycle import Action, State
from app.deliberation.models import DeliberationSetting, Proposal, ProposalEvent, ProposalSupport
from app.deliberation.photos import Sign, attach
from app.deliberation.schemas import ProposalCreate, ProposalStepIn
from app.deliberation.writes import rowcount


def add_event(db: AsyncSession, proposal_id: int, p: Principal | None, action: str, frm: str | None, to: str,
              now: datetime, *, note: str | None = None, data: dict | None = None) -> None:
    """Append one timeline event (no principal: the system)."""
    db.add(ProposalEvent(proposal_id=proposal_id, action=action, actor_id=p.user_id if p else None,
                         actor_role=p.role.value if p else "system", from_state=frm, to_state=to, note=note,
                         data=data or {}, created_at=now))


async def apply_step(db: AsyncSession, proposal_id: int, *, to: State, now: datetime,
                     expected_version: int | None = None, expected_state: State | None = None,
                     values: dict | None = None) -> int | None:
    """The only statement that changes a proposal's state: conditional on the version (steps by people) or on
    the state (the system's steps), so concurrent steps have one winner. The new version, or None if lost."""
    stmt = update(Proposal).where(Proposal.id == proposal_id)
    if expected_version is not None:
        stmt = stmt.where(Proposal.version == expected_version)
    if expected_state is not None:
        stmt = stmt.where(Proposal.state == expected_state.value)
    stmt = stmt.values(state=to.value, version=Proposal.version + 1, updated_at=now, **(values or {}))
    return (await db.execute(stmt.returning(Proposal.version).execution_options(synchronize_session=False))
            ).scalar_one_or_none()


async def create_proposal(db: AsyncSession, p: Principal, data: ProposalCreate, sign: Sign) -> dict:
    if not policies.can_raise(p):
        raise NotPermitted()
    path = await queries.community_path(db, p.community_id or 0)
    if path is None:  # a resident's community always exists; a retired one still has its path
        raise NotPermitted()
    now = datetime.now(UTC)
    prop = Proposal(community_id=p.community_id, community_path=path, proposer_id=p.user_id, title=data.title,
                    body=data.body, category=data.category.value if data.category else None,
                    estimated_cost=data.estimated_cost, state=State.open.value, version=1, support_count=0,
                    created_at=now, updated_at=now)
    db.add(prop)
    await db.flush()
    await attach(db, p, list(data.photo_ids), proposal_id=prop.id)
    add_event(db, prop.id, p, "create", None, State.open, now)
    await db.flush()
    return await queries.proposal_detail(db, p, prop.id, sign)


async def support(db: AsyncSession, p: Principal, proposal_id: int) -> dict:
    """附议, once each (the primary key), counted by an atomic increment. The support that reaches the community's
    threshold moves the proposal to the agenda in the same transaction, exactly once (conditional on `open`)."""
    prop, facts, _ = await queries.load_visible(db, p, proposal_id)
    if not policies.can_support(p, facts):
        raise NotPermitted()
    if not policies.support_open(facts):
        raise lifecycle.InvalidTransition(details={"state": facts.state, "action": "support"})
    now = datetime.now(UTC)
    db.add(ProposalSupport(proposal_id=prop.id, user_id=p.user_id, created_at=now))
    await flush_or_conflict(db, "already_supported")
    counted = (await db.execute(
        update(Proposal).where(Proposal.id == prop.id, Proposal.state.in_([s.value for s in lifecycle.SUPPORTABLE]))
        .values(support_count=Proposal.support_count + 1).returning(Proposal.support_count, Proposal.state)
        .execution_options(synchronize_session=False))).one_or_none()
    if counted is None:  # it moved on meanwhile (withdrawn, declined ...): the support is not taken
        state = (await db.execute(select(Proposal.state).where(Proposal.id == prop.id))).scalar_one()
        raise lifecycle.InvalidTransition(details={"state": state, "action": "support"})
    count, state = counted
    threshold, _ = await queries.support_threshold(db, prop.community_id)
    if state == State.open and count >= threshold:
        moved = await apply_step(db, prop.id, to=State.on_agenda, now=now, expected_state=State.open)
        if moved is not None:
            state = State.on_agenda.value
            add_event(db, prop.id, None, Action.reach_threshold.value, State.open, State.on_agenda, now,
                      data={"support_count": count, "threshold": threshold})
            await notices.tell_about_proposal(db, prop, "proposal.on_agenda",
                                              await notices.residents_of(db, prop.community_id))
    return {"supported": True, "support_count": count, "state": state}


def _when(moment: datetime | None) -> str:
    return moment.astimezone(budgets.CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def _given(body: ProposalStepIn) -> frozenset[str]:
    fields = {"note": body.note, "plan": body.plan, "vote": body.vote}
    return frozenset(k for k, v in fields.items() if v is not None)


_STEP_FIELDS = {Action.decline: {"note"}, Action.publish_plan: {"plan"}, Action.open_vote: {"vote"}}


async def _effects(db: AsyncSession, prop: Proposal, body: ProposalStepIn, now: datetime) -> tuple[dict, dict]:
    """Column changes and event data of a step (checked against the database)."""
    a = Action(body.action.value)
    if a is Action.decline:
        return {"declined_reason": body.note}, {}
    if a is Action.publish_plan:
        plan = body.plan
        assert plan is not None  # check_step needs it
        if plan.notice_ends_at <= now:
            raise InvalidInput("validation_error", {"field": "plan.notice_ends_at", "reason": "must be in the future"})
        cost = plan.cost if plan.cost is not None else prop.estimated_cost
        return ({"plan_text": plan.text, "cost": cost, "notice_starts_at": plan.notice_starts_at,
                 "notice_ends_at": plan.notice_ends_at},
                {"cost": cost, "notice_starts_at": plan.notice_starts_at.isoformat(),
                 "notice_ends_at": plan.notice_ends_at.isoformat()})
    if a is Action.open_vote:
        if prop.notice_ends_at is None or now < prop.notice_ends_at:
            raise Conflict("notice_not_over", {"notice_ends_at": prop.notice_ends_at.isoformat()
                                               if prop.notice_ends_at else ""})
        if not prop.cost:
            return {}, {}
        # 民生微实事: a proposal put to the vote is one the year's budget can pay for; released if not adopted
        year = budgets.budget_year(now)
        budget_id = await budgets.reserve(db, prop.community_id, year, prop.cost, now)
        return {"budget_id": budget_id, "reserved_amount": prop.cost}, {"reserved": prop.cost, "year": year}
    return {}, {}


async def _announce(db: AsyncSession, p: Principal, prop: Proposal, action: Action, vote_id: int | None) -> None:
    if action is Action.put_on_agenda:
        await notices.tell_about_proposal(db, prop, "proposal.on_agenda",
                                          await notices.residents_of(db, prop.community_id), p.user_id)
    elif action in (Action.decline, Action.withdraw):
        users = await notices.supporters_of(db, prop.id)
        if action is Action.decline:
            users.append(prop.proposer_id)
        type_ = "proposal.declined" if action is Action.decline else "proposal.withdrawn"
        await notices.tell_about_proposal(db, prop, type_, users, p.user_id, note=prop.declined_reason or "")
    elif action is Action.publish_plan:
        await notices.tell_about_proposal(db, prop, "proposal.in_notice",
                                          await notices.residents_of(db, prop.community_id), p.user_id,
                                          notice_ends_at=_when(prop.notice_ends_at))
    elif action is Action.open_vote and vote_id is not None:
        vote = await votes.vote_of(db, prop.id)
        await notices.tell_about_proposal(db, prop, "vote.opened", await notices.electors_of(db, vote_id), p.user_id,
                                          closes_at=_when(vote.closes_at))


async def take_step(db: AsyncSession, p: Principal, proposal_id: int, body: ProposalStepIn, sign: Sign) -> dict:
    """One step by a person: visible (404) → expected_version current (409 stale_version) → relation and state
    (403/409/422) → effects; a version-conditional UPDATE, one event, the notices, in one transaction."""
    prop, facts, on_council = await queries.load_visible(db, p, proposal_id)
    if body.expected_version != prop.version:
        raise Conflict("stale_version", {"current_version": prop.version, "state": prop.state})
    action = Action(body.action.value)
    lifecycle.check_step(action, p, facts, on_council, _given(body))
    extra = _given(body) - _STEP_FIELDS.get(action, set())
    if extra:
        raise InvalidInput("validation_error", {"not_allowed": sorted(extra), "action": action})
    now = datetime.now(UTC)
    step = lifecycle.STEP_BY_ACTION[action]
    values, data = await _effects(db, prop, body, now)
    if await apply_step(db, prop.id, to=step.to, now=now, expected_version=body.expected_version,
                        values=values) is None:
        current = (await db.execute(select(Proposal.version, Proposal.state).where(Proposal.id == prop.id))).one()
        raise Conflict("stale_version", {"current_version": current.version, "state": current.state})
    vote_id = None
    if action is Action.open_vote:
        assert body.vote is not None  # check_step needs it
        vote_id = (await votes.open_vote(db, prop, body.vote, now)).id
        data["vote_id"] = vote_id
    add_event(db, prop.id, p, action.value, facts.state, step.to, now, note=body.note, data=data)
    await db.flush()
    await db.refresh(prop)
    await _announce(db, p, prop, action, vote_id)
    return await queries.proposal_detail(db, p, prop.id, sign)


# ---- per-community settings ---------------------------------------------------------------------------------


async def _community(db: AsyncSession, p: Principal, community_id: int) -> str:
    path = await queries.community_path(db, community_id)
    if path is None or not policies.can_read_community(p, community_id, path):
        raise NotFound()
    return path


async def get_settings(db: AsyncSession, p: Principal, community_id: int) -> dict:
    await _community(db, p, community_id)
    threshold, default = await queries.support_threshold(db, community_id)
    return {"community_id": community_id, "support_threshold": threshold, "is_default": default}


async def set_settings(db: AsyncSession, p: Principal, community_id: int, threshold: int) -> dict:
    """An admin over the community sets how many supports put a proposal on the agenda (from the next support)."""
    path = await _community(db, p, community_id)
    if not policies.can_manage_community(p, path):
        raise NotPermitted()
    now = datetime.now(UTC)
    done = await rowcount(db, update(DeliberationSetting).where(DeliberationSetting.community_id == community_id)
                            .values(support_threshold=threshold, updated_by_id=p.user_id, updated_at=now)
                            .execution_options(synchronize_session=False))
    if done == 0:
        db.add(DeliberationSetting(community_id=community_id, support_threshold=threshold, updated_by_id=p.user_id,
                                   updated_at=now))
        await flush_or_conflict(db, "conflict")
    return {"community_id": community_id, "support_threshold": threshold, "is_default": False}

