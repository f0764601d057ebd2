from __future__ import annotations

from fastapi import status

from app.announcements import service
from app.announcements.schemas import AnnouncementCreate, AnnouncementRead
from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/announcements", tags=["announcements"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Publish an announcement (公告)",
             response_model=AnnouncementRead, responses=error_responses(401, 403, 422, 500),
             description="Admins publish to a node of their scope (street, community, grid or building); its "
                         "residents are told in their inbox.",
             dependencies=[Idempotent])
async def publish_announcement(db: DbSession, p: CurrentPrincipal, body: AnnouncementCreate):
    return await service.publish(db, p, body)


@router.get("", summary="Announcements for me: pinned first, newest first", response_model=Page[AnnouncementRead],
            responses=error_responses(400, 401, 422, 500),
            description="Residents: live announcements for their building, grid, community and street. Admins: "
                        "every announcement in their scope (withdrawn and expired ones too).")
async def list_announcements(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None):
    return await service.list_announcements(db, p, limit=limit, cursor=cursor)


@router.get("/{announcement_id}", summary="An announcement", response_model=AnnouncementRead,
            responses=error_responses(401, 404, 422, 500))
async def get_announcement(db: DbSession, p: CurrentPrincipal, announcement_id: IdPath):
    return await service.get_announcement(db, p, announcement_id)


@router.post("/{announcement_id}/withdraw", summary="Withdraw an announcement", response_model=AnnouncementRead,
             responses=error_responses(401, 403, 404, 422, 500),
             dependencies=[Idempotent])
async def withdraw_announcement(db: DbSession, p: CurrentPrincipal, announcement_id: IdPath):
    return await service.withdraw(db, p, announcement_id)
