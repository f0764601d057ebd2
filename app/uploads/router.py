from __future__ import annotations

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import FileResponse

from app.auth.deps import CurrentPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.validators import IdPath
from app.db.session import DbSession
from app.uploads import service
from app.uploads.schemas import UploadRead

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])

IMAGE_RESPONSES = {200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
                         "description": "The image bytes."}}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Upload a photo (JPEG, PNG or WebP)",
             response_model=UploadRead, responses=error_responses(401, 413, 415, 422, 500),
             description="The type is read from the bytes, not the file name; the photo is decoded and encoded again "
                         "(EXIF and anything but pixels is dropped; at most MAX_PHOTO_PIXELS pixels, else 413 "
                         "`image_too_large`). Attach the returned id to a report "
                         "(`photo_ids`) or a step. Size limit: MAX_PHOTO_BYTES.")
async def upload_photo(request: Request, db: DbSession, settings: AppSettings, p: CurrentPrincipal,
                       file: UploadFile = File(...)):
    return await service.create_upload(db, settings, request.app.state.storage, p, file)


@router.get("/{upload_id}", summary="Download one of my uploads", response_class=FileResponse,
            responses={**IMAGE_RESPONSES, **error_responses(401, 404, 422, 500)})
async def download_own_upload(request: Request, db: DbSession, p: CurrentPrincipal, upload_id: IdPath):
    upload = await service.get_own_upload(db, p, upload_id)
    return FileResponse(request.app.state.storage.local_path(upload.storage_key), media_type=upload.content_type,
                        headers=service.download_headers(upload))
