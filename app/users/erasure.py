"""注销: a resident erases their account (issue 21 item 5).

The password is checked first, outside any write transaction (argon2 in a thread, as in
auth.service.change_password, sharing its failure counter); then ONE transaction:

- the account is claimed by a conditional UPDATE on the hash just verified (of two concurrent erasures, or an
  erasure racing a password change, one wins) and disabled: `is_active` false, every refresh token revoked (their
  sessions' access tokens stop at once; tokens without a session stop on `is_active`), remembered sign-in
  addresses and throttle counters deleted; on PostgreSQL the users/refresh_tokens triggers make every API process
  drop its cached principal;
- what is still to come is cancelled through each domain's own steps: bookings and errands (places freed,
  waitlists promoted, grid workers told), activity signups (places freed), group memberships ended, requested
  redemptions cancelled (points refunded, stock given back), then every point balance forfeited with an `adjust`
  ledger entry (source `erasure`);
- ballots: the roll rows linking the account to votes are deleted; the counts (vote options, ballots_cast,
  electorate_size) are separate numbers and keep counting, so tallies do not change;
- photos the resident uploaded to their PRIVATE reports are deleted (rows now, files after the commit); public
  reports keep their photos, as part of the community's record;
- the notifications addressed to the account are deleted, and so are the family-member names and errand notes
  written on its bookings;
- personal fields are replaced: the phone by a placeholder that is not a phone number ('x' + the id, which no
  sign-in form accepts and which no one else can hold), the display name by 已注销居民, the birth date and the
  password hash cleared (an unusable hash), the building-lead flag dropped. Reports, ratings, comments and
  proposals stay, and everything that shows their author shows 已注销居民;
- an audit entry with counts only.

Staff accounts are never erased (403 `staff_not_erasable`): admins deactivate them, so timelines keep who acted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from pydantic import Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import sessions, sms, throttle
from app.auth.models import KnownLoginAddress, LoginThrottle
from app.auth.principal import Principal
from app.auth.sms_schemas import SmsCodeValue
from app.bookings import service as bookings_service
from app.bookings.models import Booking
from app.core import i18n
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, NotPermitted
from app.core.schemas import InputModel
from app.core.security import verify_password
from app.db.session import Database
from app.deliberation.models import VoteElector
from app.groups import activities, membership, seats
from app.groups.enums import ActivityStatus, MemberStatus, SignupStatus
from app.groups.models import Activity, ActivitySignup, Membership
from app.notifications.models import Notification
from app.points import ledger, rewards
from app.points.enums import EntryKind, RedemptionAction, RedemptionStatus, SourceType
from app.points.models import PointAccount, Redemption
from app.points.schemas import RedemptionStepIn
from app.reports.models import Report, ReportPhoto
from app.uploads.models import Upload
from app.uploads.storage import Storage
from app.users.models import Role, User

ERASED_NAME, ERASED_NAME_EN = i18n.ERASED_NAME  # shown in English on Accept-Language: en (i18n.PersonName)
UNUSABLE_HASH = "!erased"  # not an argon2 hash: verify_password is False for every password


class ErasureByPassword(InputModel):
    """Confirm with the account's password."""

    method: Literal["password"] = Field(description="How the resident confirms: `password`.")
    password: str = Field(min_length=1, max_length=128)


class ErasureBySmsCode(InputModel):
    """Confirm with an SMS code of purpose `erase` sent to the account's own number (POST /api/v1/auth/sms/codes)."""

    method: Literal["sms_code"] = Field(description="How the resident confirms: `sms_code`.")
    code: SmsCodeValue


ErasureRequest = Annotated[ErasureByPassword | ErasureBySmsCode, Field(discriminator="method")]


def placeholder_phone(user_id: int) -> str:
    """Unique (the id), 11 characters like the column, and never a phone number (no sign-in form accepts it)."""
    return f"x{user_id:010d}"


def _pwd_key(user_id: int) -> tuple[str, str]:
    return ("phone", f"pwd:{user_id}")  # the change-password counter: one limit on guessing this password


