"""Bodies of the WeChat subscription-message endpoints (issue 18 item 3)."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import InputModel, OutputModel
from app.notifications.catalog import NotificationType


class AcceptedTemplate(InputModel):
    type: NotificationType = Field(description="The notification type this template carries.")
    template_id: str = Field(min_length=1, max_length=128, description="The WeChat template id the user accepted.")


class SubscriptionsAccepted(InputModel):
    accepted: list[AcceptedTemplate] = Field(min_length=1, max_length=20, description=(
        "The templates the user answered `accept` to in wx.requestSubscribeMessage: each allows one message."))


class SubscriptionRead(OutputModel):
    type: NotificationType
    template_id: str
    remaining: int = Field(description="Messages of this type still allowed (one per acceptance).")
