"""Photo uploads: size and type checked from the bytes, then decoded and encoded again (app/uploads/images.py)
before anything is stored."""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import UploadFile
from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, PayloadTooLarge, TooManyRequests, UnsupportedMediaType
from app.uploads import images
from app.uploads.models import Upload
from app.uploads.sniff import IMAGE_TYPES
from app.uploads.storage import LocalStorage, Storage


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, total = [], 0
    while chunk := await file.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(details={"max_bytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)


async def _check_quota(db: AsyncSession, settings: Settings, p: Principal, now: datetime) -> None:
    """Per user: UPLOADS_PER_MINUTE, and UPLOAD_QUOTA_PER_DAY files or UPLOAD_QUOTA_BYTES_PER_DAY bytes in 24 h
    (429 with Retry-After). A soft limit: two uploads at the same instant may both pass the last place."""
    day_ago, minute_ago = now - timedelta(days=1), now - timedelta(minutes=1)
    mine = select(Upload.created_at, Upload.size).where(Upload.owner_id == p.user_id, Upload.created_at > day_ago)\
        .subquery()
    row = (await db.execute(select(func.count(), func.coalesce(func.sum(mine.c.size), 0),
                                   func.count().filter(mine.c.created_at > minute_ago), func.min(mine.c.created_at))
                            .select_from(mine))).one()
    count, total, last_minute, oldest = int(row[0]), int(row[1]), int(row[2]), row[3]
    if last_minute >= settings.uploads_per_minute:
        raise TooManyRequests(retry_after=60)
    if count >= settings.upload_quota_per_day or total >= settings.upload_quota_bytes_per_day:
        wait = (oldest + timedelta(days=1) - now).total_seconds() if isinstance(oldest, datetime) else 60
        raise TooManyRequests(retry_after=max(1, math.ceil(wait)))


async def create_upload(db: AsyncSession, settings: Settings, storage: Storage, p: Principal,
                        file: UploadFile) -> Upload:
    await _check_quota(db, settings, p, datetime.now(UTC))
    data = await _read_limited(file, settings.max_photo_bytes)
    if not data:
        raise InvalidInput("validation_error", {"file": "empty"})
    try:
        data, content_type = await asyncio.to_thread(images.reencode, data, settings.max_photo_pixels)
    except images.TooManyPixels as exc:
        raise PayloadTooLarge("image_too_large", {"max_pixels": exc.limit}) from exc
    except images.NotAnImage as exc:
        raise UnsupportedMediaType(details={"allowed": sorted(IMAGE_TYPES)}) from exc
    now = datetime.now(UTC)
    key = f"{now:%Y/%m}/{uuid.uuid4().hex}.{IMAGE_TYPES[content_type]}"
    upload = Upload(owner_id=p.user_id, content_type=content_type, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), storage_key=key, created_at=now)
    db.add(upload)
    await db.flush()
    await storage.save(key, data)  # after the row is valid; if the commit fails the file is an orphan, not a leak
    return upload


async def owned_uploads(db: AsyncSession, p: Principal, ids: list[int]) -> list[Upload]:
    """The caller's own uploads with these ids, in the given order; 422 if any is missing or someone else's."""
    if not ids:
        return []
    rows = {u.id: u for u in (await db.execute(select(Upload).where(Upload.id.in_(ids),
                                                                      Upload.owner_id == p.user_id))).scalars()}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise InvalidInput("invalid_reference", {"photo_ids": missing})
    return [rows[i] for i in ids]


async def get_own_upload(db: AsyncSession, p: Principal, upload_id: int) -> Upload:
    upload = await db.get(Upload, upload_id)
    if upload is None or upload.owner_id != p.user_id or upload.purged_at is not None:
        raise NotFound()
    return upload


def download_headers(upload_id: int, content_type: str, max_age: int = 3600) -> dict[str, str]:
    """Headers of every photo download: the browser must not guess another type, and the file has a plain name."""
    return {"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="photo-{upload_id}.{IMAGE_TYPES[content_type]}"'}


# ---- the worker's cleanup -----------------------------------------------------------------------------------


def _attached(upload_id_col):
    """SQL: some row anywhere refers to this upload (every foreign key to uploads.id, whatever domain owns it)."""
    from app.db.models import Base  # every model, so every referring table is known

    refs = [fk.parent for t in Base.metadata.sorted_tables for fk in t.foreign_keys
            if fk.column.table.name == "uploads" and t.name != "uploads"]
    return [exists().where(col == upload_id_col) for col in refs]


async def cleanup_uploads(db: AsyncSession, settings: Settings, now: datetime, batch: int = 100) -> int:
    """Remove uploads nobody attached within UPLOAD_ORPHAN_HOURS, with their files, and files in storage whose row
    never committed (an upload whose request failed after the file was written). Each row is deleted by a
    conditional DELETE, so of two workers one removes it (and its file)."""
    cutoff = now - timedelta(hours=settings.upload_orphan_hours)
    storage = LocalStorage(settings.upload_dir)
    unattached = [~e for e in _attached(Upload.id)]
    candidates = (await db.execute(select(Upload.id).where(Upload.created_at < cutoff, *unattached)
                                   .order_by(Upload.created_at).limit(batch))).scalars().all()
    removed = 0
    for upload_id in candidates:
        key = (await db.execute(delete(Upload).where(Upload.id == upload_id, *unattached)
                                .returning(Upload.storage_key))).scalar_one_or_none()
        if key is not None:
            await storage.delete(key)
            removed += 1
    return removed + await _remove_stray_files(db, storage, cutoff, batch)


async def _remove_stray_files(db: AsyncSession, storage: LocalStorage, cutoff: datetime, batch: int) -> int:
    """Every old file is checked (in chunks of 500 keys a query), so a stray file is found however many attached
    old files there are; at most `batch` are removed a call. The walk reads the whole upload tree each pass."""
    old = await asyncio.to_thread(storage.keys_older_than, cutoff.timestamp())
    stray: list[str] = []
    for i in range(0, len(old), 500):
        chunk = old[i:i + 500]
        known = set((await db.execute(select(Upload.storage_key).where(Upload.storage_key.in_(chunk)))).scalars())
        stray += [k for k in chunk if k not in known]
        if len(stray) >= batch:
            break
    for key in stray[:batch]:
        await storage.delete(key)
    return len(stray[:batch])
