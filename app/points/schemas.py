"""Request and response bodies of points, rules, rewards, redemptions and the ranking."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.core.i18n import PersonName
from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import ObjectId
from app.points.enums import EntryKind, Period, RedemptionAction, RedemptionStatus, SourceType

Version = Field(ge=1, le=2**31, description="The `version` you saw; 409 `stale_version` if it changed.")


class AccountRead(OutputModel):
    user_id: int
    community_id: int
    balance: int
    hide_from_ranking: bool


class EntryRead(OutputModel):
    id: int
    kind: EntryKind
    amount: int = Field(description="Signed: positive credits, negative debits.")
    balance_after: int
    reason: str
    source_type: SourceType
    source_id: int | None
    created_at: datetime


class PublicationIn(InputModel):
    hide_from_ranking: bool = Field(description="true: leave me out of the published ranking (公示).")


class PactItemRead(OutputModel):
    id: int
    community_id: int
    name: str
    points: int
    is_active: bool


class RulesRead(OutputModel):
    community_id: int
    points_per_hour: int = Field(description="Points per confirmed volunteer hour (0 when not set).")
    pact_items: list[PactItemRead]


class RulesIn(InputModel):
    community_id: ObjectId
    points_per_hour: int = Field(ge=0, le=10_000)


class PactItemCreate(InputModel):
    community_id: ObjectId
    name: str = Field(min_length=1, max_length=60)
    points: int = Field(ge=1, le=10_000)


class PactItemUpdate(InputModel):
    name: str = if_sent(min_length=1, max_length=60)
    points: int = if_sent(ge=1, le=10_000)
    is_active: bool = if_sent()


class PactAwardIn(InputModel):
    pact_item_id: ObjectId
    user_id: ObjectId
    note: str = Field(min_length=1, max_length=500)


class AdjustmentIn(InputModel):
    user_id: ObjectId
    community_id: ObjectId
    amount: int = Field(ge=-100_000, le=100_000, description="Signed, not 0.")
    reason: str = Field(min_length=1, max_length=500)


class PostedRead(OutputModel):
    entry_id: int
    user_id: int
    amount: int
    balance_after: int


class RewardCreate(InputModel):
    community_id: ObjectId
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=2000)
    cost: int = Field(ge=1, le=1_000_000)
    stock: int = Field(ge=0, le=1_000_000)
    per_resident_limit: int | None = Field(default=None, ge=1, le=1000)


class RewardUpdate(InputModel):
    expected_version: int = Version
    name: str = if_sent(min_length=1, max_length=60)
    description: str = if_sent(max_length=2000)
    cost: int = if_sent(ge=1, le=1_000_000)
    per_resident_limit: int | None = Field(default=None, ge=1, le=1000, description="null: no limit.")
    is_active: bool = if_sent()
    add_stock: int = if_sent(ge=-1_000_000, le=1_000_000, description="Added to (or, negative, taken from) the "
                                                                      "stock; never below 0.")


class RewardRead(OutputModel):
    id: int
    community_id: int
    name: str
    description: str
    cost: int
    stock: int
    per_resident_limit: int | None
    is_active: bool
    version: int
    created_at: datetime


class RedemptionRead(OutputModel):
    id: int
    reward_id: int
    reward_name: str
    user_id: int
    community_id: int
    cost: int
    status: RedemptionStatus
    note: str | None
    version: int
    created_at: datetime
    decided_at: datetime | None


class RedemptionStepIn(InputModel):
    action: RedemptionAction
    expected_version: int = Version
    note: str | None = Field(default=None, min_length=1, max_length=500)


class RankingRow(OutputModel):
    rank: int
    display_name: PersonName
    points: int


class RankingRead(OutputModel):
    community_id: int
    period: Period
    starts_at: datetime
    ends_at: datetime
    rows: list[RankingRow]
