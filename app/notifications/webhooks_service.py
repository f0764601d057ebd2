"""Admins manage their communities' webhook subscriptions and look into deliveries. One transaction per request
(flush, never commit); sending is the worker's (app/notifications/delivery.py), never a request's.

Scope: a subscription hangs on a community or a street; an admin whose scope covers that node manages it
(like departments and categories). Someone else's subscription answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import keyset, page_of
from app.notifications import outbox, signing, ssrf
from app.notifications.webhooks_models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.notifications.webhooks_schemas import DeliveryStatus, WebhookCreate, WebhookUpdate
from app.org import policies as org_policies
from app.org.models import Grid, GridLevel
from app.org.service import active_node

S, D = WebhookSubscription, WebhookDelivery
OWNER_LEVELS = frozenset({GridLevel.community, GridLevel.street})


async def check_url(url: str, settings: Settings) -> None:
    """422 `webhook_url_invalid` for a malformed URL, `webhook_address_forbidden` for a host that does not
    resolve or resolves to an address inside our network (unless WEBHOOK_ALLOW_PRIVATE)."""
    try:
        target = ssrf.parse_url(url)
    except ssrf.UrlInvalid as exc:
        raise InvalidInput("webhook_url_invalid", {"field": "url", "value": url[:200], "reason": str(exc)}) from exc
    try:
        await ssrf.resolve_public(target.host, target.port, settings.webhook_allow_private)
    except ssrf.AddressRefused as exc:
        raise InvalidInput("webhook_address_forbidden",
                           {"field": "url", "value": exc.address or target.host, "reason": exc.kind}) from exc


async def _owner(db: AsyncSession, p: Principal, grid_id: int) -> Grid:
    grid = await active_node(db, grid_id)
    if grid.level not in OWNER_LEVELS or not org_policies.can_manage_owned(p, grid.path):
        raise InvalidInput("invalid_reference", {"grid_id": grid_id, "reason": "a community or street in your scope"})
    return grid


async def get_subscription(db: AsyncSession, p: Principal, subscription_id: int) -> WebhookSubscription:
    """The subscription if the admin's scope covers its node; 404 otherwise (as if it did not exist)."""
    ensure_admin(p)
    row = (await db.execute(select(S, Grid.path).join(Grid, Grid.id == S.grid_id)
                            .where(S.id == subscription_id))).one_or_none()
    if row is None or not org_policies.can_manage_owned(p, row[1]):
        raise NotFound()
    return row[0]


async def list_subscriptions(db: AsyncSession, p: Principal, *, grid_id: int | None, limit: int,
                             cursor: str | None) -> tuple[list[WebhookSubscription], str | None]:
    ensure_admin(p)
    stmt = select(S).join(Grid, Grid.id == S.grid_id).where(org_policies.visible_grids(p))
    if grid_id is not None:
        stmt = stmt.where(S.grid_id == grid_id)
    rows: list[WebhookSubscription] = list(
        (await db.execute(keyset(stmt, [S.__table__.c.id], [int], cursor, limit))).scalars())
    return page_of(rows, limit, lambda s: [s.id])


