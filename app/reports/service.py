"""Reports: submission, the one door for every step (take_step), following. Business rules live here and in
lifecycle.py; reads are in queries.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.core import metrics
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from app.db.helpers import flush_or_conflict
from app.db.reader import Prepared, Row, SessionRows
from app.org import service as org_service
from app.org.models import Category, Grid, GridLevel
from app.reports import lifecycle, notices, numbers, policies, queries, webhook_events, writes
from app.reports.lifecycle import Action, State
from app.reports.models import Report, ReportEvent, ReportFollower, ReportPhoto, ReportRating
from app.reports.queries import ReportRow
from app.reports.schemas import FollowRead, ReportCreate, StepIn
from app.stats import rollup_math, rollups
from app.uploads import service as uploads_service
from app.uploads.models import Upload
from app.users.models import Role, User, UserGrid


def _path_ids(path: str) -> list[int]:
    return [int(x) for x in path.split("/") if x]


# The building a report is about and its category, read together: the new report's references.
_b, _c, _cg = aliased(Grid), aliased(Category), aliased(Grid)
_REFS_SQL = Prepared(
    select(_b.id, _b.path, _b.parent_id, _b.level, _b.retired_at, _c.id.label("category_id"),
           _c.retired_at.label("category_retired_at"), _c.respond_within_minutes, _cg.path.label("category_path"))
    .select_from(_b)
    .outerjoin(_c, _c.id == bindparam("category_id")).outerjoin(_cg, _cg.id == _c.grid_id)
    .where(_b.id == bindparam("building_id")))


async def _references(db: AsyncSession, p: Principal, data: ReportCreate) -> Row:
    """The building the report is about (checked against who is filing) and its category (not yet checked)."""
    if p.role is not Role.resident and data.building_id is None:
        raise InvalidInput("validation_error", {"missing": ["building_id"]})
    building_id = data.building_id or p.building_id
    found = await SessionRows(db).all(_REFS_SQL, {"building_id": building_id, "category_id": data.category_id})
    r = found[0] if found else None
    org_service.check_active_node(r is not None, r and r["retired_at"], r and r["level"], building_id,
                                  GridLevel.building)
    if p.role is Role.resident and _path_ids(r["path"])[1] != p.community_id:
        raise InvalidInput("invalid_reference", {"building_id": data.building_id, "reason": "not your community"})
    if p.role is not Role.resident and r["parent_id"] not in p.grid_ids:
        raise InvalidInput("invalid_reference", {"building_id": data.building_id, "reason": "not your grid"})
    return r


async def _reporter_and_source(db: AsyncSession, p: Principal, data: ReportCreate) -> tuple[int, str]:
    if p.role is Role.resident:
        if data.on_behalf_of_id is not None or data.source in ("patrol", "hotline"):
            raise InvalidInput("validation_error", {"source": data.source, "reason": "residents report for "
                                                    "themselves from the app or a mini-program"})
        return p.user_id, data.source or "app"
    if data.on_behalf_of_id is None:
        if data.source not in (None, "patrol"):
            raise InvalidInput("validation_error", {"source": data.source, "reason": "on_behalf_of_id needed"})
        return p.user_id, "patrol"
    resident = await db.get(User, data.on_behalf_of_id)
    grid_of = (await db.get(Grid, resident.building_id)).parent_id if resident and resident.building_id else None
    if resident is None or resident.role != Role.resident or not resident.is_active or grid_of not in p.grid_ids:
        raise InvalidInput("invalid_reference", {"on_behalf_of_id": data.on_behalf_of_id})
    if data.source not in (None, "hotline", "patrol"):
        raise InvalidInput("validation_error", {"source": data.source})
    return resident.id, data.source or "hotline"


def _check_category(refs: Row, category_id: int) -> None:
    """The category exists, is active, and belongs to a node above the building."""
    if refs["category_id"] is None or refs["category_retired_at"] is not None \
            or not refs["path"].startswith(refs["category_path"]):
        raise InvalidInput("invalid_reference", {"category_id": category_id})


async def _attach_photos(db: AsyncSession, p: Principal, report_id: int, photo_ids: list[int],
                         event_id: int | None) -> None:
    uploads = await uploads_service.owned_uploads(db, p, photo_ids)
    for pos, up in enumerate(uploads):
        db.add(ReportPhoto(upload_id=up.id, report_id=report_id, event_id=event_id, position=pos))
    await flush_or_conflict(db, "photo_already_attached")


def _event(report_id: int, p: Principal | None, action: str, frm: str | None, to: str, *, note: str | None,
           is_public: bool, note_public: bool, photo_ids: list[int], data: dict, now: datetime) -> dict:
    """A timeline event's columns (writes.insert_event); no principal: the system (the worker's sweep)."""
    return {"report_id": report_id, "action": action, "actor_id": p.user_id if p else None,
            "actor_role": p.role.value if p else "system", "from_state": frm, "to_state": to, "note": note,
            "is_public": is_public, "note_public": note_public, "photo_ids": photo_ids, "data": data,
            "created_at": now}


# what a new report's row leaves to the column defaults, among the roll-ups' fields
_NEW_REPORT_FIELDS = {"handler_department_id": None, "accepted_at": None, "responded_at": None, "resolved_at": None,
                      "resolve_by": None, "rating": None, "overdue_notified_for": None}


async def submit_report(db: AsyncSession, p: Principal, data: ReportCreate) -> dict:
    if not policies.can_submit(p):
        raise NotPermitted()
    refs = await _references(db, p, data)
    reporter_id, source = await _reporter_and_source(db, p, data)
    _check_category(refs, data.category_id)
    ids = _path_ids(refs["path"])  # street, community, grid, building
    grid_path = "/" + "/".join(str(i) for i in ids[:3]) + "/"
    now = datetime.now(UTC)
    row = {
        "number": numbers.provisional(), "street_id": ids[0], "community_id": ids[1], "grid_id": ids[2],
        "building_id": refs["id"], "grid_path": grid_path, "category_id": data.category_id, "title": data.title,
        "description": data.description, "lat": data.lat, "lng": data.lng, "address": data.address,
        "is_public": data.is_public, "hide_reporter": data.hide_reporter, "source": source, "reporter_id": reporter_id,
        "filed_by_id": p.user_id, "state": State.submitted.value, "version": 1, "reopen_count": 0,
        "auto_closed": False, "follower_count": 0,
        "respond_by": now + timedelta(minutes=refs["respond_within_minutes"]), "created_at": now, "updated_at": now}
    report_id = await writes.insert_report(db, row)
    await writes.insert_event(db, _event(report_id, p, "submit", None, State.submitted, note=None, is_public=True,
                                         note_public=True, photo_ids=list(data.photo_ids), data={"source": source},
                                         now=now))
    await _attach_photos(db, p, report_id, list(data.photo_ids), None)
    metrics.count("reports_submitted")
    out = await queries.report_detail(SessionRows(db), p, report_id)
    hooks = await webhook_events.submitted_targets(db, ids[1], ids[0])
    # the figures' roll-ups, late in the transaction: the street's cells of today are shared by every submission
    await rollups.apply(db, None, {**_NEW_REPORT_FIELDS, **row, "id": report_id})
    # Last, and nothing after it but COMMIT (and the webhook deliveries, if the community has subscribers): from
    # here the street's counter row is locked, and every other submission of the street waits for it.
    out["number"] = await numbers.assign_number(db, report_id, ids[0], now)
    await webhook_events.publish_submitted(db, hooks, out, ids[0], now)
    return out


# ---- steps --------------------------------------------------------------------------------------------------


async def _rate_effects(db: AsyncSession, settings: Settings, p: Principal, report: ReportRow, body: StepIn,
                        now: datetime, resolve_by: datetime) -> tuple[dict, dict]:
    """评价: decide the outcome (the rating itself is recorded by _record_rating once the step is won)."""
    outcome = lifecycle.rating_outcome(body.stars, report.reopen_count, settings.rating_reopen_limit)
    values: dict = {"rating": body.stars, "rated_at": now, "state": outcome}
    if outcome is State.closed:
        values["closed_at"] = now
    elif outcome is State.dispatched:  # 重办: back to the same handler, flagged, with a new deadline
        values.update(reopen_count=report.reopen_count + 1, resolved_at=None, resolve_by=resolve_by)
    else:  # reopened too often: back to intake, escalated to the community's admins
        values.update(reopen_count=report.reopen_count + 1, resolved_at=None, handler_department_id=None,
                      handler_user_id=None, dispatched_at=None, escalated_to_grid_id=report.community_id)
    return values, {"stars": body.stars, "tags": list(body.tags), "outcome": outcome.value}


async def _record_rating(db: AsyncSession, p: Principal, report: ReportRow, body: StepIn, now: datetime) -> None:
    """One rating per resolution cycle, held by a unique constraint."""
    db.add(ReportRating(report_id=report.id, rater_id=p.user_id, cycle=report.reopen_count, stars=body.stars,
                        tags=list(body.tags), comment=body.note, created_at=now))
    await flush_or_conflict(db, "already_rated")


def _given(body: StepIn) -> frozenset[str]:
    fields = {"note": body.note, "resolve_by": body.resolve_by, "target_report_id": body.target_report_id,
              "photo_id": body.photo_id, "target": body.department_id or body.handler_user_id, "stars": body.stars}
    return frozenset(k for k, v in fields.items() if v is not None)


_ACTION_FIELDS = {
    Action.dispatch: {"department_id", "handler_user_id"}, Action.merge: {"target_report_id"},
    Action.request_extension: {"resolve_by"}, Action.extend: {"resolve_by"}, Action.hide_photo: {"photo_id"},
    Action.rate: {"stars", "tags"},
}
_STEP_SPECIFIC = {"department_id", "handler_user_id", "target_report_id", "resolve_by", "photo_id", "stars", "tags"}


async def _effects(db: AsyncSession, settings: Settings, p: Principal, report: ReportRow, body: StepIn,
                   now: datetime, resolve_within: int) -> tuple[dict, dict]:
    """Column changes and event data for the action (validated against the database). A `state` key overrides
    the Step's usual target (only rate does that). `resolve_within`: the category's minutes to resolve, read with
    the report (accept, reopen and a reopening rating set a new deadline from it)."""
    a = body.action
    resolve_by = now + timedelta(minutes=resolve_within)
    if a is Action.accept:
        return {"accepted_at": now, "responded_at": now, "resolve_by": resolve_by}, {}
    if a is Action.reject:
        return {"responded_at": now}, {}
    if a is Action.rate:
        return await _rate_effects(db, settings, p, report, body, now, resolve_by)
    if a is Action.reopen:
        return ({"reopen_count": report.reopen_count + 1, "resolved_at": None, "closed_at": None,
                 "resolve_by": resolve_by}, {"reopen_count": report.reopen_count + 1})
    if a is Action.dispatch:
        if body.department_id is not None:
            dept, dept_path = await org_service.active_department(db, body.department_id)
            if not report.grid_path.startswith(dept_path):
                raise InvalidInput("invalid_reference", {"department_id": body.department_id})
            return ({"handler_department_id": dept.id, "handler_user_id": None, "dispatched_at": now},
                    {"department_id": dept.id})
        worker_ok = (await db.execute(
            select(User.id).where(User.id == body.handler_user_id, User.role == Role.grid_worker,
                                  User.is_active.is_(True))
            .where(User.id.in_(select(UserGrid.user_id).where(UserGrid.grid_id == report.grid_id))))).first()
        if worker_ok is None:
            raise InvalidInput("invalid_reference", {"handler_user_id": body.handler_user_id})
        return ({"handler_department_id": None, "handler_user_id": body.handler_user_id, "dispatched_at": now},
                {"handler_user_id": body.handler_user_id})
    if a is Action.return_:
        return {"handler_department_id": None, "handler_user_id": None, "dispatched_at": None}, \
            {"department_id": report.handler_department_id}
    if a is Action.resolve:
        return {"resolved_at": now}, {}
    if a is Action.merge:
        return await _merge_effects(db, p, report, body.target_report_id)
    if a is Action.escalate:
        current = await db.get(Grid, report.escalated_to_grid_id or report.grid_id)
        if current.parent_id is None:
            raise lifecycle.InvalidTransition(details={"reason": "already at the top of the grid tree"})
        return {"escalated_to_grid_id": current.parent_id}, {"to_grid_id": current.parent_id}
    if a in (Action.request_extension, Action.extend):
        floor = max(now, report.resolve_by or now)
        if body.resolve_by <= floor:
            raise InvalidInput("validation_error", {"resolve_by": "must be later than the current deadline"})
        data = {"resolve_by": body.resolve_by.isoformat(), "previous": report.resolve_by.isoformat()
                if report.resolve_by else None}
        return ({"resolve_by": body.resolve_by} if a is Action.extend else {}), data
    if a is Action.hide:
        return {"hidden_at": now, "hidden_reason": body.note}, {}
    if a is Action.unhide:
        return {"hidden_at": None, "hidden_reason": None}, {}
    if a is Action.hide_photo:
        done = await db.execute(update(ReportPhoto).where(ReportPhoto.upload_id == body.photo_id,
                                                          ReportPhoto.report_id == report.id)
                                .values(hidden_at=now, hidden_reason=body.note))
        if done.rowcount != 1:
            raise InvalidInput("invalid_reference", {"photo_id": body.photo_id})
        return {}, {"photo_id": body.photo_id}
    return {}, {}


async def _merge_effects(db: AsyncSession, p: Principal, report: ReportRow, target_id: int) -> tuple[dict, dict]:
    target = await queries.find_visible(db, p, target_id)
    if target is None or target.id == report.id or target.community_id != report.community_id \
            or State(target.state) not in lifecycle.OPEN_STATES | {State.resolved}:
        raise InvalidInput("invalid_reference", {"target_report_id": target_id})
    # the duplicate's reporter and followers follow the surviving report
    followers = select(ReportFollower.user_id).where(ReportFollower.report_id == report.id)
    movers = {report.reporter_id, *(await db.execute(followers)).scalars()} - {target.reporter_id}
    await _follow_many(db, target.id, movers)
    return {"merged_into_id": target.id}, {"target_report_id": target.id, "moved_followers": len(movers)}


async def take_step(db: AsyncSession, settings: Settings, p: Principal, report_id: int, body: StepIn) -> dict:
    """The only code that changes a report's state. Conditional on the version the caller saw, so of two
    concurrent steps exactly one wins; writes exactly one event in the same transaction."""
    report, facts, resolve_within = await queries.load_for_step(db, p, report_id)
    # A client that lost a race must learn that it lost a race: the version is checked before role and state.
    if body.expected_version != report.version:
        raise Conflict("stale_version", {"current_version": report.version, "state": report.state})
    step = lifecycle.check_step(body.action, p, facts, _given(body))
    extra = {k for k in _STEP_SPECIFIC if getattr(body, k) not in (None, [])} - _ACTION_FIELDS.get(body.action, set())
    if extra:
        raise InvalidInput("validation_error", {"not_allowed": sorted(extra), "action": body.action})
    now = datetime.now(UTC)
    values, data = await _effects(db, settings, p, report, body, now, resolve_within)
    frm = State(report.state)
    to = values.pop("state", None) or step.to or frm
    before = rollups.fields_of(report)  # the row the conditional UPDATE below proves current
    note_public = step.note_public if body.note_public is None else body.note_public
    # The conditional UPDATE, the step's event and its webhook deliveries: one statement on PostgreSQL, the event
    # and deliveries written only if the UPDATE won
    won = await writes.step_with_event(
        db, report.id, body.expected_version, to.value, now, values,
        _event(report.id, p, body.action.value, frm, to, note=body.note, is_public=step.public_event,
               note_public=note_public and step.public_event, photo_ids=list(body.photo_ids), data=data, now=now),
        webhook_events.step_deliveries(report, body.action, frm, to, values, now))
    if won is None:
        now_at = (await db.execute(select(Report.version, Report.state).where(Report.id == report.id))).one()
        raise Conflict("stale_version", {"current_version": now_at.version, "state": now_at.state})
    event_id = won.event_id
    # The version proves every column of `before` current but one: the worker's overdue sweep may have announced the
    # deadline (overdue_notified_for, which it sets without moving the version) since the report was read. The
    # value the won UPDATE returned is the current one, held under the step's row lock until COMMIT.
    before["overdue_notified_for"] = won.overdue_notified_for
    if body.action is Action.rate:  # after the step is won: a concurrent loser is stale, not already_rated
        await _record_rating(db, p, report, body, now)
    await _attach_photos(db, p, report.id, list(body.photo_ids), event_id)
    await notices.notify_step(db, p, report, body.action, to, values, body.note)
    if to is State.resolved:
        metrics.count("reports_resolved")
    # the figures' roll-ups, last before COMMIT: the cells are shared with every other step on the same day and
    # key, and their row locks are held until the commit. On PostgreSQL the detail's read carries them (a round
    # trip fewer: decisions.md, issue 20, twelfth pass); they run after its rows, as the statement's last work.
    after = rollup_math.stepped(before, to.value, values)
    rows = SessionRows(db)
    if rows.dialect_name == "postgresql":
        change = rollups.pending(before, after)
        return await queries.report_detail(rows, p, report_id, just_acted=True,
                                           carried=None if change is None else change.carried())
    out = await queries.report_detail(rows, p, report_id, just_acted=True)
    await rollups.apply(db, before, after)
    return out


# ---- following ----------------------------------------------------------------------------------------------


async def _follow_many(db: AsyncSession, report_id: int, user_ids: set[int]) -> int:
    """Insert follower rows that do not exist yet; keep follower_count equal to the number of rows."""
    if not user_ids:
        return 0
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    t = ReportFollower.__table__
    now = datetime.now(UTC)
    res = await db.execute(insert(t).values([{"report_id": report_id, "user_id": u, "created_at": now}
                                             for u in sorted(user_ids)]).on_conflict_do_nothing())
    await _recount_followers(db, report_id)
    return res.rowcount


async def _recount_followers(db: AsyncSession, report_id: int) -> None:
    count = select(func.count()).select_from(ReportFollower).where(ReportFollower.report_id == report_id)
    await db.execute(update(Report).where(Report.id == report_id).values(follower_count=count.scalar_subquery())
                     .execution_options(synchronize_session=False))


async def follow(db: AsyncSession, p: Principal, report_id: int, on: bool) -> FollowRead:
    report, facts = await queries.load_visible(db, p, report_id)
    if on:
        if not policies.can_follow(p, facts):
            raise NotPermitted()
        if State(report.state) not in lifecycle.OPEN_STATES | {State.resolved}:
            raise lifecycle.InvalidTransition(details={"state": report.state, "action": "follow"})
        await _follow_many(db, report.id, {p.user_id})
    else:
        await db.execute(delete(ReportFollower).where(ReportFollower.report_id == report.id,
                                                      ReportFollower.user_id == p.user_id))
        await _recount_followers(db, report.id)
    count = (await db.execute(select(Report.follower_count).where(Report.id == report.id))).scalar_one()
    return FollowRead(following=on, follower_count=count)


async def photo_for_download(db: AsyncSession, p: Principal, report_id: int, upload_id: int):
    """The photo's upload if the caller may see it: the report is visible, and the photo is neither hidden
    by a moderator nor part of an internal step (unless the caller is the reporter or staff)."""
    report, facts = await queries.load_visible(db, p, report_id)
    row = (await db.execute(
        select(Upload, ReportPhoto.hidden_at, ReportEvent.is_public)
        .join(ReportPhoto, ReportPhoto.upload_id == Upload.id)
        .outerjoin(ReportEvent, ReportEvent.id == ReportPhoto.event_id)
        .where(ReportPhoto.report_id == report.id, Upload.id == upload_id))).one_or_none()
    if row is None:
        raise NotFound()
    upload, hidden_at, event_public = row
    if upload.purged_at is not None:  # deleted by the retention job (issue 21)
        raise NotFound()
    privileged = policies.sees_hidden_content(p, facts)
    if (hidden_at is not None or event_public is False) and not privileged:
        raise NotFound()
    if event_public is False and not policies.is_staff(p):
        raise NotFound()
    return upload


# ---- the worker's sweep -------------------------------------------------------------------------------------


# what a webhook event tells of a report (webhook_events.report_data)
_EVENT_COLUMNS = (Report.id, Report.number, Report.category_id, Report.street_id, Report.community_id, Report.grid_id,
                  Report.handler_department_id, Report.reopen_count, Report.created_at, Report.respond_by,
                  Report.resolve_by)
# and what the figures' roll-ups need besides (rollup_math.FIELDS)
_ROLLUP_COLUMNS = (Report.state, Report.accepted_at, Report.responded_at, Report.resolved_at, Report.rating,
                   Report.auto_closed, Report.overdue_notified_for)


_FIELD_COLUMNS = tuple(Report.__table__.c[f] for f in rollup_math.FIELDS)


async def auto_close_due(db: AsyncSession, settings: Settings, now: datetime, batch: int = 200) -> int:
    """Close resolved reports left unrated for AUTO_CLOSE_DAYS (an automatic step, by the system). Each close is
    conditional on the version read, so two workers sweeping at once close each report exactly once. The batch's
    roll-up deltas are written once, last (rollups.apply_many), like the overdue sweep's: each cell locked once, in
    cell order, after the reports' rows, the order every step takes, so a step cannot deadlock with the batch."""
    cutoff = now - timedelta(days=settings.auto_close_days)
    due = (await db.execute(select(*_EVENT_COLUMNS, *_ROLLUP_COLUMNS, Report.version).where(
        Report.state == State.resolved, Report.resolved_at < cutoff).order_by(Report.resolved_at).limit(batch))).all()
    closed: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for r in due:
        # the version read: a report that moved since (rated, reopened) has another one and is left alone
        if await writes.apply_step(db, r.id, r.version, State.closed.value, now,
                                   {"closed_at": now, "auto_closed": True}):
            await writes.insert_event(db, _event(r.id, None, Action.auto_close.value, State.resolved,
                                                 State.closed, note=None, is_public=True, note_public=True,
                                                 photo_ids=[], data={"after_days": settings.auto_close_days},
                                                 now=now))
            await webhook_events.publish_step(db, r, Action.auto_close, State.resolved, State.closed, {}, now)
            before = rollups.fields_of(r)
            closed.append((before, rollup_math.stepped(before, State.closed.value,
                                                       {"closed_at": now, "auto_closed": True})))
    await rollups.apply_many(db, closed)
    return len(closed)


