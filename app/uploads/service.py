"""Photo uploads: size and type checked from the bytes, then decoded and encoded again (app/uploads/images.py)
before anything is stored."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from app.uploads import images
from app.uploads.models import Upload
from app.uploads.sniff import IMAGE_TYPES
from app.uploads.storage import Storage


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, total = [], 0
    while chunk := await file.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(details={"max_bytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)


async def create_upload(db: AsyncSession, settings: Settings, storage: Storage, p: Principal,
                        file: UploadFile) -> Upload:
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
    if upload is None or upload.owner_id != p.user_id:
        raise NotFound()
    return upload


def download_headers(upload: Upload) -> dict[str, str]:
    """Headers of every photo download: the browser must not guess another type, and the file has a plain name."""
    return {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="photo-{upload.id}.{IMAGE_TYPES[upload.content_type]}"'}
