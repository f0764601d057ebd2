"""Bodies of 民生微实事 projects and their milestones."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import InputModel, OutputModel
from app.core.validators import ObjectId
from app.deliberation.schemas import Money, PhotoIds, SignedPhoto


class ProjectState(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"


class ProjectSummary(OutputModel):
    id: int
    proposal_id: int
    community_id: int
    title: str
    cost: int = Field(description="Reserved from the year's budget (whole yuan).")
    spent: int
    state: ProjectState
    follower_count: int
    created_at: datetime
    completed_at: datetime | None


class MilestoneRead(OutputModel):
    id: int
    happened_on: date
    note: str
    amount_spent: int
    completes: bool
    photos: list[SignedPhoto]
    created_at: datetime


class ProjectRead(ProjectSummary):
    following: bool
    milestones: list[MilestoneRead]


class MilestoneCreate(InputModel):
    happened_on: date
    note: str = Field(min_length=1, max_length=2000)
    amount_spent: Money = 0
    completes: bool = Field(default=False, description="This milestone completes the project.")
    photo_ids: list[ObjectId] = PhotoIds


class ProjectFollowRead(OutputModel):
    following: bool
    follower_count: int
