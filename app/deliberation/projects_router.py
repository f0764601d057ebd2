"""民生微实事 projects: list, read, milestones, follow."""

from __future__ import annotations

from fastapi import status

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession
from app.deliberation import projects
from app.deliberation.project_schemas import MilestoneCreate, ProjectFollowRead, ProjectRead, ProjectSummary
from app.uploads.router import Signer

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/projects", tags=["projects"])


@router.get("", summary="民生微实事 projects of my community (or my scope), newest first",
            response_model=Page[ProjectSummary], responses=error_responses(400, 401, 422, 500))
async def list_projects(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None):
    return await projects.list_projects(db, p, limit=limit, cursor=cursor)


@router.get("/{project_id}", summary="A project with its public milestones", response_model=ProjectRead,
            responses=error_responses(401, 404, 422, 500))
async def get_project(db: DbSession, p: CurrentPrincipal, signer: Signer, project_id: IdPath):
    return await projects.project_detail(db, p, project_id, signer.url)


@router.post("/{project_id}/milestones", status_code=status.HTTP_201_CREATED, summary="Record progress (进展)",
             response_model=ProjectRead, responses=error_responses(401, 403, 404, 409, 422, 500),
             description="Admins over the community; `completes` ends the project. Followers are told.",
             dependencies=[Idempotent])
async def add_project_milestone(db: DbSession, p: CurrentPrincipal, signer: Signer, project_id: IdPath,
                                body: MilestoneCreate):
    return await projects.add_milestone(db, p, project_id, body, signer.url)


@router.post("/{project_id}/follow", summary="Follow a project", response_model=ProjectFollowRead,
             responses=error_responses(401, 403, 404, 422, 500),
             dependencies=[Idempotent])
async def follow_project(db: DbSession, p: CurrentPrincipal, project_id: IdPath):
    return await projects.follow(db, p, project_id, on=True)


@router.delete("/{project_id}/follow", summary="Stop following a project", response_model=ProjectFollowRead,
               responses=error_responses(401, 404, 422, 500))
async def unfollow_project(db: DbSession, p: CurrentPrincipal, project_id: IdPath):
    return await projects.follow(db, p, project_id, on=False)
