"""Request and response bodies of sign-in by SMS code (issue 18)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.core.schemas import InputModel, OutputModel
from app.core.validators import DisplayName, ObjectId, Password, Phone

SmsCodeValue = Annotated[str, StringConstraints(pattern=r"^\d{6}$"),
                         Field(examples=["123456"], description="The six-digit code from the SMS.")]
NoticeVersion = Annotated[str, StringConstraints(min_length=1, max_length=40),
                          Field(description="The version of the privacy notice the resident agreed to.")]


class SmsCodeRequest(InputModel):
    phone: Phone
    purpose: Literal["login", "register", "reset_password", "bind", "erase"] = Field(
        description="What the code will be used for; a code only works for its own purpose. `bind`: binding a "
                    "WeChat identity to this number. `erase`: confirming the erasure of one's account "
                    "(POST /api/v1/me/erase with `method: sms_code`).")


class SmsCodeSent(OutputModel):
    """The same answer whether or not the number has an account."""

    status: Literal["sent"] = "sent"
    expires_in: int = Field(description="Seconds the code stays valid.")
    resend_after: int = Field(description="Seconds before another code may be asked for this number.")


class SmsLoginIn(InputModel):
    phone: Phone
    code: SmsCodeValue


class SmsRegisterIn(InputModel):
    phone: Phone
    code: SmsCodeValue
    display_name: DisplayName
    building_id: ObjectId = Field(description="The building (楼栋) the resident lives in.")
    password: Password | None = Field(
        default=None, description="Optional: without one, the resident signs in by SMS code (or WeChat) and may "
                                  "set a password later through the password reset.")
    privacy_notice_version: NoticeVersion


class SmsResetIn(InputModel):
    phone: Phone
    code: SmsCodeValue
    new_password: Password
