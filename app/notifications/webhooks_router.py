"""Admin API of webhooks: subscriptions of a community, their deliveries and attempts, redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response, status

from app.auth.deps import AdminOnly, CurrentPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import ADMIN_READ, ADMIN_WRITE, PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession
from app.notifications import webhooks_service as service
from app.notifications.webhooks_schemas import (
    DeliveryDetail,
    DeliveryRead,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecretRotated,
    WebhookUpdate,
)

router = PrefixRouter(prefix="/api/v1/admin/webhooks", tags=["admin: webhooks"], dependencies=[AdminOnly],
                   route_class=IdempotentRoute)
LIST = error_responses(400, 401, 403, 404, 422, 500)


@router.get("", summary="List webhook subscriptions in your scope", response_model=Page[WebhookRead],
            responses=error_responses(400, 401, 403, 422, 500))
async def list_webhooks(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None,
                        grid_id: Annotated[IdQuery, Query(description="Only this community's or street's.")] = None):
    items, nxt = await service.list_subscriptions(db, p, grid_id=grid_id, limit=limit, cursor=cursor)
    return Page[WebhookRead](items=[WebhookRead.model_validate(s) for s in items], next_cursor=nxt)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a subscriber endpoint (secret shown once)",
             response_model=WebhookCreated, responses=ADMIN_WRITE)
async def create_webhook(db: DbSession, settings: AppSettings, p: CurrentPrincipal, body: WebhookCreate):
    sub, secret = await service.create_subscription(db, settings, p, body)
    return WebhookCreated.model_validate({**WebhookRead.model_validate(sub).model_dump(), "secret": secret})


@router.get("/{subscription_id}", summary="Read a webhook subscription", response_model=WebhookRead,
            responses=ADMIN_READ)
async def get_webhook(db: DbSession, p: CurrentPrincipal, subscription_id: IdPath):
    return await service.get_subscription(db, p, subscription_id)


@router.patch("/{subscription_id}", summary="Change a webhook subscription (URL, events, description, on/off)",
              response_model=WebhookRead, responses=ADMIN_WRITE)
async def update_webhook(db: DbSession, settings: AppSettings, p: CurrentPrincipal, subscription_id: IdPath,
                         body: WebhookUpdate):
    return await service.update_subscription(db, settings, p, subscription_id, body)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a webhook subscription with its deliveries", responses=ADMIN_READ)
async def delete_webhook(db: DbSession, p: CurrentPrincipal, subscription_id: IdPath):
    await service.delete_subscription(db, p, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/rotate-secret", summary="Replace the signing secret (new one shown once)",
             response_model=WebhookSecretRotated, responses=ADMIN_READ)
async def rotate_webhook_secret(db: DbSession, settings: AppSettings, p: CurrentPrincipal, subscription_id: IdPath):
    return await service.rotate_secret(db, settings, p, subscription_id)


@router.get("/{subscription_id}/deliveries", summary="Deliveries of a subscription, newest first",
            response_model=Page[DeliveryRead], responses=LIST)
async def list_webhook_deliveries(db: DbSession, p: CurrentPrincipal, subscription_id: IdPath, limit: Limit = 20,
                                  cursor: Cursor = None, status: DeliveryStatus | None = None):
    items, nxt = await service.list_deliveries(db, p, subscription_id, status=status, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@router.get("/{subscription_id}/deliveries/{delivery_id}", summary="A delivery, its body and every attempt",
            response_model=DeliveryDetail, responses=ADMIN_READ)
async def get_webhook_delivery(db: DbSession, p: CurrentPrincipal, subscription_id: IdPath, delivery_id: IdPath):
    return await service.get_delivery(db, p, subscription_id, delivery_id)


@router.post("/{subscription_id}/deliveries/{delivery_id}/redeliver",
             summary="Send a delivery again now (same webhook-id)", response_model=DeliveryRead,
             responses=error_responses(401, 403, 404, 409, 422, 500),
             dependencies=[Idempotent])
async def redeliver_webhook(db: DbSession, p: CurrentPrincipal, subscription_id: IdPath, delivery_id: IdPath):
    return await service.redeliver(db, p, subscription_id, delivery_id)
