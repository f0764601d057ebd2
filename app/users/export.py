"""A resident's data export (issue 21 item 4): everything held about the caller, as one document.

Each section reads only rows the caller owns (reporter, booker, member, author, recipient). Rows of other people
that touch them (a handler's step on my report, a worker's note on my errand) appear as role + `by_me`, without a
name, id or phone. A secret ballot appears as "voted in vote N", never the choice. One statement per section
(two for sections with a timeline): the cost grows with the caller's own rows only."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import KnownLoginAddress
from app.auth.principal import Principal
from app.bookings.models import Booking, BookingEvent, BookingService
from app.core.errors import NotFound
from app.deliberation.models import (
    MicroProject,
    ProjectFollower,
    Proposal,
    ProposalComment,
    ProposalEvent,
    ProposalSupport,
    Vote,
    VoteElector,
)
from app.groups.models import Activity, ActivitySignup, Group, Membership
from app.notifications.catalog import render
from app.notifications.models import Notification
from app.org.models import Grid
from app.points.models import PointAccount, PointEntry, Redemption, Reward
from app.privacy.models import PrivacyConsent
from app.reports.models import Report, ReportEvent, ReportFollower, ReportPhoto, ReportRating
from app.uploads.models import Upload
from app.users.export_schemas import UserExport
from app.users.models import User

FORMAT_VERSION = 1


def _step(e: Any, me: int, *, note: bool) -> dict[str, Any]:
    return {"action": e.action, "actor_role": e.actor_role, "by_me": e.actor_id == me,
            "from_state": e.from_state, "to_state": e.to_state, "note": e.note if note else None,
            "created_at": e.created_at}


async def _profile(db: AsyncSession, me: int) -> dict[str, Any]:
    row = (await db.execute(select(User, Grid.name).outerjoin(Grid, Grid.id == User.building_id)
                            .where(User.id == me))).first()
    if row is None:
        raise NotFound()
    u, building = row
    return {"id": u.id, "phone": u.phone, "display_name": u.display_name, "role": u.role, "is_active": u.is_active,
            "is_building_lead": u.is_building_lead, "building_id": u.building_id, "building_name": building,
            "community_id": u.community_id, "birth_date": u.birth_date, "created_at": u.created_at,
            "password_changed_at": u.password_changed_at}


async def _reports(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    reports = (await db.execute(select(Report).where(Report.reporter_id == me).order_by(Report.id))).scalars().all()
    ids = [r.id for r in reports]
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    photos: dict[int, list[int]] = defaultdict(list)
    if ids:
        # the steps the reporter sees (public ones) and their own; a note when public or their own
        events = await db.execute(select(ReportEvent).where(
            ReportEvent.report_id.in_(ids), or_(ReportEvent.is_public.is_(True), ReportEvent.actor_id == me))
            .order_by(ReportEvent.id))
        for e in events.scalars():
            steps[e.report_id].append(_step(e, me, note=e.note_public or e.actor_id == me))
        mine = await db.execute(select(ReportPhoto.report_id, ReportPhoto.upload_id)
                                .join(Upload, Upload.id == ReportPhoto.upload_id)
                                .where(ReportPhoto.report_id.in_(ids), Upload.owner_id == me)
                                .order_by(ReportPhoto.report_id, ReportPhoto.position))
        for report_id, upload_id in mine:
            photos[report_id].append(upload_id)
    return [{"id": r.id, "number": r.number, "title": r.title, "description": r.description,
             "category_id": r.category_id, "state": r.state, "is_public": r.is_public,
             "hide_reporter": r.hide_reporter, "source": r.source, "address": r.address, "lat": r.lat, "lng": r.lng,
             "building_id": r.building_id, "rating": r.rating, "created_at": r.created_at, "closed_at": r.closed_at,
             "photo_ids": photos[r.id], "timeline": steps[r.id]} for r in reports]


async def _ratings(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ReportRating).where(ReportRating.rater_id == me).order_by(ReportRating.id))
    return [{"report_id": r.report_id, "cycle": r.cycle, "stars": r.stars, "tags": list(r.tags or []),
             "comment": r.comment, "created_at": r.created_at} for r in rows.scalars()]


async def _follows(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ReportFollower.report_id, ReportFollower.created_at)
                            .where(ReportFollower.user_id == me).order_by(ReportFollower.report_id))
    return [{"report_id": r.report_id, "created_at": r.created_at} for r in rows]


async def _uploads(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(Upload.id, Upload.content_type, Upload.size, Upload.created_at)
                            .where(Upload.owner_id == me).order_by(Upload.id))
    return [{**r, "url": f"/api/v1/uploads/{r['id']}"} for r in rows.mappings()]


async def _bookings(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = (await db.execute(select(Booking, BookingService.title, BookingService.kind)
                             .join(BookingService, BookingService.id == Booking.service_id)
                             .where(Booking.resident_id == me).order_by(Booking.id))).all()
    ids = [b.id for b, _, _ in rows]
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        events = await db.execute(select(BookingEvent).where(BookingEvent.booking_id.in_(ids))
                                  .order_by(BookingEvent.id))
        for e in events.scalars():
            steps[e.booking_id].append({
                "action": e.action, "actor_role": e.actor_role, "by_me": e.actor_id == me,
                "from_state": e.from_status, "to_state": e.to_status,
                # notes the resident wrote; a worker's note to them is in their notifications
                "note": e.note if e.actor_id == me else None, "created_at": e.created_at})
    return [{"id": b.id, "service_id": b.service_id, "service_title": title, "service_kind": kind,
             "slot_id": b.slot_id, "starts_at": b.starts_at, "status": b.status,
             "for_family_member": b.for_family_member, "note": b.note, "preferred_date": b.preferred_date,
             "cancel_reason": b.cancel_reason, "rating": b.rating, "rating_comment": b.rating_comment,
             "created_at": b.created_at, "events": steps[b.id]} for b, title, kind in rows]


async def _memberships(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(Membership.group_id, Group.name.label("group_name"), Membership.role,
                                   Membership.status, Membership.created_at, Membership.updated_at)
                            .join(Group, Group.id == Membership.group_id)
                            .where(Membership.user_id == me).order_by(Membership.id))
    return [dict(r) for r in rows.mappings()]


async def _signups(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ActivitySignup.activity_id, Activity.title.label("activity_title"),
                                   Activity.starts_at, ActivitySignup.status, ActivitySignup.checked_in_at,
                                   ActivitySignup.volunteer_minutes, ActivitySignup.hours_confirmed_at,
                                   ActivitySignup.created_at)
                            .join(Activity, Activity.id == ActivitySignup.activity_id)
                            .where(ActivitySignup.user_id == me).order_by(ActivitySignup.id))
    return [dict(r) for r in rows.mappings()]


async def _points(db: AsyncSession, me: int) -> dict[str, Any]:
    accounts = await db.execute(select(PointAccount.community_id, PointAccount.balance,
                                       PointAccount.hide_from_ranking)
                                .where(PointAccount.user_id == me).order_by(PointAccount.id))
    ledger = await db.execute(select(PointEntry.id, PointEntry.community_id, PointEntry.kind, PointEntry.amount,
                                     PointEntry.balance_after, PointEntry.reason, PointEntry.source_type,
                                     PointEntry.source_id, PointEntry.created_at)
                              .where(PointEntry.user_id == me).order_by(PointEntry.id))
    redemptions = await db.execute(select(Redemption.id, Redemption.reward_id, Reward.name.label("reward_name"),
                                          Redemption.community_id, Redemption.cost, Redemption.status,
                                          Redemption.note, Redemption.created_at, Redemption.decided_at)
                                   .join(Reward, Reward.id == Redemption.reward_id)
                                   .where(Redemption.user_id == me).order_by(Redemption.id))
    return {"accounts": [dict(r) for r in accounts.mappings()], "ledger": [dict(r) for r in ledger.mappings()],
            "redemptions": [dict(r) for r in redemptions.mappings()]}


async def _proposals(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    props = (await db.execute(select(Proposal).where(Proposal.proposer_id == me).order_by(Proposal.id))
             ).scalars().all()
    ids = [p.id for p in props]
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        events = await db.execute(select(ProposalEvent).where(ProposalEvent.proposal_id.in_(ids))
                                  .order_by(ProposalEvent.id))
        for e in events.scalars():  # a proposal's timeline is public
            steps[e.proposal_id].append(_step(e, me, note=True))
    return [{"id": p.id, "community_id": p.community_id, "title": p.title, "body": p.body, "category": p.category,
             "estimated_cost": p.estimated_cost, "state": p.state, "outcome": p.outcome,
             "support_count": p.support_count, "created_at": p.created_at, "timeline": steps[p.id]} for p in props]


async def _supports(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ProposalSupport.proposal_id, Proposal.title.label("proposal_title"),
                                   ProposalSupport.created_at)
                            .join(Proposal, Proposal.id == ProposalSupport.proposal_id)
                            .where(ProposalSupport.user_id == me).order_by(ProposalSupport.proposal_id))
    return [dict(r) for r in rows.mappings()]


async def _comments(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ProposalComment).where(ProposalComment.author_id == me)
                            .order_by(ProposalComment.id))
    return [{"id": c.id, "proposal_id": c.proposal_id, "parent_id": c.parent_id, "body": c.body,
             "hidden": c.hidden_at is not None, "created_at": c.created_at} for c in rows.scalars()]


async def _ballots(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    """That the caller voted (which vote); the roll row holds neither the choice nor the time (test_secrecy)."""
    rows = await db.execute(select(VoteElector.vote_id, Vote.proposal_id, Proposal.title.label("proposal_title"),
                                   Vote.closes_at.label("vote_closes_at"))
                            .join(Vote, Vote.id == VoteElector.vote_id).join(Proposal, Proposal.id == Vote.proposal_id)
                            .where(VoteElector.user_id == me, VoteElector.voted.is_(True))
                            .order_by(VoteElector.vote_id))
    return [dict(r) for r in rows.mappings()]


async def _project_follows(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(ProjectFollower.project_id, MicroProject.title.label("project_title"),
                                   ProjectFollower.created_at)
                            .join(MicroProject, MicroProject.id == ProjectFollower.project_id)
                            .where(ProjectFollower.user_id == me).order_by(ProjectFollower.project_id))
    return [dict(r) for r in rows.mappings()]


async def _addresses(db: AsyncSession, me: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(KnownLoginAddress.address, KnownLoginAddress.last_seen)
                            .where(KnownLoginAddress.user_id == me).order_by(KnownLoginAddress.address))
    return [dict(r) for r in rows.mappings()]


async def _notifications(db: AsyncSession, me: int, english: bool) -> list[dict[str, Any]]:
    rows = await db.execute(select(Notification).where(Notification.user_id == me).order_by(Notification.id))
    out = []
    for n in rows.scalars():
        title, body = render(n.type, n.params, english)
        out.append({"id": n.id, "type": n.type, "title": title, "body": body, "link": n.link,
                    "created_at": n.created_at, "read_at": n.read_at})
    return out


async def _consents(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Acceptances of the privacy notice (app/privacy), oldest first."""
    rows = await db.execute(select(PrivacyConsent.version, PrivacyConsent.accepted_at)
                            .where(PrivacyConsent.user_id == user_id).order_by(PrivacyConsent.id))
    return [{"notice_version": v, "accepted_at": at} for v, at in rows]


async def export_me(db: AsyncSession, p: Principal, *, english: bool = False) -> UserExport:
    me = p.user_id
    return UserExport.model_validate({
        "format_version": FORMAT_VERSION, "generated_at": datetime.now(UTC),
        "profile": await _profile(db, me), "reports": await _reports(db, me), "ratings": await _ratings(db, me),
        "followed_reports": await _follows(db, me), "uploads": await _uploads(db, me),
        "bookings": await _bookings(db, me), "group_memberships": await _memberships(db, me),
        "activity_signups": await _signups(db, me), "points": await _points(db, me),
        "proposals": await _proposals(db, me), "proposal_supports": await _supports(db, me),
        "comments": await _comments(db, me), "ballots": await _ballots(db, me),
        "followed_projects": await _project_follows(db, me), "sign_in_addresses": await _addresses(db, me),
        "notifications": await _notifications(db, me, english), "consents": await _consents(db, me)})
