"""Retention (issue 21, item 6): the worker deletes what is personal once it has served its purpose.

- Photos of finished reports: REPORT_PHOTO_RETENTION_DAYS (default 3 years) after a report was closed (or
  rejected, withdrawn, merged), its photos' files are deleted and their uploads marked purged (uploads.purged_at).
  The report, its timeline (photo ids included), ratings and figures stay.
- Access logs: rows that record who signed in or was reached from where, older than ACCESS_LOG_RETENTION_DAYS:
  login throttle counters (keyed by phone number or address), known sign-in addresses, refresh tokens expired that
  long ago, and webhook attempts (with the first KiB of what the receiver answered). The audit trail is not an
  access log: it is the accountability record of staff actions (profile reads included), insert-only on
  PostgreSQL, and is kept.

Each job handles one batch and returns how many items it handled (the runner calls it again while > 0). Every
item is claimed by a conditional statement, so two workers never both handle one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import KnownLoginAddress, LoginThrottle, RefreshToken
from app.core.config import Settings
from app.notifications.webhooks_models import WebhookAttempt
from app.reports.models import Report, ReportPhoto
from app.uploads.models import Upload
from app.uploads.storage import LocalStorage

FINISHED = ("closed", "rejected", "withdrawn", "merged")


def _finished_before(cutoff: datetime):
    """SQL: the report is finished, and has been since before `cutoff` (closed_at; else its last change)."""
    return and_(Report.state.in_(FINISHED), func.coalesce(Report.closed_at, Report.updated_at) < cutoff)


async def purge_report_photos(db: AsyncSession, settings: Settings, now: datetime, batch: int = 100) -> int:
    """Delete the files of photos of reports finished more than REPORT_PHOTO_RETENTION_DAYS ago; mark the uploads
    purged. The mark is a conditional UPDATE (purged_at IS NULL), so of two workers one deletes each file."""
    cutoff = now - timedelta(days=settings.report_photo_retention_days)
    due = exists().where(ReportPhoto.upload_id == Upload.id, ReportPhoto.report_id == Report.id,
                         _finished_before(cutoff))
    ids = (await db.execute(select(Upload.id).where(Upload.purged_at.is_(None), due).order_by(Upload.id)
                            .limit(batch))).scalars().all()
    storage = LocalStorage(settings.upload_dir)
    done = 0
    for upload_id in ids:
        key = (await db.execute(update(Upload).where(Upload.id == upload_id, Upload.purged_at.is_(None))
                                .values(purged_at=now).returning(Upload.storage_key))).scalar_one_or_none()
        if key is not None:
            await storage.delete(key)
            done += 1
    return done


def _count(result: Any) -> int:
    """Rows a DELETE removed (a CursorResult's rowcount; -1 or None when the driver cannot tell: 0)."""
    return max(int(cast(CursorResult, result).rowcount or 0), 0)


async def purge_access_logs(db: AsyncSession, settings: Settings, now: datetime, batch: int = 500) -> int:
    """Delete access-log rows older than ACCESS_LOG_RETENTION_DAYS, up to `batch` of each table a call."""
    cutoff = now - timedelta(days=settings.access_log_retention_days)
    throttles = select(LoginThrottle.key).where(
        LoginThrottle.window_start < cutoff,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)).limit(batch)
    users = select(KnownLoginAddress.user_id).where(KnownLoginAddress.last_seen < cutoff).limit(batch)
    tokens = select(RefreshToken.jti).where(RefreshToken.expires_at < cutoff).limit(batch)
    attempts = select(WebhookAttempt.id).where(WebhookAttempt.started_at < cutoff).limit(batch)
    statements = [
        delete(LoginThrottle).where(LoginThrottle.key.in_(throttles), LoginThrottle.window_start < cutoff),
        delete(KnownLoginAddress).where(KnownLoginAddress.user_id.in_(users), KnownLoginAddress.last_seen < cutoff),
        delete(RefreshToken).where(RefreshToken.jti.in_(tokens), RefreshToken.expires_at < cutoff),
        delete(WebhookAttempt).where(WebhookAttempt.id.in_(attempts)),
    ]
    return sum([_count(await db.execute(stmt)) for stmt in statements])
