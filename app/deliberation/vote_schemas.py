"""Bodies of votes, ballots and results. No body here carries a voter together with a secret ballot's choice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import InputModel, OutputModel
from app.core.validators import ObjectId
from app.deliberation.policies import Ineligible
from app.deliberation.tally import BallotKind, FailReason, RuleKind


class VoteStatus(StrEnum):
    upcoming = "upcoming"
    open = "open"
    closed = "closed"      # the window has passed; the worker has not published the result yet
    tallied = "tallied"    # the result is published and final


class ShareRead(OutputModel):
    num: int
    den: int


class ElectorateRead(OutputModel):
    grid_id: int
    name: str
    level: str
    size: int = Field(description="Residents on the roll drawn when the vote opened.")


class OptionRead(OutputModel):
    id: int
    key: str = Field(description="yes / no / abstain, or c1, c2 ... for custom choices.")
    label: str
    ballots: int | None = Field(description="Published with the result; null while the vote runs.")


class ResultRead(OutputModel):
    passed: bool
    reason: FailReason | None
    winner_key: str | None
    turnout: int
    electorate: int
    quorum_met: bool
    tallied_at: datetime


class MyBallot(OutputModel):
    """About the caller only: whether they may vote and whether they did (never how)."""

    eligible: bool
    ineligible_reason: Ineligible | None
    voted: bool


class VoteRead(OutputModel):
    id: int
    proposal_id: int
    status: VoteStatus
    electorate: ElectorateRead
    ballot_kind: BallotKind
    secret: bool
    rule: RuleKind
    share: ShareRead
    quorum: ShareRead
    opens_at: datetime
    closes_at: datetime
    ballots_cast: int = Field(description="Turnout so far (live).")
    options: list[OptionRead]
    result: ResultRead | None
    me: MyBallot


class BallotIn(InputModel):
    option_id: ObjectId


class BallotRead(OutputModel):
    voted: bool
    ballots_cast: int
