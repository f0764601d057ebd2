"""Field types shared by request schemas."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field, StringConstraints

from app.core.i18n import ERASED_NAME

# Mainland China mobile number: 11 digits, 1 then 3-9.
PHONE_RE = re.compile(r"1[3-9]\d{9}")
Phone = Annotated[str, StringConstraints(pattern=r"^1[3-9]\d{9}$"),
                  Field(examples=["13800138000"], description="Mainland China mobile number, 11 digits.")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128),
                     Field(description="8–128 characters.")]


def _not_reserved(name: str) -> str:
    """已注销居民 marks erased accounts (issue 21): nobody may take it as a name."""
    if name in ERASED_NAME:
        raise ValueError("this name is reserved for erased accounts")
    return name


DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True),
                        AfterValidator(_not_reserved)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,40}$"),
                 Field(description="Letters, digits, '_' or '-', up to 40.")]
ObjectId = Annotated[int, Field(ge=1, le=2**53)]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "***"

# Path and query ids: bounded so an absurd number is a 422, never a database overflow.
IdPath = Annotated[int, Path(ge=1, le=2**53)]
IdQuery = Annotated[int | None, Query(ge=1, le=2**53)]
