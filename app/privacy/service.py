"""The privacy notice and consents, for the HTTP API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.privacy import consent
from app.privacy.models import PrivacyConsent
from app.privacy.notice import NOTICE_EN, NOTICE_ZH
from app.privacy.schemas import ConsentRead, NoticeRead


def notice(settings: Settings) -> NoticeRead:
    return NoticeRead(version=settings.privacy_notice_version, text_zh=NOTICE_ZH, text_en=NOTICE_EN)


async def accept(db: AsyncSession, settings: Settings, p: Principal, version: str) -> ConsentRead:
    await consent.record_consent(db, p.user_id, version, via="api", settings=settings)
    latest = (await consent.consents_of(db, p.user_id))[0]
    return ConsentRead.model_validate(latest)


async def my_consents(db: AsyncSession, p: Principal) -> list[PrivacyConsent]:
    return await consent.consents_of(db, p.user_id)
