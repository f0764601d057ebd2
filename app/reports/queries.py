"""Read side of reports: visibility-checked loads, detail, queues with filters, counts, timeline, similar.
Every list is keyset-paginated on (created_at, id), newest first, inside one indexed scope."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Row as SARow
from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotFound
from app.core.pagination import keyset_params, keyset_sql, page_of
from app.db.reader import Carried, Prepared, Row, Rows, carrying
from app.org.models import Category
from app.privacy import policies as privacy
from app.reports import lifecycle, policies
from app.reports.lifecycle import ReportFacts, State
from app.reports.models import Report, ReportEvent, ReportFollower, ReportPhoto
from app.reports.policies import View, ViewerShape, viewer_shape
from app.uploads.models import Upload
from app.users.models import Role, User

ACTIVE = (State.accepted, State.dispatched, State.in_progress)
SIMILAR_RADIUS_M = 250
SIMILAR_DAYS = 30


_FACT_KEYS = ("state", "reporter_id", "grid_id", "grid_path", "community_id", "handler_department_id",
              "handler_user_id", "is_public", "hidden_at")
_fact_attrs, _fact_items = attrgetter(*_FACT_KEYS), itemgetter(*_FACT_KEYS)


def facts_of(r: Report | Row) -> ReportFacts:
    """The facts policies decide on, from a Report or from a row holding its columns."""
    state, reporter, grid, path, community, department, handler, public, hidden_at = \
        _fact_attrs(r) if isinstance(r, (Report, SARow)) else _fact_items(r)
    return ReportFacts(state=State(state), reporter_id=reporter, grid_id=grid, grid_path=path, community_id=community,
                       handler_department_id=department, handler_user_id=handler, is_public=public,
                       hidden=hidden_at is not None)


# What a queue row needs: the summary's fields, and whether the viewer may see the reporter's name (decoding
# each column of 21 rows is most of what the driver spends on a page, so nothing more).
SUMMARY_COLUMNS = (
    Report.id, Report.number, Report.title, Report.category_id, Report.state, Report.version, Report.source,
    Report.is_public, Report.hide_reporter, Report.community_id, Report.grid_id, Report.building_id,
    Report.handler_department_id, Report.reporter_id, Report.follower_count, Report.reopen_count,
    Report.respond_by, Report.resolve_by, Report.created_at,
    # a correlated subquery, not a join: PostgreSQL evaluates it only for the rows that survive ORDER BY ... LIMIT,
    # where a join let the planner hash all of users (20k rows, ~6 ms) for a page of 20 overdue reports
    select(User.display_name).where(User.id == Report.reporter_id).scalar_subquery().label("reporter_name"),
)
# Built once: a select of 20 columns costs more Python to construct than the query costs PostgreSQL to run.
_SUMMARY_SELECT = select(*SUMMARY_COLUMNS)
_KEY_SELECT = select(Report.id, Report.created_at)
_NEWEST_FIRST = (Report.created_at.desc(), Report.id.desc())


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """is_overdue in SQL, from the state and both deadlines: the columns the statistics' covering index holds."""
    return or_(and_(Report.state == State.submitted, Report.respond_by < now),
               and_(Report.state.in_(ACTIVE), Report.resolve_by.is_not(None), Report.resolve_by < now))


def overdue_filter(now: datetime | ColumnElement[datetime], overdue: bool) -> ColumnElement[bool]:
    """The same, for queues, on the generated due_at column: a grid's overdue queue walks the partial index of
    its open reports (ix_reports_grid_open) newest first, filtering on due_at in the index."""
    return Report.due_at < now if overdue else or_(Report.due_at.is_(None), Report.due_at >= now)


def is_overdue(state: str, respond_by: datetime, resolve_by: datetime | None, now: datetime) -> bool:
    if state == State.submitted:
        return respond_by < now
    return state in ACTIVE and resolve_by is not None and resolve_by < now


@lru_cache(maxsize=64)
def _load_sql(v: ViewerShape) -> Select:
    return select(Report).where(Report.id == bindparam("report_id"), policies.visible_sql(v))


async def find_visible(db: AsyncSession, p: Principal, report_id: int) -> Report | None:
    """The report (an ORM entity, in the session) if this principal may see it."""
    params = {**policies.viewer_params(p), "report_id": report_id}
    return (await db.execute(_load_sql(viewer_shape(p)), params)).scalar_one_or_none()


