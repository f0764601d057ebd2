"""Consent to the privacy notice: recording an acceptance, and the check every authenticated request passes.

The latest accepted version sits on the users row (users.privacy_version), read with the principal in the same
statement (and cached with it on PostgreSQL), so the check costs no query of its own; privacy_consents keeps
every acceptance (version, time, where).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.errors import Conflict, NotPermitted
from app.privacy.models import VIA, PrivacyConsent
from app.users.models import Role, User

# What a resident may still do before accepting the current notice: read it, accept it, read their own profile,
# log out, export their data and erase their account.
CONSENT_FREE: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/api/v1/privacy/notice"),
    ("GET", "/api/v1/privacy/consents"),
    ("POST", "/api/v1/privacy/consents"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me/export"),   # issue 21, items 4 and 5: a resident who refuses the new notice may still
    ("POST", "/api/v1/me/erase"),   # take their data and leave
})


class ConsentRequired(NotPermitted):
    """403: the resident has not accepted the current privacy notice. details: {required_version,
    accepted_version}. Read GET /api/v1/privacy/notice, then POST /api/v1/privacy/consents."""

    code = "privacy_consent_required"


class NoticeOutdated(Conflict):
    """409: the version accepted is not the current notice's (it changed while the client showed it)."""

    code = "privacy_notice_outdated"


def needs_consent(settings: Settings, role: str, accepted: str | None, method: str, path: str) -> bool:
    """Residents must have accepted the current notice for everything but CONSENT_FREE. Staff accounts are
    created by their employer, who informs them; they are not asked here."""
    return (role == Role.resident and accepted != settings.privacy_notice_version
            and (method, path.rstrip("/") or "/") not in CONSENT_FREE)


def ensure_consent(settings: Settings, role: str, accepted: str | None, method: str, path: str) -> None:
    if needs_consent(settings, role, accepted, method, path):
        raise ConsentRequired(details={"required_version": settings.privacy_notice_version,
                                       "accepted_version": accepted})


async def record_consent(db: AsyncSession, user_id: int, version: str, *, via: str,
                         settings: Settings | None = None) -> None:
    """Record that the user accepted the notice `version` (every sign-in path calls it when an account is made,
    with via 'register', 'sms' or 'wechat'). 409 privacy_notice_outdated unless it is the current version."""
    required = (settings or get_settings()).privacy_notice_version
    if version != required:
        raise NoticeOutdated(details={"required_version": required, "accepted_version": version})
    if via not in VIA:
        raise ValueError(f"unknown consent channel {via!r}")
    db.add(PrivacyConsent(user_id=user_id, version=version, via=via, accepted_at=datetime.now(UTC)))
    await db.execute(update(User).where(User.id == user_id).values(privacy_version=version))
    await db.flush()


async def consents_of(db: AsyncSession, user_id: int) -> list[PrivacyConsent]:
    """Every acceptance of the user, newest first."""
    return list((await db.execute(select(PrivacyConsent).where(PrivacyConsent.user_id == user_id)
                                  .order_by(PrivacyConsent.accepted_at.desc(), PrivacyConsent.id.desc())
                                  .limit(100))).scalars())
