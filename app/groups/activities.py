"""Activities: organisers create and cancel them, residents sign up and cancel, organisers check participants in
and confirm volunteer hours (which credits points once). Places move only by the conditional updates in
seats.py; a signup row is one per (activity, resident) and is reused after a cancellation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidInput, NotPermitted
from app.db.helpers import insert_ignore, table_of
from app.groups import policies, queries, seats
from app.groups.enums import ActivityStatus, SignupStatus
from app.groups.models import Activity, ActivitySignup
from app.groups.schemas import ActivityCancel, ActivityCreate
from app.notifications.service import notify
from app.org import service as org_service
from app.org.models import GridLevel
from app.points import earning

_a = table_of(Activity).c
_s = table_of(ActivitySignup).c


def activity_link(activity_id: int) -> str:
    return f"/activities/{activity_id}"


async def create_activity(db: AsyncSession, p: Principal, data: ActivityCreate) -> dict[str, Any]:
    if data.group_id is not None:
        g, m = await queries.visible_group(db, p, data.group_id)
        community_id, path, group = g.community_id, g.community_path, queries.group_facts(g)
        if not policies.can_create_activity(p, path, group, queries.member_facts(m)):
            raise NotPermitted()
    else:
        assert data.community_id is not None
        node = await org_service.active_node(db, data.community_id, GridLevel.community)
        community_id, path = node.id, node.path
        if not policies.can_create_activity(p, path, None, None):
            if p.is_admin:
                raise InvalidInput("invalid_reference", {"field": "community_id", "value": data.community_id,
                                                         "reason": "not in your scope"})
            raise NotPermitted()
    now = datetime.now(UTC)
    a = Activity(community_id=community_id, community_path=path, group_id=data.group_id, organiser_id=p.user_id,
                 title=data.title, description=data.description, place=data.place, starts_at=data.starts_at,
                 ends_at=data.ends_at, signup_deadline=data.signup_deadline or data.starts_at,
                 capacity=data.capacity, signed_up=0, visibility=data.visibility.value,
                 is_volunteer_service=data.is_volunteer_service, status=ActivityStatus.open.value, version=1,
                 created_at=now, updated_at=now)
    db.add(a)
    await db.flush()
    return queries.activity_read(a, None)


async def get_activity(db: AsyncSession, p: Principal, activity_id: int) -> dict[str, Any]:
    a, _, _ = await queries.visible_activity(db, p, activity_id)
    mine = await queries.my_signup(db, a.id, p.user_id)
    return queries.activity_read(a, mine.status if mine else None)


async def _fresh(db: AsyncSession, activity_id: int, user_id: int) -> dict[str, Any]:
    a = (await db.execute(select(Activity).where(Activity.id == activity_id)
                          .execution_options(populate_existing=True))).scalar_one()
    mine = await queries.my_signup(db, activity_id, user_id)
    return queries.activity_read(a, mine.status if mine else None)


async def cancel_activity(db: AsyncSession, p: Principal, activity_id: int, data: ActivityCancel) -> dict[str, Any]:
    """Cancel: everyone signed up is told, in the same transaction."""
    a, facts, m = await queries.visible_activity(db, p, activity_id)
    if a.version != data.expected_version:
        raise Conflict("stale_version", {"current_version": a.version, "state": a.status})
    if not policies.can_organise(p, facts, queries.member_facts(m)):
        raise NotPermitted()
    if a.status != ActivityStatus.open:
        raise Conflict("invalid_transition", {"state": a.status, "action": "cancel"})
    done = await db.execute(update(table_of(Activity))
                            .where(_a.id == a.id, _a.version == data.expected_version,
                                   _a.status == ActivityStatus.open.value)
                            .values(status=ActivityStatus.cancelled.value, cancel_reason=data.reason,
                                    version=_a.version + 1, updated_at=datetime.now(UTC)))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("stale_version", {"current_version": a.version + 1, "state": a.status})
    signed: list[int] = list((await db.execute(select(_s.user_id).where(
        _s.activity_id == a.id, _s.status == SignupStatus.signed_up.value))).scalars())
    await notify(db, signed, "activity.cancelled", object_type="activity", object_id=a.id,
                 link=activity_link(a.id), params={"title": a.title, "reason": data.reason}, exclude=p.user_id)
    return await _fresh(db, a.id, p.user_id)


def _closed(a: Activity, now: datetime) -> Conflict:
    """Why a place could not be taken, from the activity as it is now."""
    if a.status != ActivityStatus.open:
        return Conflict("invalid_transition", {"state": a.status, "action": "sign_up"})
    if a.signup_deadline <= now:
        return Conflict("signup_closed", {"signup_deadline": a.signup_deadline.isoformat()})
    return Conflict("activity_full", {"capacity": a.capacity})


async def sign_up(db: AsyncSession, p: Principal, activity_id: int) -> dict[str, Any]:
    a, facts, m = await queries.visible_activity(db, p, activity_id)
    if not policies.can_sign_up(p, facts):
        raise NotPermitted()
    if not policies.is_eligible(facts, queries.member_facts(m)):
        raise NotPermitted("not_eligible", {"reason": "members of the group only"})
    now = datetime.now(UTC)
    current = await queries.my_signup(db, a.id, p.user_id)
    if current is not None and current.status == SignupStatus.signed_up:
        raise Conflict("already_signed_up")
    if a.status != ActivityStatus.open or a.signup_deadline <= now:
        raise _closed(a, now)
    if not await seats.take_activity_place(db, a.id, now):
        a = (await db.execute(select(Activity).where(Activity.id == a.id)
                              .execution_options(populate_existing=True))).scalar_one()
        raise _closed(a, now)
    signed = {"status": SignupStatus.signed_up.value, "checked_in_at": None, "updated_at": now}
    if not await insert_ignore(db, table_of(ActivitySignup), {
            "activity_id": a.id, "user_id": p.user_id, "created_at": now, "volunteer_minutes": None,
            "hours_confirmed_at": None, "confirmed_by_id": None, **signed}, ["activity_id", "user_id"]):
        again = await db.execute(update(table_of(ActivitySignup)).where(
            _s.activity_id == a.id, _s.user_id == p.user_id, _s.status == SignupStatus.cancelled.value)
            .values(**signed))
        if not again.rowcount:  # type: ignore[attr-defined]
            raise Conflict("already_signed_up")
    return await _fresh(db, a.id, p.user_id)


async def cancel_signup(db: AsyncSession, p: Principal, activity_id: int) -> dict[str, Any]:
    """A resident cancels before the activity starts and before being checked in; the place is freed."""
    a, _, _ = await queries.visible_activity(db, p, activity_id)
    if await queries.my_signup(db, a.id, p.user_id) is None:  # never signed up: no relation
        raise NotPermitted("not_signed_up")
    now = datetime.now(UTC)
    if a.starts_at <= now:
        raise Conflict("signup_closed", {"signup_deadline": a.starts_at.isoformat()})
    await seats.free_activity_place(db, a.id)  # the activity row before the signup row, as in sign_up
    done = await db.execute(update(table_of(ActivitySignup)).where(
        _s.activity_id == a.id, _s.user_id == p.user_id, _s.status == SignupStatus.signed_up.value,
        _s.checked_in_at.is_(None)).values(status=SignupStatus.cancelled.value, updated_at=now))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("not_signed_up")  # rolls the freed place back too
    return await _fresh(db, a.id, p.user_id)


async def _organised(db: AsyncSession, p: Principal, activity_id: int) -> Activity:
    a, facts, m = await queries.visible_activity(db, p, activity_id)
    if not policies.can_organise(p, facts, queries.member_facts(m)):
        raise NotPermitted()
    return a


async def _signed_up(db: AsyncSession, activity_id: int, user_id: int) -> Any:
    row = await queries.signup_row(db, activity_id, user_id)
    if row is None or row["status"] != SignupStatus.signed_up:
        raise Conflict("not_signed_up")
    return row


async def check_in(db: AsyncSession, p: Principal, activity_id: int, user_id: int) -> dict[str, Any]:
    """The organiser checks a participant in; checking in again changes nothing."""
    a = await _organised(db, p, activity_id)
    await _signed_up(db, a.id, user_id)
    await db.execute(update(table_of(ActivitySignup)).where(
        _s.activity_id == a.id, _s.user_id == user_id, _s.status == SignupStatus.signed_up.value,
        _s.checked_in_at.is_(None)).values(checked_in_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    return queries.signup_read(await queries.signup_row(db, a.id, user_id))


async def confirm_hours(db: AsyncSession, p: Principal, activity_id: int, user_id: int,
                        hours: float) -> dict[str, Any]:
    """The organiser confirms a checked-in participant's volunteer hours; the first confirmation credits points
    (the conditional UPDATE on `hours_confirmed_at IS NULL` has one winner, however many are sent at once). The
    same hours again answer as before, crediting nothing; other hours are 409 `hours_already_confirmed`."""
    a = await _organised(db, p, activity_id)
    if not a.is_volunteer_service:
        raise Conflict("not_volunteer_service")
    row = await _signed_up(db, a.id, user_id)
    if row["checked_in_at"] is None:
        raise Conflict("not_checked_in")
    minutes = round(hours * 60)
    now = datetime.now(UTC)
    claimed = (await db.execute(update(table_of(ActivitySignup)).where(
        _s.id == row["id"], _s.hours_confirmed_at.is_(None), _s.status == SignupStatus.signed_up.value)
        .values(volunteer_minutes=minutes, hours_confirmed_at=now, confirmed_by_id=p.user_id, updated_at=now)
        .returning(_s.id))).first()
    credited = 0
    if claimed is not None:
        credited = await earning.credit_volunteer_hours(
            db, user_id=user_id, community_id=a.community_id, signup_id=row["id"], minutes=minutes,
            activity_title=a.title, confirmed_by_id=p.user_id)
    else:
        row = await queries.signup_row(db, a.id, user_id)
        if row["volunteer_minutes"] != minutes:
            raise Conflict("hours_already_confirmed", {"hours": row["volunteer_minutes"] / 60})
    return {**queries.signup_read(await queries.signup_row(db, a.id, user_id)), "points_credited": credited}
