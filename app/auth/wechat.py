"""WeChat mini-program sign-in (微信登录, issue 18).

The mini-program sends its `wx.login` code with its `X-Client-Id`; the app's `wechat_appid` and the secret in
WECHAT_APP_SECRETS let our server call code2session (app/auth/wechat_api.py) for the user's openid, outside any
transaction. A bound openid signs in. An unknown one answers 401 `wechat_not_bound` with a bind ticket (signed,
WECHAT_BIND_TICKET_SECONDS): the client verifies a phone number with an SMS code of purpose `bind` and posts ticket
+ number + code; the openid is then bound to the number's account (a new number registers a resident, which needs
the building, display name and privacy notice version) and the user is signed in. One openid per app
(unique (appid, openid)) and one WeChat identity per account per app (unique (user_id, appid)), held by the
database; tokens carry the app's cid/scp."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime

import anyio
from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.auth import bind_ticket, sms
from app.auth.schemas import TokenOut
from app.auth.service import _issue_pair
from app.auth.wechat_api import WechatApi
from app.auth.wechat_models import WechatBinding
from app.auth.wechat_schemas import WechatBindIn
from app.clients.errors import ClientUnknown
from app.clients.models import ApiClient
from app.core.config import Settings
from app.core.errors import AppError, Conflict, InvalidInput, Unauthenticated
from app.core.security import hash_password
from app.core.validators import mask_phone
from app.db.session import Database
from app.privacy.consent import record_consent
from app.users import service as users_service
from app.users.models import Role, User


class WechatNotBound(AppError):
    status_code = 401
    code = "wechat_not_bound"

    def __init__(self, ticket: str, expires_in: int):
        super().__init__(details={"bind_ticket": ticket, "expires_in": expires_in})


class WechatTicketInvalid(AppError):
    status_code = 401
    code = "wechat_ticket_invalid"


def wechat_app(client: ApiClient | None) -> tuple[ApiClient, str]:
    """The app and its appid: WeChat sign-in always comes through a registered mini-program."""
    if client is None:
        raise ClientUnknown()
    if not client.wechat_appid:
        raise InvalidInput("invalid_reference", {"field": "X-Client-Id", "value": client.client_id,
                                                 "reason": "the app has no WeChat appid"})
    return client, client.wechat_appid


_BOUND = (select(User.id, User.role, User.is_active).join(WechatBinding, WechatBinding.user_id == User.id))


async def login(database: Database, settings: Settings, secret: str, client: ApiClient | None, *, js_code: str,
                address: str | None) -> TokenOut:
    app, appid = wechat_app(client)
    found = await WechatApi(settings).code2session(appid, js_code)  # no transaction open while WeChat answers
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        user = (await db.execute(_BOUND.where(WechatBinding.appid == appid,
                                              WechatBinding.openid == found.openid))).one_or_none()
        if user is not None:
            if not user.is_active:
                raise Unauthenticated("account_disabled")
            audit.record(db, user.id, "auth.login", "user", user.id, address=address, via="wechat",
                         client_id=app.client_id)
            return await _issue_pair(db, settings, secret, user, uuid.uuid4().hex, now, app)
    ttl = settings.wechat_bind_ticket_seconds
    ticket = bind_ticket.issue(secret, bind_ticket.Ticket(appid, found.openid, found.unionid, int(time.time()) + ttl))
    raise WechatNotBound(ticket, ttl)


_MISSING = {"type": "missing", "msg": "needed to register a number that has no account"}


async def bind(database: Database, settings: Settings, secret: str, key: str, client: ApiClient | None,
               data: WechatBindIn, *, address: str | None) -> TokenOut:
    app, appid = wechat_app(client)
    ticket = bind_ticket.read(secret, data.bind_ticket, time.time())
    if ticket is None or ticket.appid != appid:
        raise WechatTicketInvalid()
    registering = data.display_name is not None and data.building_id is not None \
        and data.privacy_notice_version is not None
    # hashed before the write transaction (argon2 must not hold SQLite's write lock); used only for a new number
    unusable = await anyio.to_thread.run_sync(hash_password, settings, secrets.token_urlsafe(32)) \
        if registering else None
    now = datetime.now(UTC)
    async with database.session(write=True) as db:
        await sms.consume(db, key, phone=data.phone, purpose="bind", code=data.code, now=now)
        user = (await db.execute(select(User.id, User.role, User.is_active)
                                 .where(User.phone == data.phone))).one_or_none()
        if user is None:
            if not registering:  # rolled back: the code stays usable for the completed request
                raise InvalidInput("validation_error", [
                    {"loc": ["body", f], **_MISSING} for f in ("display_name", "building_id", "privacy_notice_version")
                    if getattr(data, f) is None])
            assert data.display_name is not None and data.building_id is not None
            assert data.privacy_notice_version is not None
            created = await users_service.create_user(
                db, settings, phone=data.phone, password=None, password_hash=unusable,
                display_name=data.display_name, role=Role.resident, building_id=data.building_id)
            # issue 18 × privacy: the consent is recorded here, in this transaction, once app.privacy lands:
            await record_consent(db, created.id, data.privacy_notice_version, via="wechat", settings=settings)
            audit.record(db, created.id, "auth.register", "user", created.id, phone=mask_phone(data.phone),
                         via="wechat", privacy_notice_version=data.privacy_notice_version)
            who: User | Row = created
        else:
            if not user.is_active:
                raise Unauthenticated("account_disabled")
            who = user
        user_id = who.id
        taken = (await db.execute(select(WechatBinding.user_id, WechatBinding.openid).where(
            WechatBinding.appid == appid,
            (WechatBinding.openid == ticket.openid) | (WechatBinding.user_id == user_id)))).all()
        if taken:
            raise Conflict("conflict", {"reason": "this WeChat user is already bound" if any(
                t.openid == ticket.openid for t in taken) else "this account is bound to another WeChat user"})
        db.add(WechatBinding(user_id=user_id, appid=appid, openid=ticket.openid, unionid=ticket.unionid,
                             created_at=now))
        try:
            await db.flush()
        except IntegrityError as exc:  # a concurrent bind of the same openid or account won
            raise Conflict("conflict", {"reason": "bound meanwhile"}) from exc
        audit.record(db, user_id, "auth.wechat_bound", "user", user_id, appid=appid, client_id=app.client_id)
        return await _issue_pair(db, settings, secret, who, uuid.uuid4().hex, now, app)
