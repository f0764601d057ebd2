from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.core.i18n import PersonName
from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import DisplayName, ObjectId, Password, Phone
from app.users.models import Role


class UserRead(OutputModel):
    id: int
    phone: str
    display_name: PersonName
    role: Role
    is_active: bool
    is_building_lead: bool
    building_id: int | None
    community_id: int | None
    department_id: int | None
    scope_grid_id: int | None
    grid_ids: list[int] = Field(default_factory=list, description="A grid worker's grids.")
    created_at: datetime


class MeUpdate(InputModel):
    """Send only what changes; a field sent must have a value (none of them can be null)."""

    display_name: DisplayName = if_sent()
    building_id: ObjectId = if_sent(description=(
        "Residents only: move to another building of the same community (recorded in the audit trail). A move to "
        "another community is made by its staff (409 `move_needs_staff`), since it opens that community's feed, "
        "groups and votes."))


class PasswordChange(InputModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: Password


class UserCreate(InputModel):
    """An admin creates an account. Bindings by role: resident → building_id; grid_worker → grid_ids;
    department → department_id; admin → scope_grid_id. Every binding must lie in the creator's scope."""

    phone: Phone
    password: Password
    display_name: DisplayName
    role: Literal["resident", "grid_worker", "department", "admin"]
    building_id: ObjectId | None = None
    grid_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    department_id: ObjectId | None = None
    scope_grid_id: ObjectId | None = None
    is_building_lead: bool = False


class UserUpdate(InputModel):
    """Change an account's name, status or bindings (the role itself cannot change)."""

    display_name: DisplayName = if_sent()
    is_active: bool = if_sent()
    is_building_lead: bool = if_sent()
    building_id: ObjectId = if_sent()
    grid_ids: list[ObjectId] = if_sent(max_length=50)
    department_id: ObjectId = if_sent()
    scope_grid_id: ObjectId = if_sent()
