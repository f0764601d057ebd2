from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import Code, Name, ObjectId
from app.org.models import GridLevel

Minutes = Field(ge=1, le=365 * 24 * 60, description="Minutes.")


class GridCreate(InputModel):
    parent_id: ObjectId = Field(description="Parent node; must be one level up and inside your scope.")
    level: GridLevel
    name: Name
    code: Code | None = None


class GridUpdate(InputModel):
    name: Name = if_sent()
    code: Code | None = None


class GridRead(OutputModel):
    id: int
    parent_id: int | None
    level: GridLevel
    name: str
    code: str | None
    retired_at: datetime | None
    created_at: datetime


class PlaceRead(OutputModel):
    """Public view of an active node, for choosing a building at registration."""

    id: int
    parent_id: int | None
    level: GridLevel
    name: str


class DepartmentCreate(InputModel):
    grid_id: ObjectId = Field(description="The node that owns the department (usually a street).")
    name: Name
    code: Code
    phone: str | None = Field(default=None, pattern=r"^[0-9\-+]{5,20}$")


class DepartmentUpdate(InputModel):
    name: Name = if_sent()
    phone: str | None = Field(default=None, pattern=r"^[0-9\-+]{5,20}$")


class DepartmentRead(OutputModel):
    id: int
    grid_id: int
    name: str
    code: str
    phone: str | None
    retired_at: datetime | None
    created_at: datetime


class CategoryCreate(InputModel):
    grid_id: ObjectId = Field(description="The node that owns the category (usually a street).")
    name: Name
    code: Code
    default_department_id: ObjectId | None = None
    respond_within_minutes: int = Minutes
    resolve_within_minutes: int = Minutes


class CategoryUpdate(InputModel):
    name: Name = if_sent()
    default_department_id: ObjectId | None = None
    respond_within_minutes: int = if_sent(ge=1, le=365 * 24 * 60)
    resolve_within_minutes: int = if_sent(ge=1, le=365 * 24 * 60)


class CategoryRead(OutputModel):
    id: int
    grid_id: int
    name: str
    code: str
    default_department_id: int | None
    respond_within_minutes: int
    resolve_within_minutes: int
    retired_at: datetime | None
    created_at: datetime
