"""Groups, membership and group notices: HTTP only."""

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
from app.groups import membership, notices, queries, service
from app.groups.enums import GroupKind, GroupStatus, MemberStatus
from app.groups.schemas import (
    ApplicationDecision,
    GroupCreate,
    GroupRead,
    GroupStepIn,
    GroupUpdate,
    InviteIn,
    MemberRead,
    MembershipRead,
    NoticeCreate,
    NoticeRead,
    RemoveIn,
)

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/groups", tags=["groups"])

LIST_ERRORS = error_responses(400, 401, 403, 404, 422, 500)
READ_ERRORS = error_responses(401, 404, 422, 500)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 500)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a group (admins) or propose one (residents)",
             response_model=GroupRead, responses=WRITE_ERRORS,
             description="Admins create an active group in a community of their scope, optionally with leaders. "
                         "A resident proposes one in their own community; an admin approves or declines it.",
             dependencies=[Idempotent])
async def create_group(db: DbSession, p: CurrentPrincipal, body: GroupCreate):
    return await service.create_group(db, p, body)


@router.get("", summary="Groups I may see, newest first", response_model=Page[GroupRead], responses=LIST_ERRORS,
            description="Residents: the active and archived groups of their community, and their own proposals. "
                        "Admins: every group in their scope.")
async def list_groups(db: DbSession, p: CurrentPrincipal, community_id: IdQuery = None,
                      kind: GroupKind | None = None, group_status: Annotated[GroupStatus | None, Query(
                          alias="status")] = None,
                      q: Annotated[str | None, Query(min_length=1, max_length=50, description="Text in the name.")]
                      = None, mine: Annotated[bool, Query(description="Only groups I am a member of.")] = False,
                      limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_groups(db, p, community_id=community_id, kind=kind, status=group_status, q=q,
                                     mine=mine, limit=limit, cursor=cursor)


@router.get("/{group_id}", summary="A group, with my membership", response_model=GroupRead, responses=READ_ERRORS)
async def get_group(db: DbSession, p: CurrentPrincipal, group_id: IdPath):
    return await service.get_group(db, p, group_id)


@router.patch("/{group_id}", summary="Edit a group (leaders, admins)", response_model=GroupRead,
              responses=WRITE_ERRORS)
async def update_group(db: DbSession, p: CurrentPrincipal, group_id: IdPath, body: GroupUpdate):
    return await service.update_group(db, p, group_id, body)


@router.post("/{group_id}/steps", summary="Approve or decline a proposal, archive a group (admins)",
             response_model=GroupRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def take_group_step(db: DbSession, p: CurrentPrincipal, group_id: IdPath, body: GroupStepIn):
    return await service.take_group_step(db, p, group_id, body)


@router.post("/{group_id}/join", summary="Join, apply, or accept an invitation", response_model=MembershipRead,
             responses=WRITE_ERRORS,
             description="Open groups: a member at once (409 `group_full` at the cap). Approval groups: an "
                         "application the leaders decide. Invite-only groups: accepts your invitation, else 403 "
                         "`invite_only`.",
             dependencies=[Idempotent])
async def join_group(db: DbSession, p: CurrentPrincipal, group_id: IdPath):
    return await membership.join_group(db, p, group_id)


@router.post("/{group_id}/leave", summary="Leave, withdraw an application or decline an invitation",
             response_model=MembershipRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def leave_group(db: DbSession, p: CurrentPrincipal, group_id: IdPath):
    return await membership.leave_group(db, p, group_id)


@router.get("/{group_id}/members", summary="Members (members and staff only), display names only",
            response_model=Page[MemberRead], responses=LIST_ERRORS,
            description="`status=applied` or `invited`: the group's leaders and staff only.")
async def list_group_members(db: DbSession, p: CurrentPrincipal, group_id: IdPath,
                             member_status: Annotated[MemberStatus, Query(alias="status")] = MemberStatus.active,
                             limit: Limit = 50, cursor: Cursor = None):
    return await queries.list_members(db, p, group_id, status=member_status, limit=limit, cursor=cursor)


@router.post("/{group_id}/applications/{user_id}", summary="Approve or decline an application (leaders)",
             response_model=MembershipRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def decide_application(db: DbSession, p: CurrentPrincipal, group_id: IdPath, user_id: IdPath,
                             body: ApplicationDecision):
    return await membership.decide_application(db, p, group_id, user_id, approve=body.approve, reason=body.reason)


@router.post("/{group_id}/invitations", summary="Invite a resident of the community (leaders)",
             response_model=MembershipRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def invite_to_group(db: DbSession, p: CurrentPrincipal, group_id: IdPath, body: InviteIn):
    return await membership.invite(db, p, group_id, body.user_id)


@router.post("/{group_id}/members/{user_id}/remove", summary="Remove a member, with a reason (leaders)",
             response_model=MembershipRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def remove_group_member(db: DbSession, p: CurrentPrincipal, group_id: IdPath, user_id: IdPath,
                              body: RemoveIn):
    return await membership.remove_member(db, p, group_id, user_id, body.reason)


@router.put("/{group_id}/leaders/{user_id}", summary="Make a resident a leader (admins)",
            response_model=MembershipRead, responses=WRITE_ERRORS)
async def appoint_group_leader(db: DbSession, p: CurrentPrincipal, group_id: IdPath, user_id: IdPath):
    return await membership.appoint_leader(db, p, group_id, user_id)


@router.delete("/{group_id}/leaders/{user_id}", summary="A leader becomes a member again (admins)",
               response_model=MembershipRead, responses=WRITE_ERRORS)
async def dismiss_group_leader(db: DbSession, p: CurrentPrincipal, group_id: IdPath, user_id: IdPath):
    return await membership.dismiss_leader(db, p, group_id, user_id)


@router.post("/{group_id}/notices", status_code=status.HTTP_201_CREATED, summary="Post a notice to the group "
             "(leaders)", response_model=NoticeRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def post_group_notice(db: DbSession, p: CurrentPrincipal, group_id: IdPath, body: NoticeCreate):
    return await notices.post_notice(db, p, group_id, body)


@router.get("/{group_id}/notices", summary="The group's notices (members and staff)", response_model=Page[NoticeRead],
            responses=LIST_ERRORS)
async def list_group_notices(db: DbSession, p: CurrentPrincipal, group_id: IdPath, limit: Limit = 20,
                             cursor: Cursor = None):
    return await queries.list_notices(db, p, group_id, limit=limit, cursor=cursor)
