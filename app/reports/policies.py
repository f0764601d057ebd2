"""Who sees which reports. One SQL condition per viewer (lists and detail use the same one), and the pure
mirror of it for table tests. Who may *act* on a report is in lifecycle.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, String, and_, bindparam, false, or_
from sqlalchemy.sql.elements import BindParameter, ColumnElement

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


# Who is asking, as named bind parameters. A condition depends on the viewer's *shape* (role, whether they belong to
# a community, how an admin's scope is matched, how many grids a grid worker keeps), never on their ids: it is built
# once per shape (lru_cache) and bound per request with viewer_params. A parameter not bound is an error (a
# required bindparam), never someone else's value.
_VIEWER = bindparam("viewer_id", type_=BigInteger)
_COMMUNITY = bindparam("viewer_community_id", type_=BigInteger)
_GRIDS = bindparam("viewer_grid_ids", type_=BigInteger, expanding=True)
_DEPARTMENT = bindparam("viewer_department_id", type_=BigInteger)
_SCOPE = bindparam("viewer_scope_id", type_=BigInteger)
_SCOPE_LIKE = bindparam("viewer_scope_like", type_=String)
_SCOPE_COLUMNS = {GridLevel.street: "street_id", GridLevel.community: "community_id", GridLevel.grid: "grid_id",
                  GridLevel.building: "building_id"}


@dataclass(frozen=True, slots=True)
class ViewerShape:
    role: Role
    in_community: bool = False
    has_grids: bool = False
    has_department: bool = False
    scope: str | None = None  # admin: the report column their scope node is matched on, or "path"


def viewer_shape(p: Principal) -> ViewerShape:
    scope = None
    if p.role is Role.admin and p.scope_grid_id is not None:
        scope = _SCOPE_COLUMNS.get(GridLevel(p.scope_level), "path") if p.scope_level else "path"
    return ViewerShape(role=p.role, in_community=p.community_id is not None, has_grids=bool(p.grid_ids),
                       has_department=p.department_id is not None, scope=scope)


def viewer_params(p: Principal) -> dict[str, Any]:
    path = p.scope_path or "/-/"
    return {"viewer_id": p.user_id, "viewer_community_id": p.community_id, "viewer_grid_ids": sorted(p.grid_ids),
            "viewer_department_id": p.department_id, "viewer_scope_id": p.scope_grid_id,
            "viewer_scope_like": path.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"}


def viewer_id() -> BindParameter[int]:
    """The asking user's id, bound by viewer_params (for conditions outside this module: following, filed by me)."""
    return _VIEWER


@lru_cache(maxsize=64)
def community_feed_sql(v: ViewerShape) -> ColumnElement[bool]:
    """Public, not hidden, not withdrawn reports of the resident's community."""
    if not v.in_community:
        return false()
    return and_(Report.community_id == _COMMUNITY, Report.is_public.is_(True), Report.hidden_at.is_(None),
                Report.state != "withdrawn")


@lru_cache(maxsize=64)
def staff_queue_sql(v: ViewerShape) -> ColumnElement[bool]:
    """Reports a staff member works on: their grids, their department's, or their admin subtree."""
    if v.role is Role.grid_worker:
        return Report.grid_id.in_(_GRIDS) if v.has_grids else false()
    if v.role is Role.department:
        return Report.handler_department_id == _DEPARTMENT if v.has_department else false()
    if v.role is Role.admin and v.scope is not None:
        if v.scope == "path":
            return Report.grid_path.like(_SCOPE_LIKE, escape="/")
        return Report.__table__.c[v.scope] == _SCOPE
    return false()


@lru_cache(maxsize=64)
def visible_sql(v: ViewerShape) -> ColumnElement[bool]:
    """Every report this viewer may read (detail, timeline, photos)."""
    if v.role is Role.resident:
        return or_(Report.reporter_id == _VIEWER, community_feed_sql(v))
    cond = staff_queue_sql(v)
    if v.role is Role.grid_worker:
        cond = or_(cond, Report.handler_user_id == _VIEWER, Report.reporter_id == _VIEWER)
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


def sees_hidden_content(p: Principal, r: ReportFacts) -> bool:
    """Moderated (hidden) reports and photos stay visible to their reporter and to staff."""
    return is_staff(p) or p.user_id == r.reporter_id


def can_follow(p: Principal, r: ReportFacts) -> bool:
    return p.role is Role.resident and p.user_id != r.reporter_id and r.community_id == p.community_id \
        and r.is_public and not r.hidden


# ---- published: what anyone may read (issue 19, the Open311 facade) -------------------------------------------


def published_sql() -> ColumnElement[bool]:
    """Reports anyone may read, signed in or not (the Open311 facade): the community feed's rule without the
    community: public, not hidden by a moderator, not withdrawn. Photos and notes have their own rules
    (published_photo, published_note)."""
    return and_(Report.is_public.is_(True), Report.hidden_at.is_(None), Report.state != "withdrawn")


def is_published(is_public: bool, hidden: bool, state: str) -> bool:
    """Pure mirror of published_sql."""
    return is_public and not hidden and state != "withdrawn"


def published_photo(photo_hidden: bool, event_public: bool | None) -> bool:
    """A photo anyone may see: not hidden by a moderator, and from the submission (no event) or a public step."""
    return not photo_hidden and event_public is not False


def published_note(event_public: bool, note_public: bool, note: str | None) -> bool:
    """A step's note anyone may read: a public step whose note is public (internal notes never are)."""
    return bool(event_public and note_public and note)