async def erase_account(database: Database, settings: Settings, storage: Storage, p: Principal,
                        body: ErasureByPassword | ErasureBySmsCode, code_key: str) -> None:
    """`code_key`: the key SMS codes are hashed with (the app's JWT secret, as in app/auth/sms_router.py)."""
    if p.role is not Role.resident:
        raise NotPermitted("staff_not_erasable")
    if isinstance(body, ErasureBySmsCode):
        await _erase_by_code(database, storage, p, body.code, code_key)
        return
    keys = [_pwd_key(p.user_id)]
    now = datetime.now(UTC)
    async with database.session(write=False) as db:
        await throttle.ensure_not_locked(db, keys, now)
        stored = (await db.execute(select(User.password_hash).where(User.id == p.user_id))).scalar_one_or_none()
    if stored is None or not await anyio.to_thread.run_sync(verify_password, settings, stored, body.password):
        async with database.session(write=True) as db:
            await throttle.record_failure(db, settings, keys, now)
            audit.record(db, p.user_id, "user.erase_failed", "user", p.user_id)
        raise InvalidInput("wrong_password")
    async with database.session(write=True) as db:
        files = await erase(db, p, stored, datetime.now(UTC), code_key)
    for key in files:  # after the commit: a failed erasure keeps its photos; a file left here is a stray the
        await storage.delete(key)  # uploads cleanup removes


async def _erase_by_code(database: Database, storage: Storage, p: Principal, code: str, key: str) -> None:
    """The code proves the account's own number; it is spent and the account erased in one transaction (a wrong
    code counts against the code's tries and stands: SmsCodeRefused keeps its writes)."""
    async with database.session(write=True) as db:
        row = (await db.execute(select(User.phone, User.password_hash).where(User.id == p.user_id))).one()
        await sms.consume(db, key, phone=row.phone, purpose="erase", code=code, now=datetime.now(UTC))
        files = await erase(db, p, row.password_hash, datetime.now(UTC), key)
    for k in files:
        await storage.delete(k)


async def erase(db: AsyncSession, p: Principal, verified_hash: str, now: datetime, secret: str) -> list[str]:
    """Everything but the password check, in the caller's transaction. Returns the storage keys of the files to
    delete once it commits."""
    uid = p.user_id
    claimed = await db.execute(update(User).where(User.id == uid, User.password_hash == verified_hash,
                                                  User.is_active.is_(True), User.role == Role.resident.value)
                               .values(is_active=False).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # the password changed meanwhile, or erased already
        raise InvalidInput("wrong_password")
    phone = (await db.execute(select(User.phone).where(User.id == uid))).scalar_one()
    await sessions.revoke_all(db, uid)
    await db.execute(delete(KnownLoginAddress).where(KnownLoginAddress.user_id == uid))
    throttled = [throttle.phone_key(secret, phone), _pwd_key(uid)[1]]
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(throttled)))

    bookings = await bookings_service.cancel_on_erasure(db, p, now)
    signups = await _cancel_signups(db, p, now)
    groups = await _leave_groups(db, p)
    redemptions = await _cancel_redemptions(db, p)
    forfeited = await _forfeit_points(db, uid)
    ballots = (await db.execute(delete(VoteElector).where(VoteElector.user_id == uid))).rowcount  # type: ignore[attr-defined]
    files = await _delete_private_photos(db, uid)
    await db.execute(delete(Notification).where(Notification.user_id == uid))
    # what they wrote about their family and errands is theirs, not the service's record
    await db.execute(update(Booking).where(Booking.resident_id == uid).values(for_family_member=None, note=None)
                     .execution_options(synchronize_session=False))

    await db.execute(update(User).where(User.id == uid).values(
        phone=placeholder_phone(uid), display_name=ERASED_NAME, password_hash=UNUSABLE_HASH, birth_date=None,
        is_building_lead=False, password_changed_at=now).execution_options(synchronize_session=False))
    audit.record(db, uid, "user.erase", "user", uid, bookings_cancelled=bookings, signups_cancelled=signups,
                 groups_left=groups, redemptions_cancelled=redemptions, points_forfeited=forfeited,
                 roll_rows_unlinked=ballots, photos_deleted=len(files))
    return files


