"""Who sees which reports. One SQL condition per viewer (lists and detail use the same one), and the pure
mirror of it for table tests. Who may *act* on a report is in lifecycle.py."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.org.models import GridLevel
from app.reports.lifecycle import Relation, ReportFacts, relations
from app.reports.models import Report
from app.users.models import Role


class View(StrEnum):
    """Which queue a list shows. Residents: mine (default), community (public feed), following.
    Staff: queue (their grids / department / scope)."""

    mine = "mine"
    community = "community"
    following = "following"
    queue = "queue"


def is_staff(p: Principal) -> bool:
    return p.role is not Role.resident


def can_submit(p: Principal) -> bool:
    """Residents report; grid workers file on patrol or for someone (hotline)."""
    return p.role in (Role.resident, Role.grid_worker)


def community_feed(p: Principal) -> ColumnElement[bool]:
    """Public, not hidden, not withdrawn reports of the resident's community."""
    if p.community_id is None:
        return false()
    return and_(Report.community_id == p.community_id, Report.is_public.is_(True), Report.hidden_at.is_(None),
                Report.state != "withdrawn")


def staff_queue(p: Principal) -> ColumnElement[bool]:
    """Reports a staff member works on: their grids, their department's, or their admin subtree."""
    if p.role is Role.grid_worker:
        return Report.grid_id.in_(sorted(p.grid_ids)) if p.grid_ids else false()
    if p.role is Role.department:
        return Report.handler_department_id == p.department_id
    if p.role is Role.admin and p.scope_grid_id is not None:
        column = {GridLevel.street: Report.street_id, GridLevel.community: Report.community_id,
                  GridLevel.grid: Report.grid_id, GridLevel.building: Report.building_id}.get(p.scope_level)
        if column is not None:
            return column == p.scope_grid_id
        return Report.grid_path.startswith(p.scope_path or "/-/", autoescape=True)
    return false()


def visible_reports(p: Principal) -> ColumnElement[bool]:
    """Every report this principal may read (detail, timeline, photos)."""
    if p.role is Role.resident:
        return or_(Report.reporter_id == p.user_id, community_feed(p))
    cond = staff_queue(p)
    if p.role is Role.grid_worker:
        cond = or_(cond, Report.handler_user_id == p.user_id, Report.reporter_id == p.user_id)
    return cond


def can_view(p: Principal, r: ReportFacts, state_withdrawn: bool = False) -> bool:
    """Pure mirror of visible_reports (tested to agree with it)."""
    rel = relations(p, r)
    if p.role is Role.resident:
        return Relation.reporter in rel or (
            r.community_id == p.community_id and r.is_public and not r.hidden and not state_withdrawn)
    return bool(rel & {Relation.grid_keeper, Relation.scope_admin, Relation.handler, Relation.reporter})


def sees_internal(p: Principal, r: ReportFacts) -> bool:
    """Staff who may see the report see internal notes and events; residents (the reporter too) do not."""
    return is_staff(p) and can_view(p, r)


def sees_reporter_name(p: Principal, reporter_id: int, hide_reporter: bool) -> bool:
    return not hide_reporter or is_staff(p) or p.user_id == reporter_id


def sees_hidden_content(p: Principal, r: ReportFacts) -> bool:
    """Moderated (hidden) reports and photos stay visible to their reporter and to staff."""
    return is_staff(p) or p.user_id == r.reporter_id


def can_follow(p: Principal, r: ReportFacts) -> bool:
    return p.role is Role.resident and p.user_id != r.reporter_id and r.community_id == p.community_id \
        and r.is_public and not r.hidden