async def announce_overdue(db: AsyncSession, settings: Settings, now: datetime, batch: int = 200) -> int:
    """Tell the handler and the community's admins once per deadline that a report passed it. Each notice is
    claimed by a conditional UPDATE on the deadline it is for, so two workers announce it once; an extended
    deadline that passes again is announced again.

    The announcement is part of the report's roll-up contribution (rollup_math: `overdue`, `late_waiting`): the
    winning UPDATE returns the report's FIELDS as it leaves them, under its row lock, and its delta is applied in
    the same transaction. Before it, overdue_notified_for differed from due_at (the UPDATE's condition), which
    contributes exactly as None does."""
    due = (await db.execute(select(Report.id, Report.due_at).where(
        Report.due_at < now, or_(Report.overdue_notified_for.is_(None), Report.overdue_notified_for != Report.due_at))
        .order_by(Report.due_at).limit(batch))).all()
    announced: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for report_id, due_at in due:
        won = (await db.execute(update(Report).where(
            Report.id == report_id, Report.due_at == due_at,
            or_(Report.overdue_notified_for.is_(None), Report.overdue_notified_for != due_at))
            .values(overdue_notified_for=due_at).returning(*_FIELD_COLUMNS)
            .execution_options(synchronize_session=False))).mappings().first()
        if won is not None:
            await notices.notify_overdue(db, report_id)
            announced.append(({**won, "overdue_notified_for": None}, dict(won)))
    # the batch's roll-up deltas in one write, last: every cell locked once, in cell order, after the reports' rows
    # (a step locks its report's row, then its cells in the same order: no cycle)
    await rollups.apply_many(db, announced)
    return len(announced)
