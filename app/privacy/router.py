"""The privacy notice and the resident's consents to it (issue 21)."""

from __future__ import annotations

from fastapi import status

from app.auth.deps import CurrentPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.routing import PrefixRouter
from app.db.session import DbSession
from app.privacy import service
from app.privacy.schemas import ConsentIn, ConsentRead, NoticeRead

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/privacy", tags=["privacy"])


@router.get("/notice", summary="The privacy notice (隐私政策): its current version, in Chinese and English",
            response_model=NoticeRead, responses=error_responses(422, 500),
            description="Public. Registration sends `privacy_notice_version` with this version; a signed-in "
                        "resident whose accepted version is older gets 403 `privacy_consent_required` on every "
                        "other request until they POST /api/v1/privacy/consents.")
async def privacy_notice(settings: AppSettings):
    return service.notice(settings)


@router.post("/consents", status_code=status.HTTP_201_CREATED, summary="Accept the current privacy notice",
             response_model=ConsentRead, responses=error_responses(401, 409, 413, 422, 500),
             dependencies=[Idempotent],
             description="409 `privacy_notice_outdated` when `version` is not the current one (the notice changed "
                         "while it was shown): read it again and accept that.")
async def privacy_accept(db: DbSession, settings: AppSettings, p: CurrentPrincipal, body: ConsentIn):
    return await service.accept(db, settings, p, body.version)


@router.get("/consents", summary="My acceptances of the privacy notice, newest first",
            response_model=list[ConsentRead], responses=error_responses(401, 422, 500))
async def privacy_my_consents(db: DbSession, p: CurrentPrincipal):
    return await service.my_consents(db, p)
