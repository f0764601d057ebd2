from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel
from app.core.validators import DisplayName, ObjectId, Password, Phone


class RegisterIn(InputModel):
    phone: Phone
    password: Password
    display_name: DisplayName
    building_id: ObjectId = Field(description="The building (楼栋) the resident lives in.")
    privacy_notice_version: str = Field(min_length=1, max_length=20, description=(
        "The version of the privacy notice (GET /api/v1/privacy/notice) the resident read and accepted."))


class RegistrationAccepted(OutputModel):
    """The same answer whether or not the number already had an account, so registration reveals nothing."""

    status: Literal["accepted"] = "accepted"
    next: Literal["login"] = Field("login", description="Sign in with the phone number and password.")


class RefreshIn(InputModel):
    refresh_token: str = Field(min_length=10, max_length=4096)


class TokenOut(OutputModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")
