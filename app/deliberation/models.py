"""Deliberation (居民议事): proposals, their supports, comments and timeline; votes, their options and electoral
roll; yearly budgets, 民生微实事 projects and their milestones; the community's deliberation settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, JsonType, UTCDateTime, utcnow

PROPOSAL_STATES_SQL = "('open','on_agenda','in_notice','voting','decided','declined','withdrawn')"


class DeliberationSetting(Base):
    """Per community: how many supports (附议) put a proposal on the agenda. No row: the default."""

    __tablename__ = "deliberation_settings"
    __table_args__ = (CheckConstraint("support_threshold >= 1", name="support_threshold"),)

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), primary_key=True)
    support_threshold: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Budget(IdMixin, Base):
    """A community's yearly 民生微实事 budget (whole yuan). `reserved` is held by the database: it only grows by a
    conditional UPDATE that keeps it within `amount`, and the CHECK holds it there whatever the writer."""

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("community_id", "year", name="uq_budgets_community_id_year"),
        CheckConstraint("reserved >= 0 AND reserved <= amount", name="within_amount"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Proposal(IdMixin, Base):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(f"state IN {PROPOSAL_STATES_SQL}", name="state"),
        CheckConstraint("outcome IS NULL OR outcome IN ('adopted','not_adopted')", name="outcome"),
        CheckConstraint("version >= 1 AND support_count >= 0", name="counters"),
        Index("ix_proposals_community_created", "community_id", "created_at", "id"),
        Index("ix_proposals_path_created", "community_path", "created_at", "id"),
        Index("ix_proposals_proposer_id", "proposer_id"),
        Index("ix_proposals_budget_id", "budget_id"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_path: Mapped[str] = mapped_column(String(255))
    proposer_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(16))
    estimated_cost: Mapped[int | None] = mapped_column(Integer)  # the proposer's estimate (yuan)
    state: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    support_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    declined_reason: Mapped[str | None] = mapped_column(Text)
    # the plan (拟方案) and its public notice (张榜公示)
    plan_text: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[int | None] = mapped_column(Integer)  # the plan's cost (yuan): reserved when the vote opens
    notice_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    budget_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("budgets.id"))
    reserved_amount: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalEvent(IdMixin, Base):
    """One step on a proposal's timeline. Append-only (insert-only in the database on PostgreSQL)."""

    __tablename__ = "proposal_events"
    __table_args__ = (Index("ix_proposal_events_proposal_id", "proposal_id", "id"),)

    proposal_id: Mapped[int] = mapped_column(IdType, ForeignKey("proposals.id"))
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))  # null: the system
    actor_role: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalSupport(Base):
    """附议: one row per resident per proposal (the primary key is the one-each rule)."""

    __tablename__ = "proposal_supports"
    __table_args__ = (Index("ix_proposal_supports_user_id", "user_id"),)

    proposal_id: Mapped[int] = mapped_column(IdType, ForeignKey("proposals.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalComment(IdMixin, Base):
    """A comment, or a reply to one (one level: a reply's parent is a top-level comment)."""

    __tablename__ = "proposal_comments"
    __table_args__ = (
        Index("ix_proposal_comments_thread", "proposal_id", "parent_id", "created_at", "id"),
        Index("ix_proposal_comments_parent_id", "parent_id"),
        Index("ix_proposal_comments_author_id", "author_id"),
    )

    proposal_id: Mapped[int] = mapped_column(IdType, ForeignKey("proposals.id"))
    parent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("proposal_comments.id"))
    author_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vote(IdMixin, Base):
    """居民表决 on a proposal: its electorate (a node of the grid tree), window, rule and, once tallied, result."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("proposal_id", name="uq_votes_proposal_id"),
        CheckConstraint("ballot_kind IN ('yes_no','choices')", name="ballot_kind"),
        CheckConstraint("rule_kind IN ('simple_majority','electorate_share')", name="rule_kind"),
        CheckConstraint("closes_at > opens_at", name="window"),
        CheckConstraint("ballots_cast >= 0 AND ballots_cast <= electorate_size", name="turnout"),
        CheckConstraint("share_num >= 0 AND share_den >= 1 AND share_num <= share_den "
                        "AND quorum_num >= 0 AND quorum_den >= 1 AND quorum_num <= quorum_den", name="fractions"),
        # the worker's sweep: votes whose window closed and that are not tallied yet
        Index("ix_votes_due", "closes_at", postgresql_where=text("tallied_at IS NULL"),
              sqlite_where=text("tallied_at IS NULL")),
        Index("ix_votes_electorate_grid_id", "electorate_grid_id"),
    )

    proposal_id: Mapped[int] = mapped_column(IdType, ForeignKey("proposals.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    electorate_grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    electorate_path: Mapped[str] = mapped_column(String(255))
    ballot_kind: Mapped[str] = mapped_column(String(16))
    secret: Mapped[bool] = mapped_column(Boolean)
    rule_kind: Mapped[str] = mapped_column(String(24))
    share_num: Mapped[int] = mapped_column(Integer)
    share_den: Mapped[int] = mapped_column(Integer)
    quorum_num: Mapped[int] = mapped_column(Integer)
    quorum_den: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    electorate_size: Mapped[int] = mapped_column(Integer)
    ballots_cast: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # the result, written once by the worker that claimed the tally (tallied_at) and never changed after
    tallied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    result_reason: Mapped[str | None] = mapped_column(String(24))
    winner_key: Mapped[str | None] = mapped_column(String(16))  # the option that carried, if one did
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoteOption(IdMixin, Base):
    """A choice of a vote with its running count. Secret ballots exist only as these counts: no row anywhere
    holds a voter's choice."""

    __tablename__ = "vote_options"
    __table_args__ = (
        UniqueConstraint("vote_id", "key", name="uq_vote_options_vote_id_key"),
        CheckConstraint("ballots >= 0", name="ballots"),
    )

    vote_id: Mapped[int] = mapped_column(IdType, ForeignKey("votes.id"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    ballots: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class VoteElector(Base):
    """The electoral roll, drawn when the vote opens: one row per eligible resident (the primary key is the
    one-ballot-each rule; voted_at is set once by a conditional UPDATE). `option_id` is filled for open ballots
    only; a secret ballot's choice is never stored with the voter."""

    __tablename__ = "vote_electors"
    __table_args__ = (Index("ix_vote_electors_user_id", "user_id"),)

    vote_id: Mapped[int] = mapped_column(IdType, ForeignKey("votes.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    voted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    option_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("vote_options.id"))


class MicroProject(IdMixin, Base):
    """民生微实事: an adopted proposal followed to completion in public."""

    __tablename__ = "micro_projects"
    __table_args__ = (
        UniqueConstraint("proposal_id", name="uq_micro_projects_proposal_id"),
        CheckConstraint("state IN ('planned','in_progress','completed')", name="state"),
        CheckConstraint("cost >= 0 AND spent >= 0", name="money"),
        Index("ix_micro_projects_community_created", "community_id", "created_at", "id"),
        Index("ix_micro_projects_budget_id", "budget_id"),
    )

    proposal_id: Mapped[int] = mapped_column(IdType, ForeignKey("proposals.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_path: Mapped[str] = mapped_column(String(255))
    budget_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("budgets.id"))
    title: Mapped[str] = mapped_column(String(100))
    cost: Mapped[int] = mapped_column(Integer)
    spent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    state: Mapped[str] = mapped_column(String(16), default="planned")
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProjectMilestone(IdMixin, Base):
    """进展: a public progress entry. Append-only."""

    __tablename__ = "project_milestones"
    __table_args__ = (
        CheckConstraint("amount_spent >= 0", name="amount_spent"),
        Index("ix_project_milestones_project_id", "project_id", "id"),
    )

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("micro_projects.id"))
    happened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    amount_spent: Mapped[int] = mapped_column(Integer, default=0)
    completes: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectFollower(Base):
    __tablename__ = "project_followers"
    __table_args__ = (Index("ix_project_followers_user_id", "user_id"),)

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("micro_projects.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliberationPhoto(Base):
    """A photo of a proposal or of a project milestone (exactly one of the two)."""

    __tablename__ = "deliberation_photos"
    __table_args__ = (
        CheckConstraint("(proposal_id IS NULL) <> (milestone_id IS NULL)", name="one_owner"),
        Index("ix_deliberation_photos_proposal_id", "proposal_id"),
        Index("ix_deliberation_photos_milestone_id", "milestone_id"),
    )

    upload_id: Mapped[int] = mapped_column(IdType, ForeignKey("uploads.id"), primary_key=True)
    proposal_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("proposals.id"))
    milestone_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("project_milestones.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
