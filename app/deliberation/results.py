"""The worker publishes a vote's result once its window has closed.

Each vote is claimed by `UPDATE votes SET tallied_at = now WHERE id = :id AND tallied_at IS NULL`: of two workers
one wins, and a ballot racing the claim waits on the same row (votes.cast_ballot), so the counts read after the
claim are final. The result is computed by tally.tally (pure), written once, and never changed: nothing updates
a tallied vote. In the same transaction the proposal is decided, the budget reservation is kept (adopted: the
project is created) or released, the result is announced to the community, and the roll, the proposer and the
supporters are told.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.announcements import service as announcements
from app.core.config import Settings
from app.deliberation import budgets, notices, projects, tally
from app.deliberation.lifecycle import Action, Outcome, State
from app.deliberation.models import Proposal, Vote, VoteOption
from app.deliberation.service import add_event, apply_step

_OUTCOME_WORDS = {Outcome.adopted: "通过", Outcome.not_adopted: "未通过"}


def rule_of(v: Vote) -> tally.Rule:
    return tally.Rule(kind=tally.RuleKind(v.rule_kind), share=Fraction(v.share_num, v.share_den),
                      quorum=Fraction(v.quorum_num, v.quorum_den))


_REASON_WORDS = {
    tally.FailReason.quorum_not_met: "投票人数未达规定比例", tally.FailReason.share_not_reached: "赞成票未达规定比例",
    tally.FailReason.no_majority: "未获多数", tally.FailReason.tie: "票数相同", tally.FailReason.no_ballots: "无人投票",
}


def result_text(labels: list[tuple[str, int]], r: tally.Result, outcome: Outcome) -> str:
    """The announcement's words (Chinese: announcements are stored text, written for the community)."""
    counts = "，".join(f"{label} {n} 票" for label, n in labels)
    why = "" if r.reason is None else f"（{_REASON_WORDS[r.reason]}）"
    return f"表决结果：{_OUTCOME_WORDS[outcome]}{why}。投票 {r.turnout}/{r.electorate} 人；{counts}。"


async def publish_one(db: AsyncSession, vote_id: int, now: datetime) -> bool:
    claimed = (await db.execute(update(Vote).where(Vote.id == vote_id, Vote.tallied_at.is_(None))
                                .values(tallied_at=now).returning(Vote.id)
                                .execution_options(synchronize_session=False))).scalar_one_or_none()
    if claimed is None:
        return False
    vote = (await db.execute(select(Vote).where(Vote.id == vote_id)
                             .execution_options(populate_existing=True))).scalar_one()
    options = (await db.execute(select(VoteOption).where(VoteOption.vote_id == vote_id)
                                .order_by(VoteOption.position).execution_options(populate_existing=True))
               ).scalars().all()
    result = tally.tally(tally.BallotKind(vote.ballot_kind), {o.key: o.ballots for o in options},
                         vote.electorate_size, rule_of(vote))
    outcome = Outcome.adopted if result.passed else Outcome.not_adopted
    await db.execute(update(Vote).where(Vote.id == vote_id)
                     .values(passed=result.passed, result_reason=result.reason.value if result.reason else None,
                             winner_key=result.winner).execution_options(synchronize_session=False))
    prop = (await db.execute(select(Proposal).where(Proposal.id == vote.proposal_id)
                             .execution_options(populate_existing=True))).scalar_one()
    values: dict = {"outcome": outcome.value, "decided_at": now}
    if outcome is Outcome.not_adopted and prop.budget_id is not None and prop.reserved_amount:
        await budgets.release(db, prop.budget_id, prop.reserved_amount, now)
        values["reserved_amount"] = 0
    await apply_step(db, prop.id, to=State.decided, now=now, expected_state=State.voting, values=values)
    add_event(db, prop.id, None, Action.decide.value, State.voting, State.decided, now,
              data={"outcome": outcome.value, "turnout": result.turnout, "electorate": result.electorate,
                    "reason": result.reason.value if result.reason else None, "winner_key": result.winner})
    await db.flush()
    await db.refresh(prop)
    text = result_text([(o.label, o.ballots) for o in options], result, outcome)
    await announcements.publish_result(db, grid_id=prop.community_id, grid_path=prop.community_path,
                                       title=f"议题「{prop.title}」表决结果", body=text, proposal_id=prop.id, now=now)
    audience = [*await notices.electors_of(db, vote_id), prop.proposer_id, *await notices.supporters_of(db, prop.id)]
    await notices.tell_about_proposal(db, prop, "vote.result", audience, outcome=_OUTCOME_WORDS[outcome],
                                      turnout=result.turnout, electorate=result.electorate)
    if outcome is Outcome.adopted:
        project_id = await projects.create_from(db, prop, now)
        await notices.tell_about_project(db, project_id, prop.title, "project.created",
                                         await notices.followers_of(db, project_id), cost=prop.reserved_amount)
    return True


async def publish_due_results(db: AsyncSession, settings: Settings, now: datetime, batch: int = 50) -> int:
    """The worker's job: every vote whose window has closed and is not tallied yet, each claimed once."""
    due = (await db.execute(select(Vote.id).where(Vote.tallied_at.is_(None), Vote.closes_at <= now)
                            .order_by(Vote.closes_at).limit(batch))).scalars().all()
    done = 0
    for vote_id in due:
        done += await publish_one(db, vote_id, now)
    return done
