"""The worker's timed jobs, in the order each pass runs them.

A job is `async def job(db, settings, now) -> int`: one batch in the given session (committed by the runner), the
number of items it handled. The runner calls it again while it handled something, so a backlog drains in batches
without one huge transaction. Every job is safe to run in several workers at once: each item is claimed by a
conditional update (or `FOR UPDATE SKIP LOCKED`) that only one worker wins.

Domains add their jobs here, one line each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import sms_delivery
from app.bookings import service as bookings_service
from app.core import idempotency
from app.core.config import Settings
from app.deliberation import results as deliberation_results
from app.notifications import delivery as webhook_delivery
from app.notifications import wechat_messages
from app.points import expiry as points_expiry
from app.privacy import retention as privacy_retention
from app.reports import service as reports_service
from app.stats import compaction as rollup_compaction
from app.uploads import service as uploads_service

Job = Callable[[AsyncSession, Settings, datetime], Awaitable[int]]

JOBS: dict[str, Job] = {
    "auto_closed": reports_service.auto_close_due,
    "overdue_announced": reports_service.announce_overdue,
    "uploads_removed": uploads_service.cleanup_uploads,
    "vote_results_published": deliberation_results.publish_due_results,
    "webhooks_delivered": webhook_delivery.deliver_webhooks,  # commits its claims itself: see its docstring
    "bookings_reminded": bookings_service.send_reminders,
    "points_expired": points_expiry.expire_points,
    "idempotency_keys_purged": idempotency.purge_expired,  # issue 18
    # issue 21: retention of what is personal
    "report_photos_purged": privacy_retention.purge_report_photos,
    "access_logs_purged": privacy_retention.purge_access_logs,
    "sms_sent": sms_delivery.deliver_sms,  # issue 18; commits its claims itself like the webhooks
    "wechat_messages_sent": wechat_messages.deliver,  # issue 18; likewise
    "rollups_compacted": rollup_compaction.compact_job,  # issue 20: past cells' slots folded into slot 0
}