# A report as a step reads it: a Core row of the report's columns, read as attributes (`report.version`), not an ORM
# entity: building the entity and its identity-map state cost a step more than the statement (profile, issue 14)
ReportRow = SARow[Any]


@lru_cache(maxsize=64)
def _load_for_step_sql(v: ViewerShape) -> Prepared:
    return Prepared(select(*Report.__table__.c, Category.resolve_within_minutes)
                    .join(Category, Category.id == Report.category_id)
                    .where(Report.id == bindparam("report_id"), policies.visible_sql(v)))


async def load_for_step(db: AsyncSession, p: Principal, report_id: int) -> tuple[ReportRow, ReportFacts, int]:
    """load_visible, with the category's resolve-within minutes (what accept and reopen need) in the same read;
    the report as a row (ReportRow), read on the session's connection in its transaction."""
    params = {**policies.viewer_params(p), "report_id": report_id}
    conn = await db.connection()
    row = (await conn.execute(_load_for_step_sql(viewer_shape(p)).stmt, params)).first()
    if row is None:
        raise NotFound()
    return row, facts_of(row), row.resolve_within_minutes


async def load_visible(db: AsyncSession, p: Principal, report_id: int) -> tuple[Report, ReportFacts]:
    """The report if this principal may see it; 404 otherwise (existence is not leaked)."""
    report = await find_visible(db, p, report_id)
    if report is None:
        raise NotFound()
    return report, facts_of(report)


_SUMMARY_KEYS = ("id", "number", "title", "category_id", "state", "version", "source", "is_public", "community_id",
                 "grid_id", "building_id", "handler_department_id", "follower_count", "reopen_count", "respond_by",
                 "resolve_by", "created_at")
_summary_values = itemgetter(*_SUMMARY_KEYS)  # one C call per row instead of 17 lookups


def summary_of(p: Principal, r: Row, now: datetime) -> dict:
    """A ReportSummary, as a plain dict, of a row of SUMMARY_COLUMNS."""
    out = dict(zip(_SUMMARY_KEYS, _summary_values(r), strict=True))
    out["reporter"] = privacy.reporter_ref(p, r["reporter_id"], r["reporter_name"], r["hide_reporter"])
    out["overdue"] = is_overdue(r["state"], r["respond_by"], r["resolve_by"], now)
    return out


_DETAIL_SELECT = select(*Report.__table__.c, User.display_name.label("reporter_name"),
                        User.phone.label("reporter_phone"))\
    .join(User, User.id == Report.reporter_id)
# The report's photos ride on its row (one row per photo, the report's columns repeated): a second statement cost
# a round trip, which costs more than decoding a few repeated rows.
_PHOTO_COLUMNS = (ReportPhoto.upload_id.label("photo_id"), ReportPhoto.event_id.label("photo_event_id"),
                  ReportPhoto.hidden_at.label("photo_hidden_at"),
                  ReportPhoto.hidden_reason.label("photo_hidden_reason"),
                  ReportEvent.is_public.label("photo_event_public"), Upload.storage_key.label("photo_key"),
                  Upload.purged_at.label("photo_purged_at"))
_DETAIL_KEYS = ("description", "lat", "lng", "address", "hide_reporter", "handler_user_id", "escalated_to_grid_id",
                "merged_into_id", "accepted_at", "dispatched_at", "resolved_at", "closed_at", "responded_at", "rating",
                "auto_closed", "updated_at")
_detail_values = itemgetter(*_DETAIL_KEYS)


@lru_cache(maxsize=64)
def _detail_sql(v: ViewerShape | None, carried: tuple[Any, ...] = ()) -> Prepared:
    """The report, its reporter's name and whether the viewer follows it; only if they may see it (v), or
    whatever its state now (v None: they have just acted on it). `carried`: writes of the unit of work it carries
    (reader.Carried)."""
    following = exists().where(ReportFollower.report_id == Report.id, ReportFollower.user_id == policies.viewer_id())
    stmt = _DETAIL_SELECT.add_columns(following.label("following"), *_PHOTO_COLUMNS)\
        .outerjoin(ReportPhoto, ReportPhoto.report_id == Report.id)\
        .outerjoin(ReportEvent, ReportEvent.id == ReportPhoto.event_id)\
        .outerjoin(Upload, Upload.id == ReportPhoto.upload_id)\
        .where(Report.id == bindparam("report_id"))\
        .order_by(ReportPhoto.event_id.is_not(None), ReportPhoto.event_id, ReportPhoto.position)
    return carrying(stmt if v is None else stmt.where(policies.visible_sql(v)), carried)


