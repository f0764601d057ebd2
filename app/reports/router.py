from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, status
from fastapi.responses import FileResponse

from app.auth.deps import CurrentPrincipal, ReadPrincipal
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery, ObjectId
from app.db.session import DbSession, ReadRows
from app.reports import queries, service
from app.reports.lifecycle import State
from app.reports.policies import View
from app.reports.schemas import EventRead, FollowRead, ReportCreate, ReportRead, ReportSummary, StateCounts, StepIn
from app.uploads import service as uploads_service
from app.uploads.router import IMAGE_RESPONSES, Signer

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/reports", tags=["reports"])

LIST_ERRORS = error_responses(400, 401, 422, 500)
READ_ERRORS = error_responses(401, 404, 422, 500)
STEP_ERRORS = error_responses(401, 403, 404, 409, 413, 422, 500)


class QueueFilters:
    """Filters shared by the queue and its per-state counts."""

    def __init__(self, view, filters):
        self.view = view
        self.filters = filters


async def queue_filters(
        view: Annotated[View | None, Query(description="Residents: mine (default), community, following. "
                                                       "Staff: queue (default) or mine (reports I filed).")] = None,
        category_id: Annotated[list[ObjectId] | None, Query(max_length=20)] = None,
        overdue: Annotated[bool | None, Query(description="Only overdue (true) or not overdue (false).")] = None,
        created_from: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
        created_to: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
        source: Annotated[list[Literal["app", "mini_program", "patrol", "hotline"]] | None,
                          Query(max_length=4)] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=50, description="Text in the title.")] = None,
        grid_id: IdQuery = None,
) -> QueueFilters:
    return QueueFilters(view, dict(categories=category_id, overdue=overdue, created_from=created_from,
                                   created_to=created_to, sources=source, q=q, grid_id=grid_id))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Submit a report (报事)", response_model=ReportRead,
             responses=error_responses(401, 403, 409, 413, 422, 500),
             description="Residents report in their own community; grid workers file on patrol or for a resident "
                         "(hotline). Answers with the report, its number (e.g. BS20261122-0001) and deadlines.",
             dependencies=[Idempotent])
async def submit_report(db: DbSession, p: CurrentPrincipal, signer: Signer, body: ReportCreate):
    return signer.sign_photos(await service.submit_report(db, p, body))


@router.get("", summary="My queue: reports I may see, newest first", response_model=Page[ReportSummary],
            responses=LIST_ERRORS)
async def list_reports(rows: ReadRows, p: ReadPrincipal, f: Annotated[QueueFilters, Depends(queue_filters)],
                       state: Annotated[list[State] | None, Query(max_length=9)] = None,
                       limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_reports(rows, p, view=f.view, states=state, limit=limit, cursor=cursor, **f.filters)


@router.get("/counts", summary="Reports per state in my queue (for tabs)", response_model=StateCounts,
            responses=LIST_ERRORS)
async def count_reports_by_state(rows: ReadRows, p: ReadPrincipal, f: Annotated[QueueFilters, Depends(queue_filters)]):
    return await queries.count_by_state(rows, p, view=f.view, **f.filters)


@router.get("/similar", summary="Similar open reports nearby (before submitting)", response_model=list[ReportSummary],
            responses=LIST_ERRORS,
            description="Same category, same building or within 250 m, from the last 30 days, newest first.")
async def find_similar_reports(rows: ReadRows, p: ReadPrincipal, category_id: Annotated[int, Query(ge=1, le=2**53)],
                  building_id: IdQuery = None, lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
                  lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
                  limit: Annotated[int, Query(ge=1, le=20)] = 10):
    return await queries.similar(rows, p, category_id=category_id, building_id=building_id, lat=lat, lng=lng,
                                 limit=limit)


@router.get("/{report_id}", summary="A report, with photos and the steps I may take", response_model=ReportRead,
            responses=READ_ERRORS)
async def get_report(rows: ReadRows, p: ReadPrincipal, signer: Signer, report_id: IdPath):
    return signer.sign_photos(await queries.report_detail(rows, p, report_id))


@router.get("/{report_id}/timeline", summary="The report's timeline", response_model=list[EventRead],
            responses=READ_ERRORS,
            description="Residents see the public steps, with internal notes left out; staff see every step.")
async def get_timeline(rows: ReadRows, p: ReadPrincipal, report_id: IdPath):
    return await queries.timeline(rows, p, report_id)


@router.post("/{report_id}/steps", summary="Take a step: accept, dispatch, resolve, supervise ...",
             response_model=ReportRead, responses=STEP_ERRORS,
             description="One door for every step of the lifecycle. Send the `version` you saw as "
                         "`expected_version`; if someone acted first you get 409 `stale_version`. A step not allowed "
                         "in the report's state is 409 `invalid_transition`; one you may not take is 403.",
             dependencies=[Idempotent])
async def take_step(db: DbSession, settings: AppSettings, p: CurrentPrincipal, signer: Signer, report_id: IdPath,
                    body: StepIn):
    return signer.sign_photos(await service.take_step(db, settings, p, report_id, body))


@router.post("/{report_id}/follow", summary="Follow a public report (关注, me too)", response_model=FollowRead,
             responses=error_responses(401, 403, 404, 409, 422, 500),
             dependencies=[Idempotent])
async def follow_report(db: DbSession, p: CurrentPrincipal, report_id: IdPath):
    return await service.follow(db, p, report_id, on=True)


@router.delete("/{report_id}/follow", summary="Stop following a report", response_model=FollowRead,
               responses=READ_ERRORS)
async def unfollow_report(db: DbSession, p: CurrentPrincipal, report_id: IdPath):
    return await service.follow(db, p, report_id, on=False)


@router.get("/{report_id}/photos/{upload_id}", summary="A photo of a report", response_class=FileResponse,
            responses={**IMAGE_RESPONSES, **READ_ERRORS})
async def get_report_photo(request: Request, db: DbSession, p: CurrentPrincipal, report_id: IdPath, upload_id: IdPath):
    upload = await service.photo_for_download(db, p, report_id, upload_id)
    return FileResponse(request.app.state.storage.local_path(upload.storage_key), media_type=upload.content_type,
                        headers=uploads_service.download_headers(upload.id, upload.content_type))
