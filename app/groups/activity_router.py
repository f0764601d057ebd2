"""Activities and signups: HTTP only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession
from app.groups import activities, queries
from app.groups.enums import SignupStatus
from app.groups.schemas import ActivityCancel, ActivityCreate, ActivityRead, HoursConfirmed, HoursIn, SignupRead

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/activities", tags=["activities"])

LIST_ERRORS = error_responses(400, 401, 403, 404, 422, 500)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 500)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an activity (group leaders, admins)",
             response_model=ActivityRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def create_activity(db: DbSession, p: CurrentPrincipal, body: ActivityCreate):
    return await activities.create_activity(db, p, body)


@router.get("", summary="Activities I may see, soonest first", response_model=Page[ActivityRead],
            responses=LIST_ERRORS)
async def list_activities(db: DbSession, p: CurrentPrincipal, group_id: IdQuery = None,
                          upcoming: Annotated[bool, Query(description="Only those not yet over.")] = True,
                          limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_activities(db, p, group_id=group_id, upcoming=upcoming, limit=limit, cursor=cursor)


@router.get("/{activity_id}", summary="An activity, with my signup", response_model=ActivityRead,
            responses=error_responses(401, 404, 422, 500))
async def get_activity(db: DbSession, p: CurrentPrincipal, activity_id: IdPath):
    return await activities.get_activity(db, p, activity_id)


@router.post("/{activity_id}/cancel", summary="Cancel an activity; everyone signed up is told",
             response_model=ActivityRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def cancel_activity(db: DbSession, p: CurrentPrincipal, activity_id: IdPath, body: ActivityCancel):
    return await activities.cancel_activity(db, p, activity_id, body)


@router.post("/{activity_id}/signup", summary="Sign up (报名)", response_model=ActivityRead, responses=WRITE_ERRORS,
             description="409 `activity_full` at capacity, `signup_closed` after the deadline; 403 `not_eligible` "
                         "for a members-only activity of a group you are not a member of.",
             dependencies=[Idempotent])
async def sign_up_for_activity(db: DbSession, p: CurrentPrincipal, activity_id: IdPath):
    return await activities.sign_up(db, p, activity_id)


@router.delete("/{activity_id}/signup", summary="Cancel my signup", response_model=ActivityRead,
               responses=WRITE_ERRORS)
async def cancel_activity_signup(db: DbSession, p: CurrentPrincipal, activity_id: IdPath):
    return await activities.cancel_signup(db, p, activity_id)


@router.get("/{activity_id}/signups", summary="Who signed up (organisers), display names only",
            response_model=Page[SignupRead], responses=LIST_ERRORS)
async def list_activity_signups(db: DbSession, p: CurrentPrincipal, activity_id: IdPath,
                                signup_status: Annotated[SignupStatus | None, Query(alias="status")] = None,
                                limit: Limit = 50, cursor: Cursor = None):
    return await queries.list_signups(db, p, activity_id, status=signup_status, limit=limit, cursor=cursor)


@router.post("/{activity_id}/signups/{user_id}/check-in", summary="Check a participant in (签到, organisers)",
             response_model=SignupRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def check_in_participant(db: DbSession, p: CurrentPrincipal, activity_id: IdPath, user_id: IdPath):
    return await activities.check_in(db, p, activity_id, user_id)


@router.post("/{activity_id}/signups/{user_id}/hours", summary="Confirm volunteer hours (organisers)",
             response_model=HoursConfirmed, responses=WRITE_ERRORS,
             description="Credits points at the community's rate, exactly once per participant and activity: "
                         "sending the same hours again answers the same with `points_credited` 0.",
             dependencies=[Idempotent])
async def confirm_volunteer_hours(db: DbSession, p: CurrentPrincipal, activity_id: IdPath, user_id: IdPath,
                                  body: HoursIn):
    return await activities.confirm_hours(db, p, activity_id, user_id, body.hours)
