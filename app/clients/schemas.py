"""Registered apps as admins register, change and see them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.clients.origins import MAX_ORIGIN, MAX_ORIGINS
from app.clients.scopes import Scope
from app.core.schemas import InputModel, OutputModel, if_sent
from app.core.validators import ObjectId


class ClientKind(StrEnum):
    mini_program = "mini_program"
    web = "web"
    server = "server"


class ClientStatus(StrEnum):
    active = "active"
    suspended = "suspended"


Origin = Annotated[str, Field(min_length=1, max_length=MAX_ORIGIN, examples=["https://app.example.com"])]
ORIGINS_DOC = ("Browser origins allowed by CORS: `http(s)://host[:port]`, no path, no wildcard (422 "
               "`client_origin_invalid`). Stored as browsers send them (lower case, default port dropped).")
SCOPES_DOC = "What tokens issued through the app may do (see `x-client-scopes` on each operation)."
WechatAppId = Annotated[str, Field(pattern=r"^wx[0-9a-f]{16}$", examples=["wx0123456789abcdef"],
                                   description="The mini-program's WeChat appid (unique among apps).")]


class ApiClientCreate(InputModel):
    grid_id: ObjectId = Field(description="The community or street the app belongs to, in your scope.")
    name: str = Field(min_length=1, max_length=100)
    kind: ClientKind
    origins: list[Origin] = Field(default_factory=list, max_length=MAX_ORIGINS, description=ORIGINS_DOC)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope), description=SCOPES_DOC)
    wechat_appid: WechatAppId | None = None


class ApiClientUpdate(InputModel):
    """Change what the app may do; `expected_version` is the version you saw (409 `stale_version` if it moved).
    Narrowing the scopes applies at once to the tokens already issued; widening them to tokens issued from now on
    (a refresh gets the app's current scopes)."""

    expected_version: int = Field(ge=1, le=2**31)
    name: str = if_sent(min_length=1, max_length=100)
    origins: list[Origin] = if_sent(max_length=MAX_ORIGINS, description=ORIGINS_DOC)
    scopes: list[Scope] = if_sent(min_length=1, max_length=len(Scope), description=SCOPES_DOC)
    wechat_appid: WechatAppId | None = Field(default=None, description="null removes it.")


class StatusChange(InputModel):
    expected_version: int = Field(ge=1, le=2**31)


class ApiClientRead(OutputModel):
    id: int
    client_id: str = Field(description="Public: the `X-Client-Id` header of sign-ins through the app, and the `cid` "
                                       "claim of the tokens they get.")
    name: str
    kind: ClientKind
    origins: list[str]
    scopes: list[Scope]
    wechat_appid: str | None
    status: ClientStatus
    grid_id: int
    created_by: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class ApiClientCreated(ApiClientRead):
    secret: str = Field(description="`<client_id>.<43 characters>`: the app's server-side credential, shown this once "
                                    "and stored only hashed. Rotate it if lost.")


class ApiClientSecretRotated(OutputModel):
    id: int
    client_id: str
    version: int
    secret: str = Field(description="The new secret, shown this once. The old one stopped working with this answer.")