async def report_detail(rows: Rows, p: Principal, report_id: int, *, just_acted: bool = False,
                        carried: Carried | None = None) -> dict:
    """The report as this principal sees it (a ReportRead, as a plain dict). `just_acted`: the principal has
    just taken a step on it, and gets its result even when the step took the report out of their sight (a
    department returning it). `carried`: writes its statement carries (PostgreSQL), run after its read."""
    params = {**policies.viewer_params(p), "report_id": report_id, **(carried.params if carried else {})}
    found = await rows.all(_detail_sql(None if just_acted else viewer_shape(p), carried.ctes if carried else ()),
                           params)
    if not found:
        raise NotFound()
    r = found[0]
    facts = facts_of(r)
    privileged = policies.sees_hidden_content(p, facts)
    staff = policies.is_staff(p)
    photos = [{"id": ph["photo_id"], "url": f"/api/v1/reports/{report_id}/photos/{ph['photo_id']}",
               "hidden": ph["photo_hidden_at"] is not None,
               "hidden_reason": ph["photo_hidden_reason"] if privileged else None, "event_id": ph["photo_event_id"],
               "storage_key": ph["photo_key"]}
              for ph in found if ph["photo_id"] is not None and ph["photo_purged_at"] is None  # retention
              if (staff or ph["photo_event_public"] is not False) and (privileged or ph["photo_hidden_at"] is None)]
    out = summary_of(p, r, datetime.now(UTC))
    out.update(zip(_DETAIL_KEYS, _detail_values(r), strict=True))
    out.update(hidden=facts.hidden, hidden_reason=r["hidden_reason"] if privileged else None,
               is_following=bool(r["following"]), photos=photos, allowed_actions=lifecycle.allowed_actions(p, facts),
               reporter_phone=privacy.phone_for(p, r["reporter_id"], r["reporter_phone"],
                                                handles=privacy.handles_report(p, facts)) if staff else None)
    return out


# ---- queues -------------------------------------------------------------------------------------------------


def queue_kind(p: Principal, view: View | None) -> View:
    """The queue a list shows: residents mine (default), community or following; staff queue (default) or mine."""
    if p.role is Role.resident:
        allowed = (View.mine, View.community, View.following)
        if view is None or view in allowed:
            return view or View.mine
        raise InvalidInput("validation_error", {"view": view, "allowed": [v.value for v in allowed]})
    if view in (None, View.queue, View.mine):
        return view or View.queue
    raise InvalidInput("validation_error", {"view": view, "allowed": ["queue", "mine"]})


def queue_sql(v: ViewerShape, kind: View) -> ColumnElement[bool]:
    me = policies.viewer_id()
    if kind is View.community:
        return policies.community_feed_sql(v)
    if kind is View.following:
        return and_(Report.id.in_(select(ReportFollower.report_id).where(ReportFollower.user_id == me)),
                    policies.visible_sql(v))
    if kind is View.mine:  # a resident's reports; a grid worker's own patrol reports
        return Report.reporter_id == me if v.role is Role.resident else Report.filed_by_id == me
    return policies.staff_queue_sql(v)


@dataclass(frozen=True, slots=True)
class FilterShape:
    """Which filters a list or count has (their values are bind parameters)."""

    states: bool = False
    categories: bool = False
    overdue: bool | None = None
    created_from: bool = False
    created_to: bool = False
    sources: bool = False
    q: bool = False
    grid_id: bool = False


def filter_shape(*, states: list[State] | None = None, categories: list[int] | None, overdue: bool | None,
                 created_from: datetime | None, created_to: datetime | None, sources: list[str] | None,
                 q: str | None, grid_id: int | None, now: datetime) -> tuple[FilterShape, dict[str, Any]]:
    shape = FilterShape(states=bool(states), categories=bool(categories), overdue=overdue,
                        created_from=created_from is not None, created_to=created_to is not None,
                        sources=bool(sources), q=bool(q), grid_id=grid_id is not None)
    params = {"states": [s.value for s in states or ()], "categories": categories, "now": now,
              "created_from": created_from, "created_to": created_to, "sources": sources,
              "title_like": f"%{_escape_like(q)}%" if q else None, "grid_id": grid_id}
    return shape, params


