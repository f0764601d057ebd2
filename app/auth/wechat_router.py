"""WeChat mini-program sign-in (issue 18): the wx.login code, and binding a new WeChat user by phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request

from app.auth import wechat
from app.auth.schemas import TokenOut
from app.auth.wechat_schemas import WechatBindIn, WechatLoginIn
from app.clients.deps import app_signing_in, client_address
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.routing import PrefixRouter
from app.db.session import get_database

router = PrefixRouter(prefix="/api/v1/auth/wechat", tags=["auth"])

ClientIdHeader = Annotated[str, Header(alias="X-Client-Id", min_length=1, max_length=64,
                                       description="The registered mini-program (its `wechat_appid` is used).")]


@router.post("/login", response_model=TokenOut, summary="Sign in with a WeChat mini-program login code",
             responses=error_responses(401, 403, 413, 422, 500, 503),
             description="Exchanges the `wx.login` code for the user's openid (WeChat code2session). A bound "
                         "user gets tokens carrying the app's client id and scopes. Otherwise 401 "
                         "`wechat_not_bound` with `details.bind_ticket`: verify a phone number with an SMS code of "
                         "purpose `bind`, then POST /api/v1/auth/wechat/bind. A code WeChat rejects: 401 "
                         "`wechat_code_invalid`; WeChat busy, rate-limited or unreachable: 503 "
                         "`wechat_unavailable` (`details.reason`); unknown app: 401 `client_unknown`; suspended "
                         "app: 403 `client_suspended`; an app without a WeChat appid: 422 `invalid_reference`.")
async def wechat_login(request: Request, settings: AppSettings, body: WechatLoginIn,
                       x_client_id: ClientIdHeader) -> TokenOut:
    return await wechat.login(get_database(request), settings, request.app.state.jwt_secret,
                              await app_signing_in(request), js_code=body.code, address=client_address(request))


@router.post("/bind", response_model=TokenOut, summary="Bind a WeChat user to a phone number and sign in",
             responses=error_responses(401, 403, 409, 413, 422, 500),
             description="With the bind ticket of `wechat_not_bound` and an SMS code of purpose `bind`: the "
                         "WeChat user is bound to the number's account, or, for a number without one, a resident "
                         "account is registered (then `display_name`, `building_id` and `privacy_notice_version` "
                         "are required: 422 without them, the code still valid). A bad or expired ticket: 401 "
                         "`wechat_ticket_invalid`; SMS code refusals as for the SMS login; an openid or account "
                         "already bound for this app: 409 `conflict`.")
async def wechat_bind(request: Request, settings: AppSettings, body: WechatBindIn,
                      x_client_id: ClientIdHeader) -> TokenOut:
    secret = request.app.state.jwt_secret
    return await wechat.bind(get_database(request), settings, secret, secret, await app_signing_in(request), body,
                             address=client_address(request))
