from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel


class NoticeRead(OutputModel):
    version: str = Field(description="Send this version to accept the notice (registration or POST consents).")
    text_zh: str
    text_en: str


class ConsentIn(InputModel):
    version: str = Field(min_length=1, max_length=20, description="The notice version you accept (the current "
                                                                  "one; another answers 409 "
                                                                  "`privacy_notice_outdated`).")


class ConsentRead(OutputModel):
    version: str
    accepted_at: datetime
    via: Literal["register", "sms", "wechat", "api", "admin"]
