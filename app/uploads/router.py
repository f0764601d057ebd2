from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from app.auth.deps import CurrentPrincipal
from app.core.config import AppSettings
from app.core.errors import NotFound, error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.routing import PrefixRouter
from app.core.validators import IdPath
from app.db.session import DbSession
from app.uploads import service
from app.uploads.schemas import UploadRead
from app.uploads.signing import PhotoSigner
from app.uploads.sniff import IMAGE_TYPES

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/uploads", tags=["uploads"])
photos = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/photos", tags=["uploads"])


async def get_photo_signer(request: Request) -> PhotoSigner:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop on every request that signs
    return request.app.state.photo_signer


Signer = Annotated[PhotoSigner, Depends(get_photo_signer)]

IMAGE_RESPONSES = {200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
                         "description": "The image bytes."}}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Upload a photo (JPEG, PNG or WebP)",
             response_model=UploadRead, responses=error_responses(401, 413, 415, 422, 500),
             description="The type is read from the bytes, not the file name; the photo is decoded and encoded again "
                         "(EXIF and anything but pixels is dropped; at most MAX_PHOTO_PIXELS pixels, else 413 "
                         "`image_too_large`). Attach the returned id to a report "
                         "(`photo_ids`) or a step. Size limit: MAX_PHOTO_BYTES.",
             dependencies=[Idempotent])
async def upload_photo(request: Request, db: DbSession, settings: AppSettings, p: CurrentPrincipal,
                       file: UploadFile = File(...)):
    return await service.create_upload(db, settings, request.app.state.storage, p, file)


@router.get("/{upload_id}", summary="Download one of my uploads", response_class=FileResponse,
            responses={**IMAGE_RESPONSES, **error_responses(401, 404, 422, 500)})
async def download_own_upload(request: Request, db: DbSession, p: CurrentPrincipal, upload_id: IdPath):
    upload = await service.get_own_upload(db, p, upload_id)
    return FileResponse(request.app.state.storage.local_path(upload.storage_key), media_type=upload.content_type,
                        headers=service.download_headers(upload.id, upload.content_type))


_TYPE_OF = {ext: ctype for ctype, ext in IMAGE_TYPES.items()}
STORAGE_KEY = r"^[0-9]{4}/[0-9]{2}/[0-9a-f]{32}\.(jpg|png|webp)$"  # what create_upload generates


@photos.get("/{upload_id}", summary="A photo, by a signed URL (no token)", response_class=FileResponse,
            responses={**IMAGE_RESPONSES, **error_responses(404, 422, 500)},
            description="The `signed_url` of a photo in a report. Checked by its signature and expiry alone (no "
                        "session, no database); expired, altered or unknown: 404.")
async def get_signed_photo(request: Request, signer: Signer, upload_id: IdPath,
                           key: Annotated[str, Query(max_length=200, pattern=STORAGE_KEY)],
                           exp: Annotated[int, Query(ge=0, le=2**40)],
                           sig: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")]):
    if not signer.valid(upload_id, key, exp, sig):
        raise NotFound()
    path = request.app.state.storage.local_path(key)
    if not path.is_file():
        raise NotFound()
    content_type = _TYPE_OF[key.rsplit(".", 1)[1]]
    return FileResponse(path, media_type=content_type,
                        headers=service.download_headers(upload_id, content_type, max_age=300))
