"""The inbox as clients see it."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.core.schemas import OutputModel
from app.notifications.catalog import NotificationType


class NotificationRead(OutputModel):
    id: int = Field(description="Increasing: newer notifications have larger ids.")
    type: NotificationType
    title: str = Field(description="Chinese, or English with `Accept-Language: en`.")
    body: str
    object_type: str = Field(description="What it is about, e.g. `report`.")
    object_id: int
    link: str = Field(description="The API path of the object, e.g. `/api/v1/reports/12`.")
    created_at: datetime
    read_at: datetime | None


class UnreadCount(OutputModel):
    unread: int


class MarkedRead(OutputModel):
    marked: int = Field(description="How many notifications this call marked read (already read ones count 0).")