async def _cancel_signups(db: AsyncSession, p: Principal, now: datetime) -> int:
    """Signups for open activities still to come, not checked in: cancelled through groups.activities (the place
    is freed). An activity the account can no longer see (it moved community) is freed the same way directly."""
    rows = (await db.execute(select(ActivitySignup.activity_id)
                             .join(Activity, Activity.id == ActivitySignup.activity_id)
                             .where(ActivitySignup.user_id == p.user_id,
                                    ActivitySignup.status == SignupStatus.signed_up.value,
                                    ActivitySignup.checked_in_at.is_(None), Activity.starts_at > now,
                                    Activity.status == ActivityStatus.open.value))).scalars().all()
    for activity_id in rows:
        try:
            await activities.cancel_signup(db, p, activity_id)
        except NotFound:
            await seats.free_activity_place(db, activity_id)
            await db.execute(update(ActivitySignup).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == p.user_id,
                ActivitySignup.status == SignupStatus.signed_up.value)
                .values(status=SignupStatus.cancelled.value, updated_at=now)
                .execution_options(synchronize_session=False))
    return len(rows)


async def _leave_groups(db: AsyncSession, p: Principal) -> int:
    """Memberships, applications and invitations end through groups.membership.leave_group (the seat is freed);
    a group the account can no longer see is left the same way directly."""
    held = (MemberStatus.active.value, MemberStatus.applied.value, MemberStatus.invited.value)
    rows = (await db.execute(select(Membership.group_id, Membership.status).where(
        Membership.user_id == p.user_id, Membership.status.in_(held)))).all()
    for group_id, status in rows:
        try:
            await membership.leave_group(db, p, group_id)
        except NotFound:
            if status == MemberStatus.active.value:
                await seats.free_group_seat(db, group_id)
            await db.execute(update(Membership).where(Membership.group_id == group_id,
                                                      Membership.user_id == p.user_id, Membership.status == status)
                             .values(status=MemberStatus.left.value, role="member")
                             .execution_options(synchronize_session=False))
    return len(rows)


async def _cancel_redemptions(db: AsyncSession, p: Principal) -> int:
    """Requested redemptions nobody can collect now: cancelled as the resident would (refund, stock back)."""
    rows = (await db.execute(select(Redemption.id, Redemption.version).where(
        Redemption.user_id == p.user_id, Redemption.status == RedemptionStatus.requested.value))).all()
    for redemption_id, version in rows:
        await rewards.take_redemption_step(db, p, redemption_id, RedemptionStepIn(
            action=RedemptionAction.cancel, expected_version=version))
    return len(rows)


async def _forfeit_points(db: AsyncSession, user_id: int) -> int:
    """Every positive balance goes to zero with one `adjust` entry per account (source: erasure, the account)."""
    total = 0
    accounts = (await db.execute(select(PointAccount.id, PointAccount.community_id, PointAccount.balance).where(
        PointAccount.user_id == user_id, PointAccount.balance > 0))).all()
    for account_id, community_id, balance in accounts:
        await ledger.post(db, user_id=user_id, community_id=community_id, amount=-balance, kind=EntryKind.adjust,
                          reason="账号注销，积分作废", source_type=SourceType.erasure, source_id=account_id,
                          created_by_id=None)
        total += balance
    # and the account leaves the published ranking (公示): nobody is ranked as 已注销居民
    await db.execute(update(PointAccount).where(PointAccount.user_id == user_id).values(hide_from_ranking=True)
                     .execution_options(synchronize_session=False))
    return total


async def _delete_private_photos(db: AsyncSession, user_id: int) -> list[str]:
    """The account's own photos of its private reports: the attachment rows and upload rows go now (a timeline
    step that listed one now lists an id that answers 404), the files after the commit."""
    rows = (await db.execute(select(Upload.id, Upload.storage_key)
                             .join(ReportPhoto, ReportPhoto.upload_id == Upload.id)
                             .join(Report, Report.id == ReportPhoto.report_id)
                             .where(Report.reporter_id == user_id, Report.is_public.is_(False),
                                    Upload.owner_id == user_id))).all()
    ids = [r.id for r in rows]
    if ids:
        await db.execute(delete(ReportPhoto).where(ReportPhoto.upload_id.in_(ids)))
        await db.execute(delete(Upload).where(Upload.id.in_(ids)))
    return [r.storage_key for r in rows]
