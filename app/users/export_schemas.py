"""The schema of a resident's data export (GET /api/v1/me/export, issue 21 item 4): everything the service holds
about the caller, as one JSON document, and nothing about anyone else.

Other people appear only as what they did to the caller's things, never as who they are: a timeline step says
the actor's role and whether it was the caller (`by_me`), never a name, id or phone; comments of others, even on
the caller's own proposals, are not included; of secret ballots only that the caller voted (which vote), never
when or the choice (which is stored nowhere with the voter)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.core.schemas import OutputModel


class ExportProfile(OutputModel):
    id: int
    phone: str
    display_name: str
    role: str
    is_active: bool
    is_building_lead: bool
    building_id: int | None
    building_name: str | None = Field(description="The building the resident lives in (their address).")
    community_id: int | None
    birth_date: date | None
    created_at: datetime
    password_changed_at: datetime | None


class ExportUpload(OutputModel):
    id: int
    content_type: str
    size: int
    created_at: datetime
    url: str = Field(description="Download with your bearer token (GET /api/v1/uploads/{id}).")


class ExportStep(OutputModel):
    """A step on a timeline of one of your things: what happened, by which role, and whether it was you. The
    actor's name, id and phone are not part of your data and are left out."""

    action: str
    actor_role: str
    by_me: bool
    from_state: str | None
    to_state: str | None
    note: str | None = Field(description="Public notes, and notes you wrote yourself.")
    created_at: datetime


class ExportRating(OutputModel):
    report_id: int
    cycle: int
    stars: int
    tags: list[str]
    comment: str | None
    created_at: datetime


class ExportReport(OutputModel):
    id: int
    number: str
    title: str
    description: str
    category_id: int
    state: str
    is_public: bool
    hide_reporter: bool
    source: str
    address: str | None
    lat: float | None
    lng: float | None
    building_id: int | None
    rating: int | None
    created_at: datetime
    closed_at: datetime | None
    photo_ids: list[int] = Field(description="Your photos of the report (see `uploads` for their links).")
    timeline: list[ExportStep]


class ExportBooking(OutputModel):
    id: int
    service_id: int
    service_title: str
    service_kind: str
    slot_id: int | None
    starts_at: datetime
    status: str
    for_family_member: str | None = Field(description="The family member you booked for, as you wrote it.")
    note: str | None = Field(description="Errands: what you asked for.")
    preferred_date: date | None
    cancel_reason: str | None
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    events: list[ExportStep]


class ExportMembership(OutputModel):
    group_id: int
    group_name: str
    role: str
    status: str
    created_at: datetime
    updated_at: datetime


class ExportSignup(OutputModel):
    activity_id: int
    activity_title: str
    starts_at: datetime
    status: str
    checked_in_at: datetime | None
    volunteer_minutes: int | None
    hours_confirmed_at: datetime | None
    created_at: datetime


class ExportPointAccount(OutputModel):
    community_id: int
    balance: int
    hide_from_ranking: bool


class ExportPointEntry(OutputModel):
    id: int
    community_id: int
    kind: str
    amount: int
    balance_after: int
    reason: str
    source_type: str
    source_id: int | None
    created_at: datetime


class ExportRedemption(OutputModel):
    id: int
    reward_id: int
    reward_name: str
    community_id: int
    cost: int
    status: str
    note: str | None
    created_at: datetime
    decided_at: datetime | None


class ExportPoints(OutputModel):
    accounts: list[ExportPointAccount]
    ledger: list[ExportPointEntry]
    redemptions: list[ExportRedemption]


class ExportProposal(OutputModel):
    id: int
    community_id: int
    title: str
    body: str
    category: str | None
    estimated_cost: int | None
    state: str
    outcome: str | None
    support_count: int
    created_at: datetime
    timeline: list[ExportStep]


class ExportSupport(OutputModel):
    proposal_id: int
    proposal_title: str
    created_at: datetime


class ExportComment(OutputModel):
    id: int
    proposal_id: int
    parent_id: int | None
    body: str
    hidden: bool
    created_at: datetime


class ExportBallot(OutputModel):
    """That you voted, never how: secret ballots are counted without the voter. When is not kept either: a time
    beside the voter could be matched with the moment an option's count moved."""

    vote_id: int
    proposal_id: int
    proposal_title: str
    vote_closes_at: datetime


class ExportFollow(OutputModel):
    report_id: int
    created_at: datetime


class ExportProjectFollow(OutputModel):
    project_id: int
    project_title: str
    created_at: datetime


class ExportSignInAddress(OutputModel):
    """An address you signed in from with your password (kept so other people's failures there do not lock you
    out)."""

    address: str
    last_seen: datetime


class ExportNotification(OutputModel):
    id: int
    type: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class ExportConsent(OutputModel):
    """An acceptance of the privacy notice (issue 21 item 2)."""

    notice_version: str
    accepted_at: datetime


class UserExport(OutputModel):
    """All your data, as one document (个人信息副本, PIPL art. 45)."""

    format_version: int = Field(description="Bumped when a section changes meaning.")
    generated_at: datetime
    profile: ExportProfile
    reports: list[ExportReport] = Field(description="Reports you raised (or that were filed for you), with the "
                                                    "steps you may see.")
    ratings: list[ExportRating]
    followed_reports: list[ExportFollow]
    uploads: list[ExportUpload]
    bookings: list[ExportBooking]
    group_memberships: list[ExportMembership]
    activity_signups: list[ExportSignup]
    points: ExportPoints
    proposals: list[ExportProposal]
    proposal_supports: list[ExportSupport]
    comments: list[ExportComment] = Field(description="Your comments only; other people's are theirs.")
    ballots: list[ExportBallot]
    followed_projects: list[ExportProjectFollow]
    sign_in_addresses: list[ExportSignInAddress]
    notifications: list[ExportNotification]
    consents: list[ExportConsent]
