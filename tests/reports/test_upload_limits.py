"""Upload quota, rate limit, and the worker's cleanup of unattached uploads and stray files (issue 13, item 12)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.uploads import service as uploads_service
from app.uploads.models import Upload
from tests.helpers import assert_error
from tests.images import PNG


async def _upload(client, world, who="resident_a"):
    return await client.post("/api/v1/uploads", headers=world.headers(who),
                             files={"file": ("a.png", PNG, "image/png")})


async def test_uploads_per_minute_then_per_day(client, world, settings):
    per_minute, per_day = settings.uploads_per_minute, settings.upload_quota_per_day
    try:
        settings.uploads_per_minute, settings.upload_quota_per_day = 3, 100
        assert [(await _upload(client, world)).status_code for _ in range(4)] == [201, 201, 201, 429]
        assert (await _upload(client, world, "resident_b")).status_code == 201  # per user
        settings.uploads_per_minute, settings.upload_quota_per_day = 100, 3
        resp = await _upload(client, world)
        assert_error(resp, 429, "too_many_requests")
        assert 0 < int(resp.headers["retry-after"]) <= 86400
    finally:
        settings.uploads_per_minute, settings.upload_quota_per_day = per_minute, per_day


async def test_cleanup_removes_old_unattached_uploads_and_stray_files_only(client, app, world, settings):
    kept_new = (await _upload(client, world)).json()["id"]
    old = (await _upload(client, world)).json()["id"]
    attached = (await _upload(client, world)).json()["id"]
    resp = await client.post("/api/v1/reports", headers=world.headers("resident_a"),
                             json={"category_id": world.cat.id, "title": "路灯不亮", "photo_ids": [attached]})
    assert resp.status_code == 201, resp.text
    long_ago = datetime.now(UTC) - timedelta(hours=settings.upload_orphan_hours + 1)
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Upload).where(Upload.id.in_([old, attached])).values(created_at=long_ago))
        keys = dict((await s.execute(select(Upload.id, Upload.storage_key))).all())
    stray = settings.upload_dir / "2020/01/stray.png"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(PNG)
    past = time.time() - (settings.upload_orphan_hours + 1) * 3600
    os.utime(stray, (past, past))
    async with app.state.db.session(write=True) as s:
        removed = await uploads_service.cleanup_uploads(s, settings, datetime.now(UTC))
    assert removed == 2  # the old unattached upload and the stray file
    assert not stray.exists() and not (settings.upload_dir / keys[old]).exists()
    assert (settings.upload_dir / keys[attached]).exists() and (settings.upload_dir / keys[kept_new]).exists()
    async with app.state.db.session(write=False) as s:
        left = set((await s.execute(select(Upload.id))).scalars())
        assert left >= {kept_new, attached} and old not in left
        assert (await s.execute(select(func.count()).select_from(Upload))).scalar_one() == len(left)
    async with app.state.db.session(write=True) as s:  # a second pass finds nothing
        assert await uploads_service.cleanup_uploads(s, settings, datetime.now(UTC)) == 0
