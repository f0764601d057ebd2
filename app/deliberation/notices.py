"""Who hears of what in deliberation, written in the transaction of the change (notifications.notify).

- on the agenda, plan on notice: the community's residents (the deliberation's public);
- declined, withdrawn: the proposer and the supporters;
- vote opened: the electoral roll; result: the roll, the proposer and the supporters;
- project adopted and progress: the project's followers;
- a hidden comment: its author.
The actor never hears of their own step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deliberation.models import ProjectFollower, Proposal, ProposalSupport, VoteElector
from app.notifications.service import notify
from app.users.models import Role, User


async def residents_of(db: AsyncSession, community_id: int) -> list[int]:
    return list((await db.execute(select(User.id).where(User.community_id == community_id, User.role == Role.resident,
                                                        User.is_active.is_(True)))).scalars())


async def supporters_of(db: AsyncSession, proposal_id: int) -> list[int]:
    return list((await db.execute(select(ProposalSupport.user_id)
                                  .where(ProposalSupport.proposal_id == proposal_id))).scalars())


async def electors_of(db: AsyncSession, vote_id: int) -> list[int]:
    return list((await db.execute(select(VoteElector.user_id).where(VoteElector.vote_id == vote_id))).scalars())


async def followers_of(db: AsyncSession, project_id: int) -> list[int]:
    return list((await db.execute(select(ProjectFollower.user_id)
                                  .where(ProjectFollower.project_id == project_id))).scalars())


async def tell_about_proposal(db: AsyncSession, prop: Proposal, type_: str, users: list[int],
                              actor_id: int | None = None, **params: Any) -> None:
    await notify(db, users, type_, object_type="proposal", object_id=prop.id, link=f"/api/v1/proposals/{prop.id}",
                 params={"title": prop.title, **params}, exclude=actor_id)


async def tell_about_project(db: AsyncSession, project_id: int, title: str, type_: str, users: list[int],
                             actor_id: int | None = None, **params: Any) -> None:
    await notify(db, users, type_, object_type="project", object_id=project_id,
                 link=f"/api/v1/projects/{project_id}", params={"title": title, **params}, exclude=actor_id)
