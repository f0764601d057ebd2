"""WeChat subscription messages (订阅消息, issue 18 item 3).

A user bound to a mini-program (app/auth/wechat_models.WechatBinding) records the notification types they accepted
in wx.requestSubscribeMessage (`accept`): each acceptance allows ONE message, as WeChat counts them
(`wechat_subscriptions.remaining`). When notifications are written (app/notifications/service._write_queued, right
before the commit, in the same transaction), `enqueue_for` counts down one acceptance per (user, type) with a
conditional UPDATE (`remaining > 0`, so two transactions never spend one acceptance twice) and writes a provider
outbox row per spent acceptance. The worker job `wechat_messages_sent` sends them to
{WECHAT_API_URL}/cgi-bin/message/subscribe/send with the app's cached access token, retried on
WEBHOOK_RETRY_SCHEDULE like webhooks; WeChat's "the user did not subscribe" (43101) fails at once.

The message fields follow one convention, which the app's templates must use: `thing1` the title (≤ 20 chars),
`thing2` the body (≤ 20 chars), `time3` the time (Asia/Shanghai)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.wechat_api import WechatApi, WechatUnavailable, send_subscription_message
from app.auth.wechat_models import WechatBinding, WechatSubscription
from app.clients.service import active_client
from app.core.config import Settings
from app.core.errors import NotPermitted
from app.db.session import begin_write
from app.notifications import provider_outbox
from app.notifications.catalog import render

log = logging.getLogger("weilinli.wechat")
CHANNEL = "wechat_subscribe"
CHINA = timezone(timedelta(hours=8))
BATCH = 20
S, B = WechatSubscription, WechatBinding


def message_data(type_: str, params: dict[str, Any], at: datetime) -> dict[str, dict[str, str]]:
    title, body = render(type_, params, english=False)
    return {"thing1": {"value": title[:20]}, "thing2": {"value": (body or title)[:20]},
            "time3": {"value": at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")}}


def _firsts(rows: Sequence[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    """The first row of each (user, type): one acceptance is spent per (user, type) and batch."""
    firsts: dict[tuple[int, str], dict[str, Any]] = {}
    for r in rows:
        firsts.setdefault((r["user_id"], r["type"]), r)
    return firsts


_SPENT = (S.user_id, S.appid, S.notification_type, S.template_id)
_PAIRS = func.unnest(bindparam("spend_users", type_=ARRAY(BigInteger)),
                     bindparam("spend_types", type_=ARRAY(String))).table_valued("user_id", "type").render_derived()
# PostgreSQL: the UPDATE of enqueue_for with the (user, type) pairs as two array parameters, built once, so that
# app/notifications/service.py can send it in one statement with the notifications' INSERT (a CTE of it)
SPEND_PG = (update(S).where(S.user_id == _PAIRS.c.user_id, S.notification_type == _PAIRS.c.type, S.remaining > 0)
            .values(remaining=S.remaining - 1).returning(*_SPENT))


def spend_params(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """SPEND_PG's parameters for these notification rows."""
    pairs = list(_firsts(rows))
    return {"spend_users": [u for u, _ in pairs], "spend_types": [t for _, t in pairs]}


