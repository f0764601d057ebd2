"""居民表决: opening a vote (its options and the electoral roll), casting a ballot, reading a vote.

One ballot each is held by the database: the roll row's `voted` flips once, by a conditional UPDATE, and the
roll's primary key is (vote, user). A ballot also bumps the vote's `ballots_cast` under `tallied_at IS NULL`, so a
ballot racing the worker's tally either lands before it (and is counted) or is refused as closed.

Secret ballots exist only as per-option counts: nothing stores a voter beside a choice, and no answer says how
anyone voted. Open ballots keep the choice on the roll row and publish it with the result.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.deliberation import policies, queries
from app.deliberation.models import Proposal, Vote, VoteElector, VoteOption
from app.deliberation.schemas import VoteSpec
from app.deliberation.tally import ABSTAIN, NO, YES, BallotKind, RuleKind
from app.deliberation.vote_schemas import BallotIn, VoteStatus
from app.deliberation.writes import rowcount
from app.org.models import Grid, GridLevel
from app.users.models import Role, User

YES_NO_LABELS = ((YES, "赞成"), (NO, "反对"), (ABSTAIN, "弃权"))
ELECTORATE_LEVELS = (GridLevel.community, GridLevel.grid, GridLevel.building)


async def _electorate_node(db: AsyncSession, prop: Proposal, grid_id: int | None) -> Grid:
    node = await db.get(Grid, grid_id or prop.community_id)
    if node is None or node.retired_at is not None or node.level not in ELECTORATE_LEVELS \
            or not node.path.startswith(prop.community_path):
        raise InvalidInput("invalid_reference", {"field": "vote.electorate_grid_id", "value": grid_id,
                                                 "reason": "a community, grid or building of the proposal's "
                                                           "community"})
    return node


async def open_vote(db: AsyncSession, prop: Proposal, spec: VoteSpec, now: datetime) -> Vote:
    """Create the vote, its options and its roll (the residents living at or below the electorate node now)."""
    node = await _electorate_node(db, prop, spec.electorate_grid_id)
    opens_at = spec.opens_at or now
    if spec.closes_at <= max(now, opens_at):
        raise InvalidInput("validation_error", {"field": "vote.closes_at", "reason": "must be in the future"})
    share = spec.share if spec.rule is RuleKind.electorate_share else None
    vote = Vote(proposal_id=prop.id, community_id=prop.community_id, electorate_grid_id=node.id,
                electorate_path=node.path, ballot_kind=spec.ballot_kind.value, secret=spec.secret,
                rule_kind=spec.rule.value, share_num=share.num if share else 1, share_den=share.den if share else 2,
                quorum_num=spec.quorum.num if spec.quorum else 0, quorum_den=spec.quorum.den if spec.quorum else 1,
                opens_at=opens_at, closes_at=spec.closes_at, electorate_size=0, ballots_cast=0, created_at=now)
    db.add(vote)
    await db.flush()
    labels = YES_NO_LABELS if spec.ballot_kind is BallotKind.yes_no else \
        tuple((f"c{i}", label) for i, label in enumerate(spec.choices, start=1))
    db.add_all([VoteOption(vote_id=vote.id, position=i, key=key, label=label, ballots=0)
                for i, (key, label) in enumerate(labels)])
    roll = (select(literal(vote.id), User.id, literal(False)).join(Grid, Grid.id == User.building_id)
            .where(User.role == Role.resident, User.is_active.is_(True), User.community_id == prop.community_id,
                   Grid.path.startswith(node.path, autoescape=True)))
    await db.execute(insert(VoteElector).from_select(["vote_id", "user_id", "voted"], roll))
    size = (await db.execute(select(func.count()).select_from(VoteElector)
                             .where(VoteElector.vote_id == vote.id))).scalar_one()
    if size == 0:
        raise InvalidInput("invalid_reference", {"field": "vote.electorate_grid_id", "value": node.id,
                                                 "reason": "no resident lives there"})
    vote.electorate_size = size
    await db.flush()
    return vote


def _window(vote: Vote) -> dict:
    return {"opens_at": vote.opens_at.isoformat(), "closes_at": vote.closes_at.isoformat()}


async def vote_of(db: AsyncSession, proposal_id: int) -> Vote:
    vote = (await db.execute(select(Vote).where(Vote.proposal_id == proposal_id)
                             .execution_options(populate_existing=True))).scalar_one_or_none()
    if vote is None:
        raise NotFound()
    return vote


async def _ineligibility(db: AsyncSession, p: Principal, vote: Vote, on_roll: bool) -> policies.Ineligible | None:
    lives_there = False
    if not on_roll and p.building_id is not None:
        path = (await db.execute(select(Grid.path).where(Grid.id == p.building_id))).scalar_one_or_none()
        lives_there = bool(path and path.startswith(vote.electorate_path))
    return policies.ineligibility(p, on_roll, lives_there)


async def cast_ballot(db: AsyncSession, p: Principal, proposal_id: int, body: BallotIn, now: datetime) -> dict:
    await queries.load_visible(db, p, proposal_id)  # 404 for another community
    vote = await vote_of(db, proposal_id)
    if now < vote.opens_at:
        raise Conflict("voting_not_open", _window(vote))
    if now >= vote.closes_at or vote.tallied_at is not None:
        raise Conflict("voting_closed", _window(vote))
    option = (await db.execute(select(VoteOption.id).where(VoteOption.id == body.option_id,
                                                           VoteOption.vote_id == vote.id))).scalar_one_or_none()
    if option is None:
        raise InvalidInput("invalid_reference", {"field": "option_id", "value": body.option_id})
    voted = (await db.execute(select(VoteElector.voted).where(VoteElector.vote_id == vote.id,
                                                              VoteElector.user_id == p.user_id))).scalar_one_or_none()
    if voted is None:
        why = await _ineligibility(db, p, vote, on_roll=False)
        node = await db.get(Grid, vote.electorate_grid_id)
        raise NotPermitted("not_eligible", {"reason": why.value if why else "outside_electorate",
                                            "electorate_grid_id": vote.electorate_grid_id,
                                            "electorate_name": node.name if node else None})
    if voted:
        raise Conflict("already_voted")
    # the window and the tally, held on the vote's row: a ballot racing the worker lands before it or not at all
    cast = (await db.execute(
        update(Vote).where(Vote.id == vote.id, Vote.tallied_at.is_(None), Vote.opens_at <= now, Vote.closes_at > now)
        .values(ballots_cast=Vote.ballots_cast + 1).returning(Vote.ballots_cast)
        .execution_options(synchronize_session=False))).scalar_one_or_none()
    if cast is None:
        raise Conflict("voting_closed", _window(vote))
    # one ballot each: only the first of concurrent ballots flips the roll row
    marked = await rowcount(db, 
        update(VoteElector).where(VoteElector.vote_id == vote.id, VoteElector.user_id == p.user_id,
                                  VoteElector.voted.is_(False))
        .values(voted=True, option_id=None)  # ballots are secret: the choice is only counted
        .execution_options(synchronize_session=False))
    if marked != 1:
        raise Conflict("already_voted")
    await db.execute(update(VoteOption).where(VoteOption.id == option).values(ballots=VoteOption.ballots + 1)
                     .execution_options(synchronize_session=False))
    return {"voted": True, "ballots_cast": cast}


def status_of(vote: Vote, now: datetime) -> VoteStatus:
    if vote.tallied_at is not None:
        return VoteStatus.tallied
    if now < vote.opens_at:
        return VoteStatus.upcoming
    return VoteStatus.open if now < vote.closes_at else VoteStatus.closed


async def vote_detail(db: AsyncSession, p: Principal, proposal_id: int, now: datetime) -> dict:
    await queries.load_visible(db, p, proposal_id)
    vote = await vote_of(db, proposal_id)
    tallied = vote.tallied_at is not None
    node = await db.get(Grid, vote.electorate_grid_id)
    assert node is not None  # a foreign key
    options = (await db.execute(select(VoteOption).where(VoteOption.vote_id == vote.id)
                                .order_by(VoteOption.position).execution_options(populate_existing=True))).scalars()
    voted = (await db.execute(select(VoteElector.voted).where(VoteElector.vote_id == vote.id,
                                                              VoteElector.user_id == p.user_id))).scalar_one_or_none()
    why = await _ineligibility(db, p, vote, on_roll=voted is not None)
    return {
        "id": vote.id, "proposal_id": vote.proposal_id, "status": status_of(vote, now),
        "electorate": {"grid_id": node.id, "name": node.name, "level": node.level, "size": vote.electorate_size},
        "ballot_kind": vote.ballot_kind, "secret": vote.secret, "rule": vote.rule_kind,
        "share": {"num": vote.share_num, "den": vote.share_den},
        "quorum": {"num": vote.quorum_num, "den": vote.quorum_den},
        "opens_at": vote.opens_at, "closes_at": vote.closes_at, "ballots_cast": vote.ballots_cast,
        "options": [{"id": o.id, "key": o.key, "label": o.label, "ballots": o.ballots if tallied else None}
                    for o in options],
        "result": {"passed": vote.passed, "reason": vote.result_reason, "winner_key": vote.winner_key,
                   "turnout": vote.ballots_cast, "electorate": vote.electorate_size,
                   "quorum_met": vote.result_reason not in ("quorum_not_met", "no_ballots"),
                   "tallied_at": vote.tallied_at} if tallied else None,
        "me": {"eligible": why is None, "ineligible_reason": why, "voted": bool(voted)},
    }
