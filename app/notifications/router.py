"""The inbox: GET /api/v1/notifications, the unread count, mark one or all read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.i18n import wants_english
from app.core.pagination import Cursor, Limit
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession
from app.notifications import queries
from app.notifications.schemas import MarkedRead, NotificationRead, UnreadCount

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", summary="My notifications, newest first", response_model=Page[NotificationRead],
            responses=error_responses(400, 401, 422, 500))
async def list_notifications(request: Request, db: DbSession, p: CurrentPrincipal, limit: Limit = 20,
                             cursor: Cursor = None,
                             unread: Annotated[bool, Query(description="Only unread ones.")] = False):
    items, nxt = await queries.list_inbox(db, p, unread=unread, limit=limit, cursor=cursor,
                                          english=wants_english(request.headers.get("accept-language")))
    return {"items": items, "next_cursor": nxt}


@router.get("/unread-count", summary="How many of my notifications are unread", response_model=UnreadCount,
            responses=error_responses(401, 422, 500))
async def count_unread_notifications(db: DbSession, p: CurrentPrincipal):
    return {"unread": await queries.unread_count(db, p)}


@router.post("/{notification_id}/read", summary="Mark one of my notifications read", response_model=MarkedRead,
             responses=error_responses(401, 404, 422, 500))
async def mark_notification_read(db: DbSession, p: CurrentPrincipal, notification_id: IdPath):
    return {"marked": await queries.mark_read(db, p, notification_id, datetime.now(UTC))}


@router.post("/read-all", summary="Mark all my notifications read", response_model=MarkedRead,
             responses=error_responses(401, 422, 500))
async def mark_all_notifications_read(db: DbSession, p: CurrentPrincipal):
    return {"marked": await queries.mark_all_read(db, p, datetime.now(UTC))}
