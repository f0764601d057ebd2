from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from app.core.schemas import InputModel, OutputModel
from app.core.validators import ObjectId


class AnnouncementCreate(InputModel):
    grid_id: ObjectId = Field(description="Who it is for: a street, a community, a grid or a building in your scope.")
    title: str = Field(min_length=2, max_length=100)
    body: str = Field(min_length=1, max_length=10000)
    pinned: bool = False
    expires_at: AwareDatetime | None = Field(default=None, description="Residents stop seeing it then.")


class AnnouncementRead(OutputModel):
    id: int
    grid_id: int
    title: str
    body: str
    pinned: bool
    expires_at: datetime | None
    proposal_id: int | None = Field(description="Set when it publishes a proposal's result.")
    withdrawn: bool
    created_at: datetime