def _filtered(stmt: Select, f: FilterShape) -> Select:
    if f.states:
        stmt = stmt.where(Report.state.in_(bindparam("states", expanding=True)))
    if f.categories:
        stmt = stmt.where(Report.category_id.in_(bindparam("categories", expanding=True)))
    if f.overdue is not None:
        stmt = stmt.where(overdue_filter(bindparam("now", type_=Report.due_at.type), f.overdue))
    if f.created_from:
        stmt = stmt.where(Report.created_at >= bindparam("created_from"))
    if f.created_to:
        stmt = stmt.where(Report.created_at < bindparam("created_to"))
    if f.sources:
        stmt = stmt.where(Report.source.in_(bindparam("sources", expanding=True)))
    if f.q:
        stmt = stmt.where(Report.title.ilike(bindparam("title_like"), escape="\\"))
    if f.grid_id:
        stmt = stmt.where(Report.grid_id == bindparam("grid_id"))
    return stmt


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_KEYSET = [Report.created_at, Report.id]


@lru_cache(maxsize=512)
def _list_sql(v: ViewerShape, kind: View, f: FilterShape, after: bool, grids: int) -> Prepared:
    """A page of summaries, newest first. `grids` > 1: a grid worker's queue over that many grids (bound as
    grid_0, grid_1 ...)."""
    def page(where: ColumnElement[bool], base: Select = _SUMMARY_SELECT) -> Select:
        return keyset_sql(_filtered(base.where(where), f), _KEYSET, after=after, descending=True)

    if grids <= 1:
        return Prepared(page(queue_sql(v, kind)))
    # grid_id IN (a, b) ORDER BY created_at would sort every report of every grid: take each grid's page of keys
    # from its own (grid_id, created_at, id) index range, merge them, then read the page's rows by id (merging
    # whole rows made SQLAlchemy build proxies of 20 columns per subquery)
    parts = [page(Report.grid_id == bindparam(f"grid_{i}"), _KEY_SELECT).subquery() for i in range(grids)]
    merged = union_all(*(select(part) for part in parts)).subquery()
    top = select(merged.c.id).order_by(merged.c.created_at.desc(), merged.c.id.desc())\
        .limit(bindparam("page_limit"))
    return Prepared(_SUMMARY_SELECT.where(Report.id.in_(top)).order_by(*_NEWEST_FIRST))


async def list_reports(rows: Rows, p: Principal, *, view: View | None, states: list[State] | None,
                       limit: int, cursor: str | None, **filters) -> dict:
    """A Page of ReportSummary, as a plain dict."""
    now = datetime.now(UTC)
    kind = queue_kind(p, view)
    shape, params = filter_shape(states=states, now=now, **filters)
    grids = len(p.grid_ids) if p.role is Role.grid_worker and kind is View.queue else 0
    params.update(policies.viewer_params(p), **keyset_params(cursor, [datetime, int], limit))
    if grids > 1:
        params.update((f"grid_{i}", g) for i, g in enumerate(params["viewer_grid_ids"]))
    stmt = _list_sql(viewer_shape(p), kind, shape, bool(cursor), grids)
    page_rows, nxt = page_of(await rows.all(stmt, params), limit, lambda row: [row["created_at"], row["id"]])
    return {"items": [summary_of(p, r, now) for r in page_rows], "next_cursor": nxt}


@lru_cache(maxsize=256)
def _counts_sql(v: ViewerShape, kind: View, f: FilterShape) -> Prepared:
    stmt = select(Report.state, func.count().label("n")).where(queue_sql(v, kind)).group_by(Report.state)
    return Prepared(_filtered(stmt, f))


async def count_by_state(rows: Rows, p: Principal, *, view: View | None, **filters) -> dict:
    """StateCounts, as a plain dict."""
    shape, params = filter_shape(now=datetime.now(UTC), **filters)
    params.update(policies.viewer_params(p))
    counts = {r["state"]: r["n"] for r in await rows.all(_counts_sql(viewer_shape(p), queue_kind(p, view), shape),
                                                          params)}
    full = {s.value: counts.get(s.value, 0) for s in State}
    return {"counts": full, "total": sum(full.values())}


# ---- timeline -----------------------------------------------------------------------------------------------


