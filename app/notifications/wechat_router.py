"""WeChat subscription messages (issue 18 item 3): what the signed-in user accepted in their mini-program."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Header

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.routing import PrefixRouter
from app.db.session import DbSession
from app.notifications import wechat_messages
from app.notifications.wechat_schemas import SubscriptionRead, SubscriptionsAccepted

router = PrefixRouter(prefix="/api/v1/notifications/wechat-subscriptions", tags=["notifications"],
                   route_class=IdempotentRoute)

ClientIdHeader = Annotated[str | None, Header(alias="X-Client-Id", max_length=64, description=(
    "The mini-program, for a first-party token; a token issued through an app names its app itself."))]
_WHO = ("The app is the one the token was issued through (or `X-Client-Id`); the caller must be bound to its "
        "WeChat appid: 403 otherwise.")


def _read(rows: list[tuple[str, str, int]]) -> list[SubscriptionRead]:
    return [SubscriptionRead.model_validate({"type": t, "template_id": tpl, "remaining": n}) for t, tpl, n in rows]


@router.post("", response_model=list[SubscriptionRead], summary="Record accepted subscription messages",
             responses=error_responses(401, 403, 413, 422, 500),
             description="Each accepted template allows ONE subscription message of its notification type, as "
                         "WeChat counts them: notifications of that type go out through WeChat until the "
                         "acceptances are spent. " + _WHO,
             dependencies=[Idempotent])  # issue 18: a retried POST must not count the acceptances twice
async def wechat_subscriptions_accept(db: DbSession, p: CurrentPrincipal, body: SubscriptionsAccepted,
                                      x_client_id: ClientIdHeader = None) -> list[SubscriptionRead]:
    appid = await wechat_messages.bound_appid(db, p.user_id, p.client_id or x_client_id)
    await wechat_messages.accept(db, p.user_id, appid, [(a.type.value, a.template_id) for a in body.accepted],
                                 datetime.now(UTC))
    return _read(await wechat_messages.remaining(db, p.user_id, appid))


@router.get("", response_model=list[SubscriptionRead], summary="List accepted subscription messages",
            responses=error_responses(401, 403, 422, 500), description="What is left of each type. " + _WHO)
async def wechat_subscriptions_list(db: DbSession, p: CurrentPrincipal,
                                    x_client_id: ClientIdHeader = None) -> list[SubscriptionRead]:
    appid = await wechat_messages.bound_appid(db, p.user_id, p.client_id or x_client_id)
    return _read(await wechat_messages.remaining(db, p.user_id, appid))
