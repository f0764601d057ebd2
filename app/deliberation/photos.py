"""Photos of proposals and milestones: attached from the caller's own uploads, answered with signed URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.db.helpers import flush_or_conflict
from app.deliberation.models import DeliberationPhoto
from app.uploads import service as uploads_service
from app.uploads.models import Upload

Sign = Callable[[int, str], str]  # PhotoSigner.url: (upload id, storage key) -> a signed URL


async def attach(db: AsyncSession, p: Principal, photo_ids: list[int], *, proposal_id: int | None = None,
                 milestone_id: int | None = None) -> None:
    uploads = await uploads_service.owned_uploads(db, p, photo_ids)  # 422 for anyone else's
    for pos, up in enumerate(uploads):
        db.add(DeliberationPhoto(upload_id=up.id, proposal_id=proposal_id, milestone_id=milestone_id, position=pos))
    await flush_or_conflict(db, "photo_already_attached")


async def photos_of(db: AsyncSession, sign: Sign, *, proposal_ids: Iterable[int] = (),
                    milestone_ids: Iterable[int] = ()) -> dict[tuple[str, int], list[dict]]:
    """{("proposal", id) | ("milestone", id): [{id, signed_url}, ...]} in their order."""
    pids, mids = list(proposal_ids), list(milestone_ids)
    if not pids and not mids:
        return {}
    cond = DeliberationPhoto.proposal_id.in_(pids) if pids else DeliberationPhoto.milestone_id.in_(mids)
    rows = (await db.execute(
        select(DeliberationPhoto.proposal_id, DeliberationPhoto.milestone_id, Upload.id, Upload.storage_key)
        .join(Upload, Upload.id == DeliberationPhoto.upload_id).where(cond)
        .order_by(DeliberationPhoto.position))).all()
    out: dict[tuple[str, int], list[dict]] = {}
    for proposal_id, milestone_id, upload_id, key in rows:
        owner = ("proposal", proposal_id) if proposal_id is not None else ("milestone", milestone_id or 0)
        out.setdefault(owner, []).append({"id": upload_id, "signed_url": sign(upload_id, key)})
    return out