async def create_subscription(db: AsyncSession, settings: Settings, p: Principal,
                              data: WebhookCreate) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (answered once)."""
    ensure_admin(p)
    await _owner(db, p, data.grid_id)
    await check_url(data.url, settings)
    secret = signing.new_secret()
    sub = S(grid_id=data.grid_id, url=data.url, description=data.description,
            event_types=sorted({e.value for e in data.event_types}), secret=secret, is_active=data.is_active,
            version=1, created_by_id=p.user_id)
    db.add(sub)
    await db.flush()
    audit.record(db, p.user_id, "webhook.create", "webhook_subscription", sub.id, url=data.url,
                 event_types=sub.event_types)
    return sub, secret


async def update_subscription(db: AsyncSession, settings: Settings, p: Principal, subscription_id: int,
                              data: WebhookUpdate) -> WebhookSubscription:
    sub = await get_subscription(db, p, subscription_id)
    if data.expected_version != sub.version:  # a lost race is reported first
        raise Conflict("stale_version", {"current_version": sub.version, "state": _state(sub)})
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"expected_version"})
    if "url" in changes:
        await check_url(changes["url"], settings)
    if "event_types" in changes:
        changes["event_types"] = sorted({e.value if hasattr(e, "value") else e for e in changes["event_types"]})
    now = datetime.now(UTC)
    if changes.get("is_active") is True:
        changes["disabled_reason"] = None
    done = await db.execute(update(S).where(S.id == sub.id, S.version == data.expected_version)
                            .values(**changes, version=S.version + 1, updated_at=now)
                            .returning(S.id).execution_options(synchronize_session=False))
    if done.first() is None:
        current = (await db.execute(select(S.version, S.is_active).where(S.id == sub.id))).one()
        raise Conflict("stale_version", {"current_version": current.version,
                                         "state": "active" if current.is_active else "disabled"})
    if changes.get("is_active") is False:
        await outbox.disable(db, sub.id, None, now)
    audit.record(db, p.user_id, "webhook.update", "webhook_subscription", sub.id, **_audited(changes))
    await db.refresh(sub)
    return sub


def _state(sub: WebhookSubscription) -> str:
    return "active" if sub.is_active else "disabled"


def _audited(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if k in ("url", "event_types", "description", "is_active")}


async def delete_subscription(db: AsyncSession, p: Principal, subscription_id: int) -> None:
    """Remove it with its deliveries and their attempts (the database cascades)."""
    sub = await get_subscription(db, p, subscription_id)
    await db.execute(delete(S).where(S.id == sub.id).execution_options(synchronize_session=False))
    audit.record(db, p.user_id, "webhook.delete", "webhook_subscription", sub.id, url=sub.url)


async def rotate_secret(db: AsyncSession, settings: Settings, p: Principal,
                        subscription_id: int) -> dict[str, Any]:
    """A new secret (answered once); the old one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS."""
    sub = await get_subscription(db, p, subscription_id)
    now = datetime.now(UTC)
    until = now + timedelta(hours=settings.webhook_secret_overlap_hours) \
        if settings.webhook_secret_overlap_hours > 0 else None
    secret = signing.new_secret()
    row = (await db.execute(update(S).where(S.id == sub.id).values(
        previous_secret=S.secret if until else None, previous_secret_until=until, secret=secret,
        version=S.version + 1, updated_at=now).returning(S.version).execution_options(synchronize_session=False))).one()
    audit.record(db, p.user_id, "webhook.rotate_secret", "webhook_subscription", sub.id)
    return {"id": sub.id, "version": row.version, "secret": secret, "previous_secret_valid_until": until}


# ---- deliveries ----------------------------------------------------------------------------------------------


def delivery_read(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.id, "subscription_id": d.subscription_id, "webhook_id": d.message_id, "event_type": d.event_type,
            "status": d.status, "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at if d.status == DeliveryStatus.pending else None,
            "last_status_code": d.last_status_code, "last_error": d.last_error, "created_at": d.created_at,
            "finished_at": d.finished_at}


async def list_deliveries(db: AsyncSession, p: Principal, subscription_id: int, *, status: DeliveryStatus | None,
                          limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first."""
    sub = await get_subscription(db, p, subscription_id)
    stmt = select(D).where(D.subscription_id == sub.id)
    if status is not None:
        stmt = stmt.where(D.status == status.value)
    rows: list[WebhookDelivery] = list(
        (await db.execute(keyset(stmt, [D.__table__.c.id], [int], cursor, limit, descending=True))).scalars())
    items, nxt = page_of(rows, limit, lambda d: [d.id])
    return [delivery_read(d) for d in items], nxt


async def _delivery(db: AsyncSession, p: Principal, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    sub = await get_subscription(db, p, subscription_id)
    d = (await db.execute(select(D).where(D.id == delivery_id, D.subscription_id == sub.id))).scalar_one_or_none()
    if d is None:
        raise NotFound()
    return d


async def get_delivery(db: AsyncSession, p: Principal, subscription_id: int, delivery_id: int) -> dict[str, Any]:
    """One delivery with the exact body sent and every attempt, oldest first."""
    d = await _delivery(db, p, subscription_id, delivery_id)
    attempts = (await db.execute(select(WebhookAttempt).where(WebhookAttempt.delivery_id == d.id)
                                 .order_by(WebhookAttempt.id))).scalars()
    return {**delivery_read(d), "body": d.body, "attempt_log": [
        {"number": a.number, "started_at": a.started_at, "duration_ms": a.duration_ms, "status_code": a.status_code,
         "error": a.error, "response_body": a.response_body, "succeeded": a.succeeded} for a in attempts]}


async def redeliver(db: AsyncSession, p: Principal, subscription_id: int, delivery_id: int) -> dict[str, Any]:
    """Send it again now, with the same webhook-id: pending, due at once, a fresh backoff schedule. Not while an
    attempt is in flight (409 `delivery_in_flight`), nor for a stopped subscription (409 `webhook_disabled`)."""
    sub = await get_subscription(db, p, subscription_id)
    if not sub.is_active:
        raise Conflict("webhook_disabled")
    d = await _delivery(db, p, subscription_id, delivery_id)
    now = datetime.now(UTC)
    done = await db.execute(update(D).where(D.id == d.id, (D.locked_until.is_(None)) | (D.locked_until < now))
                            .values(status="pending", round_attempts=0, next_attempt_at=now, locked_until=None,
                                    finished_at=None).returning(D.id).execution_options(synchronize_session=False))
    if done.first() is None:
        raise Conflict("delivery_in_flight")
    audit.record(db, p.user_id, "webhook.redeliver", "webhook_delivery", d.id)
    await db.refresh(d)
    return delivery_read(d)
