"""民生微实事 projects: an adopted proposal becomes a project (its cost already reserved from the year's budget),
followed to completion with public milestones. Residents of the community read them; its admins add
milestones; residents follow them (the proposer and supporters follow from the start)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, false, func, insert, literal, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.errors import NotFound, NotPermitted
from app.core.pagination import keyset, page_of
from app.deliberation import lifecycle, notices, policies
from app.deliberation.models import MicroProject, ProjectFollower, ProjectMilestone, Proposal, ProposalSupport
from app.deliberation.photos import Sign, attach, photos_of
from app.deliberation.project_schemas import MilestoneCreate, ProjectState
from app.deliberation.writes import rowcount
from app.users.models import Role


async def create_from(db: AsyncSession, prop: Proposal, now: datetime) -> int:
    """The project of an adopted proposal; its proposer and supporters follow it."""
    project = MicroProject(proposal_id=prop.id, community_id=prop.community_id, community_path=prop.community_path,
                           budget_id=prop.budget_id, title=prop.title, cost=prop.reserved_amount or 0, spent=0,
                           state=ProjectState.planned.value, follower_count=0, created_at=now)
    db.add(project)
    await db.flush()
    people = union(select(literal(prop.proposer_id).label("user_id")),
                   select(ProposalSupport.user_id).where(ProposalSupport.proposal_id == prop.id)).subquery()
    await db.execute(insert(ProjectFollower).from_select(
        ["project_id", "user_id", "created_at"], select(literal(project.id), people.c.user_id, literal(now))))
    await _recount(db, project.id)
    return project.id


async def _recount(db: AsyncSession, project_id: int) -> None:
    count = select(func.count()).select_from(ProjectFollower).where(ProjectFollower.project_id == project_id)
    await db.execute(update(MicroProject).where(MicroProject.id == project_id)
                     .values(follower_count=count.scalar_subquery()).execution_options(synchronize_session=False))


def _visible(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.resident and p.community_id is not None:
        return MicroProject.community_id == p.community_id
    if p.is_admin and p.scope_path:
        return MicroProject.community_path.startswith(p.scope_path, autoescape=True)
    return false()


def _summary(m: MicroProject) -> dict:
    return {"id": m.id, "proposal_id": m.proposal_id, "community_id": m.community_id, "title": m.title,
            "cost": m.cost, "spent": m.spent, "state": m.state, "follower_count": m.follower_count,
            "created_at": m.created_at, "completed_at": m.completed_at}


async def list_projects(db: AsyncSession, p: Principal, *, limit: int, cursor: str | None) -> dict:
    t = MicroProject.__table__.c
    stmt = keyset(select(MicroProject).where(_visible(p)), [t.created_at, t.id], [datetime, int], cursor, limit,
                  descending=True)
    rows: list[MicroProject] = list((await db.execute(stmt)).scalars().all())
    items, nxt = page_of(rows, limit, lambda m: (m.created_at, m.id))
    return {"items": [_summary(m) for m in items], "next_cursor": nxt}


async def _load(db: AsyncSession, p: Principal, project_id: int) -> MicroProject:
    m = (await db.execute(select(MicroProject).where(MicroProject.id == project_id, _visible(p))
                          .execution_options(populate_existing=True))).scalar_one_or_none()
    if m is None:
        raise NotFound()
    return m


async def project_detail(db: AsyncSession, p: Principal, project_id: int, sign: Sign) -> dict:
    m = await _load(db, p, project_id)
    milestones = (await db.execute(select(ProjectMilestone).where(ProjectMilestone.project_id == m.id)
                                   .order_by(ProjectMilestone.id))).scalars().all()
    photos = await photos_of(db, sign, milestone_ids=[x.id for x in milestones])
    following = (await db.execute(select(ProjectFollower.user_id).where(
        ProjectFollower.project_id == m.id, ProjectFollower.user_id == p.user_id))).first() is not None
    return {**_summary(m), "following": following,
            "milestones": [{"id": x.id, "happened_on": x.happened_on, "note": x.note, "amount_spent": x.amount_spent,
                            "completes": x.completes, "photos": photos.get(("milestone", x.id), []),
                            "created_at": x.created_at} for x in milestones]}


async def add_milestone(db: AsyncSession, p: Principal, project_id: int, body: MilestoneCreate, sign: Sign) -> dict:
    """进展: an admin over the community records progress; the first starts the project, one that `completes` ends
    it. Conditional on the project not being completed, so two completions cannot both land."""
    m = await _load(db, p, project_id)
    if not policies.can_manage_community(p, m.community_path):
        raise NotPermitted()
    now = datetime.now(UTC)
    to = ProjectState.completed if body.completes else ProjectState.in_progress
    values: dict = {"state": to.value, "spent": MicroProject.spent + body.amount_spent}
    if body.completes:
        values["completed_at"] = now
    moved = await rowcount(db, update(MicroProject).where(MicroProject.id == m.id,
                                                        MicroProject.state != ProjectState.completed.value)
                             .values(**values).execution_options(synchronize_session=False))
    if moved != 1:
        raise lifecycle.InvalidTransition(details={"state": ProjectState.completed.value, "action": "milestone"})
    milestone = ProjectMilestone(project_id=m.id, happened_on=body.happened_on, note=body.note,
                                 amount_spent=body.amount_spent, completes=body.completes, author_id=p.user_id,
                                 created_at=now)
    db.add(milestone)
    await db.flush()
    await attach(db, p, list(body.photo_ids), milestone_id=milestone.id)
    await notices.tell_about_project(db, m.id, m.title, "project.milestone", await notices.followers_of(db, m.id),
                                     p.user_id, note=body.note)
    return await project_detail(db, p, m.id, sign)


async def follow(db: AsyncSession, p: Principal, project_id: int, on: bool) -> dict:
    m = await _load(db, p, project_id)
    if on:
        if not policies.is_neighbour(p, m.community_id):
            raise NotPermitted()
        ins = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        await db.execute(ins(ProjectFollower).values(project_id=m.id, user_id=p.user_id, created_at=datetime.now(UTC))
                         .on_conflict_do_nothing())
    else:
        await db.execute(delete(ProjectFollower).where(ProjectFollower.project_id == m.id,
                                                       ProjectFollower.user_id == p.user_id))
    await _recount(db, m.id)
    count = (await db.execute(select(MicroProject.follower_count).where(MicroProject.id == m.id))).scalar_one()
    return {"following": on, "follower_count": count}