_ACTOR = aliased(User)
# The report's facts (whether the viewer may see it, and what of it) and its events, in one statement: facts
# repeated on every event row; a report with no event this viewer may see still gives one row, of facts.
_TIMELINE_SELECT = select(
    *(Report.__table__.c[k] for k in _FACT_KEYS), Report.hide_reporter,
    ReportEvent.id, ReportEvent.action, ReportEvent.actor_role, ReportEvent.actor_id, ReportEvent.from_state,
    ReportEvent.to_state, ReportEvent.note, ReportEvent.note_public, ReportEvent.is_public.label("event_public"),
    ReportEvent.photo_ids, ReportEvent.data, ReportEvent.created_at, _ACTOR.display_name.label("actor_name"))


@lru_cache(maxsize=128)
def _timeline_sql(v: ViewerShape, every_event: bool) -> Prepared:
    on = ReportEvent.report_id == Report.id
    if not every_event:
        on = and_(on, ReportEvent.is_public.is_(True))
    return Prepared(_TIMELINE_SELECT.select_from(Report).outerjoin(ReportEvent, on)
                    .outerjoin(_ACTOR, _ACTOR.id == ReportEvent.actor_id)
                    .where(Report.id == bindparam("report_id"), policies.visible_sql(v))
                    .order_by(ReportEvent.id).limit(1000))


async def timeline(rows: Rows, p: Principal, report_id: int) -> list[dict]:
    """The EventRead list, as plain dicts."""
    # staff may see internal steps of any report they may see (sees_internal); which is decided again below, on
    # the report's facts, so a row fetched here is never shown on the strength of this guess alone
    found = await rows.all(_timeline_sql(viewer_shape(p), policies.is_staff(p)),
                           {**policies.viewer_params(p), "report_id": report_id})
    if not found:
        raise NotFound()
    facts = facts_of(found[0])
    hide_reporter = found[0]["hide_reporter"]
    staff_view = policies.sees_internal(p, facts)
    out = []
    for e in found:
        if e["id"] is None or not (staff_view or e["event_public"]):
            continue
        actor_id, note_public = e["actor_id"], e["note_public"]
        named = staff_view or e["actor_role"] != Role.resident or actor_id == p.user_id or not hide_reporter
        actor = None if actor_id is None else {"id": actor_id, "display_name": e["actor_name"]} if named \
            else {"id": None, "display_name": privacy.ANONYMOUS_NAME}
        out.append({
            "id": e["id"], "action": e["action"], "actor_role": e["actor_role"], "actor": actor,
            "from_state": e["from_state"], "to_state": e["to_state"],
            "note": e["note"] if staff_view or note_public else None, "note_public": note_public,
            "is_public": e["event_public"],
            "photo_ids": e["photo_ids"] if staff_view or note_public or e["action"] == "resolve" else [],
            "data": e["data"] if staff_view else {}, "created_at": e["created_at"]})
    return out


# ---- similar open reports (before submitting) ----------------------------------------------------------------


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


async def similar(rows: Rows, p: Principal, *, category_id: int, building_id: int | None,
                  lat: float | None, lng: float | None, limit: int) -> list[dict]:
    """Open public reports in the caller's community of the same category, at the same building or within
    250 m, from the last 30 days, newest first: so a resident can follow one instead of filing a duplicate."""
    if building_id is None and (lat is None or lng is None):
        raise InvalidInput("validation_error", {"missing": ["building_id or lat+lng"]})
    now = datetime.now(UTC)
    near = []
    if building_id is not None:
        near.append(Report.building_id == building_id)
    if lat is not None and lng is not None:
        dlat = SIMILAR_RADIUS_M / 111_320
        dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
        near.append(and_(Report.lat.between(lat - dlat, lat + dlat), Report.lng.between(lng - dlng, lng + dlng)))
    v = viewer_shape(p)
    scope = policies.community_feed_sql(v) if p.role is Role.resident and v.in_community else policies.visible_sql(v)
    stmt = (_SUMMARY_SELECT.add_columns(Report.lat, Report.lng)
            .where(scope, Report.category_id == category_id, or_(*near),
                   Report.state.in_([*lifecycle.OPEN_STATES, State.resolved]),
                   Report.created_at >= now - timedelta(days=SIMILAR_DAYS))
            .order_by(Report.created_at.desc(), Report.id.desc()).limit(limit * 3))
    out = []
    for r in await rows.all(stmt, policies.viewer_params(p)):
        if building_id is not None and r["building_id"] == building_id or (
                lat is not None and r["lat"] is not None and _metres(lat, lng, r["lat"], r["lng"]) <= SIMILAR_RADIUS_M):
            out.append(summary_of(p, r, now))
    return out[:limit]
