"""Request and response bodies of proposals, their steps, supports and comments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from app.core.i18n import PersonName
from app.core.schemas import InputModel, OutputModel
from app.core.validators import ObjectId
from app.deliberation.lifecycle import ActorRole, EventAction, Outcome, State
from app.deliberation.tally import BallotKind, RuleKind

Money = Annotated[int, Field(ge=0, le=1_000_000_000, description="Whole yuan (元).")]
PhotoIds: Any = Field(default_factory=list, max_length=9, description="Ids from POST /api/v1/uploads (yours), up to 9.")


class ProposalCategory(StrEnum):
    facilities = "facilities"    # 设施 (加装电梯, 充电桩)
    environment = "environment"  # 环境 (垃圾分类, 绿化)
    safety = "safety"            # 安全
    services = "services"        # 服务 (长者食堂, 托育)
    culture = "culture"          # 文体
    other = "other"


class StepAction(StrEnum):
    """The steps a person takes through POST /proposals/{id}/steps (the system's own are not among them)."""

    put_on_agenda = "put_on_agenda"
    decline = "decline"
    withdraw = "withdraw"
    publish_plan = "publish_plan"
    open_vote = "open_vote"


class ProposalCreate(InputModel):
    title: str = Field(min_length=2, max_length=100)
    body: str = Field(min_length=1, max_length=5000)
    category: ProposalCategory | None = None
    estimated_cost: Money | None = Field(default=None, description="Your estimate, whole yuan (元).")
    photo_ids: list[ObjectId] = PhotoIds

    @model_validator(mode="after")
    def _distinct(self) -> ProposalCreate:
        if len(set(self.photo_ids)) != len(self.photo_ids):
            raise ValueError("photo_ids must be distinct")
        return self


class Share(InputModel):
    """An exact fraction, e.g. two thirds: {"num": 2, "den": 3}."""

    num: int = Field(ge=0, le=1000)
    den: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _proper(self) -> Share:
        if self.num > self.den:
            raise ValueError("num must not exceed den")
        return self


class PlanIn(InputModel):
    """拟方案 and 张榜公示: the plan and its public notice period."""

    text: str = Field(min_length=1, max_length=10000)
    cost: Money | None = Field(default=None, description="The plan's cost (default: the proposer's estimate); "
                                                          "reserved from the year's budget when the vote opens.")
    notice_starts_at: AwareDatetime
    notice_ends_at: AwareDatetime

    @model_validator(mode="after")
    def _window(self) -> PlanIn:
        if self.notice_ends_at <= self.notice_starts_at:
            raise ValueError("notice_ends_at must be after notice_starts_at")
        return self


class VoteSpec(InputModel):
    """居民表决: who votes (a node of the grid tree in the community), on what, when, and by which rule."""

    electorate_grid_id: ObjectId | None = Field(
        default=None, description="The community (default), one of its grids, or one building (e.g. an elevator).")
    ballot_kind: BallotKind = BallotKind.yes_no
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=10, description="ballot_kind=choices: 2-10 distinct labels.")
    secret: Literal[True] = Field(default=True, description="Ballots are always secret: no voter's choice is kept "
                                                            "anywhere, and `false` is refused.")
    rule: RuleKind = RuleKind.simple_majority
    share: Share | None = Field(default=None, description="electorate_share: the share of the whole electorate "
                                                          "needed, e.g. 2/3.")
    quorum: Share | None = Field(default=None, description="Turnout needed, as a share of the electorate (none by "
                                                           "default).")
    opens_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    closes_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> VoteSpec:
        if self.ballot_kind is BallotKind.choices:
            if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
                raise ValueError("choices needs 2-10 distinct labels")
        elif self.choices:
            raise ValueError("choices are for ballot_kind=choices")
        if (self.rule is RuleKind.electorate_share) != (self.share is not None):
            raise ValueError("share goes with rule=electorate_share, and only with it")
        if self.opens_at is not None and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class ProposalStepIn(InputModel):
    """One step on a proposal. `expected_version` is the version you saw: if someone acted first, 409."""

    action: StepAction
    expected_version: int = Field(ge=1, le=2**31)
    note: str | None = Field(default=None, min_length=1, max_length=2000, description="decline: the reason.")
    plan: PlanIn | None = Field(default=None, description="publish_plan: the plan and its notice period.")
    vote: VoteSpec | None = Field(default=None, description="open_vote: the vote.")


class PersonRef(OutputModel):
    id: int
    display_name: PersonName


class SignedPhoto(OutputModel):
    id: int
    signed_url: str = Field(description="Works without a token until it expires; read the object again for a "
                                        "fresh one.")


class ProposalSummary(OutputModel):
    id: int
    community_id: int
    title: str
    category: ProposalCategory | None
    state: State
    outcome: Outcome | None
    version: int
    support_count: int
    proposer: PersonRef
    created_at: datetime


class ProposalRead(ProposalSummary):
    body: str
    estimated_cost: int | None
    cost: int | None
    support_threshold: int = Field(description="Supports that put an open proposal on the agenda (per community).")
    supported_by_me: bool
    declined_reason: str | None
    plan_text: str | None
    notice_starts_at: datetime | None
    notice_ends_at: datetime | None
    reserved_amount: int = Field(description="Held from the year's budget while the vote runs; kept if adopted.")
    has_vote: bool
    project_id: int | None
    decided_at: datetime | None
    updated_at: datetime
    photos: list[SignedPhoto]
    allowed_actions: list[StepAction] = Field(description="Steps you may take now.")
    can_support: bool = Field(description="Whether you may support it now (附议).")


class ProposalEventRead(OutputModel):
    id: int
    action: EventAction
    actor_role: ActorRole
    actor: PersonRef | None
    from_state: State | None
    to_state: State
    note: str | None
    data: dict
    created_at: datetime


class SupportRead(OutputModel):
    supported: bool
    support_count: int
    state: State


class CommentCreate(InputModel):
    body: str = Field(min_length=1, max_length=2000)
    parent_id: ObjectId | None = Field(default=None, description="Reply to this top-level comment (one level).")


class CommentRead(OutputModel):
    id: int
    proposal_id: int
    parent_id: int | None
    author: PersonRef | None = Field(description="Null on a hidden comment you did not write.")
    body: str | None = Field(description="Null on a hidden comment you did not write (show a placeholder).")
    hidden: bool
    hidden_reason: str | None = Field(description="Why it was hidden: to its author and the council only.")
    reply_count: int
    created_at: datetime


class HideIn(InputModel):
    reason: str = Field(min_length=1, max_length=500)


class SettingsRead(OutputModel):
    community_id: int
    support_threshold: int
    is_default: bool


class SettingsUpdate(InputModel):
    support_threshold: int = Field(ge=1, le=100_000)


class BudgetRead(OutputModel):
    id: int
    community_id: int
    year: int
    amount: int
    reserved: int
    remaining: int


class BudgetPut(InputModel):
    amount: Money
