"""Request bodies of WeChat mini-program sign-in (issue 18)."""

from __future__ import annotations

from pydantic import Field

from app.auth.sms_schemas import NoticeVersion, SmsCodeValue
from app.core.schemas import InputModel
from app.core.validators import DisplayName, ObjectId, Phone


class WechatLoginIn(InputModel):
    code: str = Field(min_length=1, max_length=128, description="The code from `wx.login()` (valid 5 minutes, "
                                                                "once).")


class WechatBindIn(InputModel):
    bind_ticket: str = Field(min_length=10, max_length=1024,
                             description="From the `wechat_not_bound` answer of the WeChat login.")
    phone: Phone
    code: SmsCodeValue = Field(description="An SMS code of purpose `bind` sent to `phone`.")
    display_name: DisplayName | None = Field(default=None, description="Needed when the number has no account.")
    building_id: ObjectId | None = Field(default=None, description="Needed when the number has no account.")
    privacy_notice_version: NoticeVersion | None = Field(default=None,
                                                         description="Needed when the number has no account.")
