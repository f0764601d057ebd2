"""Who hears of a report's step, and what: the step's notifications, written in the step's transaction.

`NOTICES` is the rule (pure): per action (or the state a rating led to), the audiences and the notification type
each gets. `notify_step` finds the audiences' users and writes the rows through notifications.notify; the actor
never hears of their own step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.notifications.catalog import TEMPLATES
from app.notifications.service import notify
from app.org.models import Department
from app.reports.lifecycle import Action, State
from app.reports.models import Report
from app.users.models import Role, User, UserGrid

REPORTER, HANDLER, GRID, LEVEL = "reporter", "handler", "grid_workers", "escalation_admins"

# action -> (audience, notification type) pairs; "rate" is decided by the outcome (see notices_for)
NOTICES: dict[Action, tuple[tuple[str, str], ...]] = {
    Action.accept: ((REPORTER, "report.accepted"),),
    Action.reject: ((REPORTER, "report.rejected"),),
    Action.withdraw: ((GRID, "report.withdrawn"),),
    Action.dispatch: ((REPORTER, "report.dispatched"), (HANDLER, "report.assigned")),
    Action.return_: ((GRID, "report.returned"),),
    Action.start: ((REPORTER, "report.started"),),
    Action.resolve: ((REPORTER, "report.resolved"),),
    Action.merge: ((REPORTER, "report.merged"),),
    Action.supervise: ((HANDLER, "report.supervised"),),
    Action.extend: ((HANDLER, "report.extended"),),
    Action.escalate: ((LEVEL, "report.escalated"),),
    Action.request_extension: ((LEVEL, "report.extension_requested"),),
    Action.reopen: ((HANDLER, "report.reopened"),),
}


# the notification types whose words name the handler
_NAMES_HANDLER = frozenset(t for t, words in TEMPLATES.items() if "{handler}" in words.zh_body + words.en_body)


def notices_for(action: Action, to: State) -> tuple[tuple[str, str], ...]:
    """The (audience, type) pairs of a step; a bad rating that sends the report back tells the handler."""
    if action is Action.rate:
        return ((HANDLER, "report.reopened"),) if to is State.dispatched else ()
    return NOTICES.get(action, ())


async def _handler_users(db: AsyncSession, department_id: int | None, user_id: int | None) -> list[int]:
    if user_id is not None:
        return [user_id]
    if department_id is None:
        return []
    return list((await db.execute(select(User.id).where(User.department_id == department_id,
                                                        User.is_active.is_(True)))).scalars())


async def _grid_workers(db: AsyncSession, grid_id: int) -> list[int]:
    return list((await db.execute(select(UserGrid.user_id).join(User, User.id == UserGrid.user_id).where(
        UserGrid.grid_id == grid_id, User.role == Role.grid_worker, User.is_active.is_(True)))).scalars())


async def _handler_name(db: AsyncSession, department_id: int | None, user_id: int | None) -> str:
    if department_id is not None:
        return (await db.execute(select(Department.name).where(Department.id == department_id))).scalar() or ""
    if user_id is not None:
        return (await db.execute(select(User.display_name).where(User.id == user_id))).scalar() or ""
    return ""


async def notify_step(db: AsyncSession, p: Principal, before: Any, action: Action, to: State,
                      changes: dict[str, Any], note: str | None) -> None:
    """Write the step's notifications. `before` is the report as it was (an entity or a row of its columns);
    `changes` the columns the step set."""
    pairs = notices_for(action, to)
    if not pairs:
        return
    dept = changes.get("handler_department_id", before.handler_department_id)
    user = changes.get("handler_user_id", before.handler_user_id)
    resolve_by = changes.get("resolve_by", before.resolve_by)
    params = {"title": before.title, "number": before.number, "note": note or "",
              "resolve_by": resolve_by.strftime("%Y-%m-%d %H:%M") if isinstance(resolve_by, datetime) else ""}
    if any(t in _NAMES_HANDLER for _, t in pairs):  # one more query, only for the words that use it
        params["handler"] = await _handler_name(db, dept, user)
    for audience, type_ in pairs:
        if audience == REPORTER:
            users = [before.reporter_id]
        elif audience == HANDLER:
            users = await _handler_users(db, dept, user)
        elif audience == LEVEL:  # the admins of the level the report now rests with (its community by default)
            users = await _admins_of(db, changes.get("escalated_to_grid_id") or before.escalated_to_grid_id
                                     or before.community_id)
        else:
            users = await _grid_workers(db, before.grid_id)
        await notify(db, users, type_, object_type="report", object_id=before.id,
                     link=f"/api/v1/reports/{before.id}", params=params, exclude=p.user_id)


async def _admins_of(db: AsyncSession, grid_id: int) -> list[int]:
    """The admins scoped to exactly this node of the grid tree (a community's supervisors, a street's ...)."""
    return list((await db.execute(select(User.id).where(User.role == Role.admin, User.is_active.is_(True),
                                                        User.scope_grid_id == grid_id))).scalars())


async def notify_overdue(db: AsyncSession, report_id: int) -> None:
    """A report passed its deadline: its handler (the grid while it waits for intake) and its supervisors."""
    r = (await db.execute(select(Report.id, Report.title, Report.number, Report.state, Report.grid_id,
                                 Report.community_id, Report.handler_department_id, Report.handler_user_id)
                          .where(Report.id == report_id))).one()
    handlers = await _grid_workers(db, r.grid_id) if r.state in (State.submitted, State.accepted) \
        else await _handler_users(db, r.handler_department_id, r.handler_user_id)
    users = [*handlers, *await _admins_of(db, r.community_id)]
    await notify(db, users, "report.overdue", object_type="report", object_id=r.id, link=f"/api/v1/reports/{r.id}",
                 params={"title": r.title, "number": r.number})
