"""Retention jobs (issue 21, item 6): photos of reports finished long ago are deleted (the timeline stays), and
access logs older than ACCESS_LOG_RETENTION_DAYS are purged; recent and open things are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.auth.models import KnownLoginAddress, LoginThrottle, RefreshToken
from app.privacy import retention
from app.reports.models import Report
from app.uploads.models import Upload
from app.worker import jobs, runner
from tests.images import PNG
from tests.reports.factories import make_report


async def _photo_report(app, client, world, state: str, ended_days_ago: int | None):
    resp = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                             files={"file": ("p.png", PNG, "image/png")})
    assert resp.status_code == 201, resp.text
    upload_id = resp.json()["id"]
    report = await make_report(app, world, state=state, reporter="resident_a", photo_ids=[upload_id])
    if ended_days_ago is not None:
        when = datetime.now(UTC) - timedelta(days=ended_days_ago)
        async with app.state.db.session(write=True) as s:
            await s.execute(update(Report).where(Report.id == report.id).values(
                updated_at=when, closed_at=when if state == "closed" else None))
    return report, upload_id


async def _upload(app, upload_id: int) -> Upload:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(Upload).where(Upload.id == upload_id))).scalar_one()


async def test_photos_of_reports_finished_long_ago_are_purged(app, client, world, settings):
    days = settings.report_photo_retention_days
    old_closed, old_photo = await _photo_report(app, client, world, "closed", days + 1)
    old_rejected, rejected_photo = await _photo_report(app, client, world, "rejected", days + 1)
    recent, recent_photo = await _photo_report(app, client, world, "closed", days - 1)
    open_old, open_photo = await _photo_report(app, client, world, "dispatched", days + 10)  # open: kept
    path = app.state.storage.local_path((await _upload(app, old_photo)).storage_key)
    assert path.is_file()
    timeline_before = (await client.get(f"/api/v1/reports/{old_closed.id}/timeline",
                                        headers=world.headers("resident_a"))).json()

    done = await runner.run_once(app.state.db, settings)
    assert done["report_photos_purged"] == 2

    assert (await _upload(app, old_photo)).purged_at is not None and not path.is_file()
    assert (await _upload(app, rejected_photo)).purged_at is not None
    for kept in (recent_photo, open_photo):
        upload = await _upload(app, kept)
        assert upload.purged_at is None and app.state.storage.local_path(upload.storage_key).is_file()
    h = world.headers("resident_a")
    detail = (await client.get(f"/api/v1/reports/{old_closed.id}", headers=h)).json()
    assert detail["photos"] == [] and detail["state"] == "closed"  # the report stays, without its photo
    assert (await client.get(f"/api/v1/reports/{old_closed.id}/photos/{old_photo}", headers=h)).status_code == 404
    assert (await client.get(f"/api/v1/uploads/{old_photo}", headers=h)).status_code == 404
    assert (await client.get(f"/api/v1/reports/{old_closed.id}/timeline", headers=h)).json() == timeline_before
    kept_detail = (await client.get(f"/api/v1/reports/{recent.id}", headers=h)).json()
    assert [p["id"] for p in kept_detail["photos"]] == [recent_photo]
    # a second pass finds nothing more to do
    assert (await runner.run_once(app.state.db, settings))["report_photos_purged"] == 0


async def test_access_logs_older_than_the_retention_are_purged(app, world, settings):
    now = datetime.now(UTC)
    old = now - timedelta(days=settings.access_log_retention_days + 1)
    recent = now - timedelta(days=1)
    a = world.users["resident_a"].id
    async with app.state.db.session(write=True) as s:
        s.add_all([
            LoginThrottle(key="phone:old", failures=3, window_start=old),
            LoginThrottle(key="phone:recent", failures=3, window_start=recent),
            LoginThrottle(key="addr:locked", failures=9, window_start=old, locked_until=now + timedelta(hours=1)),
            KnownLoginAddress(user_id=a, address="10.0.0.1", last_seen=old),
            KnownLoginAddress(user_id=a, address="10.0.0.2", last_seen=recent),
            RefreshToken(jti="o" * 32, user_id=a, family="f" * 32, issued_at=old, expires_at=old),
            RefreshToken(jti="r" * 32, user_id=a, family="g" * 32, issued_at=recent,
                         expires_at=now + timedelta(days=10)),
        ])
        audit.record(s, a, "auth.register", "user", a)  # the audit trail is not an access log: kept

    later = now + timedelta(seconds=1)
    done = await runner.run_once(app.state.db, settings, now=later)
    assert done["access_logs_purged"] == 3
    async with app.state.db.session(write=False) as s:
        assert set((await s.execute(select(LoginThrottle.key))).scalars()) == {"phone:recent", "addr:locked"}
        assert set((await s.execute(select(KnownLoginAddress.address))).scalars()) == {"10.0.0.2"}
        assert set((await s.execute(select(RefreshToken.jti))).scalars()) == {"r" * 32}
        assert (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 1


def test_jobs_are_registered():
    assert jobs.JOBS["report_photos_purged"] is retention.purge_report_photos
    assert jobs.JOBS["access_logs_purged"] is retention.purge_access_logs