async def enqueue_for(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """For notification rows about to be written (user_id, type, params, created_at): spend one acceptance of each
    (user, type) that has one left, and queue its message. One UPDATE ... RETURNING for the whole batch (on
    PostgreSQL the notifications' writer sends SPEND_PG with its INSERT instead, then calls `queue_spent`)."""
    firsts = _firsts(rows)
    spent = (await db.execute(
        update(S).where(tuple_(S.user_id, S.notification_type).in_(list(firsts)), S.remaining > 0)
        .values(remaining=S.remaining - 1)
        .returning(*_SPENT)
        .execution_options(synchronize_session=False))).all()
    return await queue_spent(db, rows, spent)


async def queue_spent(db: AsyncSession, rows: Sequence[dict[str, Any]], spent: Sequence[Any]) -> int:
    """Queue one message per acceptance spent (rows of user_id, appid, notification_type, template_id)."""
    if not spent:
        return 0
    firsts = _firsts(rows)
    openids = {(b.user_id, b.appid): b.openid for b in (await db.execute(
        select(B.user_id, B.appid, B.openid).where(B.user_id.in_({s.user_id for s in spent})))).all()}
    queued = 0
    for s in spent:
        openid = openids.get((s.user_id, s.appid))
        if openid is None:  # unbound since: nobody to send it to
            continue
        row = firsts[(s.user_id, s.notification_type)]
        await provider_outbox.enqueue(db, CHANNEL, openid, {
            "template_id": s.template_id, "data": message_data(s.notification_type, row["params"],
                                                               row["created_at"])},
            row["created_at"], appid=s.appid)
        queued += 1
    return queued


async def deliver(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """The worker job `wechat_messages_sent`: one batch, claimed, sent with no transaction open, recorded."""
    schedule = settings.webhook_retry_schedule
    expired = await provider_outbox.expire(db, CHANNEL, now, schedule)
    claimed = await provider_outbox.claim(db, CHANNEL, now, schedule,
                                          lease_seconds=int(settings.wechat_timeout_seconds * 3) + 30, limit=BATCH)
    await db.commit()
    if not claimed:
        return expired
    api = WechatApi(settings)
    results = await asyncio.gather(*(_send(api, c) for c in claimed))
    await begin_write(db)
    for c, r in zip(claimed, results, strict=True):
        await provider_outbox.record(db, c, r, now, schedule)
    return expired + len(claimed)


async def _send(api: WechatApi, c: provider_outbox.Claimed) -> provider_outbox.Result:
    if not c.appid:
        return provider_outbox.Result(ok=False, error="no appid", retry=False)
    message = {"touser": c.target, "template_id": c.payload.get("template_id"), "data": c.payload.get("data"),
               "lang": "zh_CN"}
    try:
        sent = await send_subscription_message(api, c.appid, message)
    except WechatUnavailable as exc:
        reason = exc.details.get("reason") if isinstance(exc.details, dict) else None
        return provider_outbox.Result(ok=False, error=f"WeChat unavailable: {reason}")
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the row
        return provider_outbox.Result(ok=False, error=f"{type(exc).__name__}")
    if not sent.ok:
        log.warning("WeChat subscription message %s: %s", c.message_id, sent.error)
    return provider_outbox.Result(ok=sent.ok, error=sent.error, retry=sent.retry)


# ---- what a user accepted ---------------------------------------------------------------------------------


async def accept(db: AsyncSession, user_id: int, appid: str, accepted: Sequence[tuple[str, str]],
                 now: datetime) -> None:
    """One more allowed message per accepted (type, template id): an upsert adding 1 (concurrent calls add up)."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    for type_, template_id in dict(accepted).items():
        stmt = insert(S).values(user_id=user_id, appid=appid, notification_type=type_, template_id=template_id,
                                remaining=1, updated_at=now)
        await db.execute(stmt.on_conflict_do_update(
            index_elements=[S.user_id, S.appid, S.notification_type],
            set_={"remaining": S.remaining + 1, "template_id": stmt.excluded.template_id, "updated_at": now}))


async def remaining(db: AsyncSession, user_id: int, appid: str) -> list[tuple[str, str, int]]:
    rows = (await db.execute(select(S.notification_type, S.template_id, S.remaining)
                             .where(S.user_id == user_id, S.appid == appid).order_by(S.notification_type))).all()
    return [(r.notification_type, r.template_id, r.remaining) for r in rows]


async def bound_appid(db: AsyncSession, user_id: int, client_id: str | None) -> str:
    """The WeChat appid of the app the caller came through (token claim `cid`, or X-Client-Id), if the caller
    is bound there: 403 otherwise (a first-party sign-in, an app without WeChat, an unbound user)."""
    if not client_id:
        raise NotPermitted()
    client = await active_client(db, client_id)
    if not client.wechat_appid:
        raise NotPermitted()
    bound = (await db.execute(select(B.id).where(B.user_id == user_id, B.appid == client.wechat_appid))).first()
    if bound is None:
        raise NotPermitted()
    return client.wechat_appid
