"""Points (积分): one account per resident and community, its append-only ledger, the earning rules, rewards and
redemptions (积分兑换)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime, utcnow

ENTRY_KINDS_SQL = "('earn','redeem','refund','expire','adjust')"


class PointAccount(IdMixin, Base):
    """The running balance, kept in the same transaction as each entry by a conditional UPDATE
    (`balance + :d >= 0`); the CHECK is the last line."""

    __tablename__ = "point_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id", name="uq_point_accounts_user_id_community_id"),
        CheckConstraint("balance >= 0", name="balance"),
        Index("ix_point_accounts_community_id", "community_id"),
    )

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    hide_from_ranking: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the day the worker last applied expiry to this account (app/points/expiry.py): once per account and day
    expiry_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PointEntry(IdMixin, Base):
    """One movement of points. Append-only (on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE).
    (source_type, source_id, kind) is unique: what caused an entry can cause it once."""

    __tablename__ = "point_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS_SQL}", name="kind"),
        CheckConstraint("amount <> 0", name="amount"),
        CheckConstraint("balance_after >= 0", name="balance_after"),
        UniqueConstraint("source_type", "source_id", "kind", name="uq_point_entries_source_type_source_id_kind"),
        Index("ix_point_entries_account_created", "account_id", "created_at", "id"),
        Index("ix_point_entries_community_created", "community_id", "created_at"),
    )

    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("point_accounts.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[int | None] = mapped_column(IdType)
    created_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointRule(Base):
    """A community's earning rule for volunteer service: points per confirmed hour."""

    __tablename__ = "point_rules"
    __table_args__ = (CheckConstraint("points_per_hour >= 0", name="points_per_hour"),)

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), primary_key=True)
    points_per_hour: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PactItem(IdMixin, Base):
    """居民公约 item staff award points for (垃圾分类示范户 +5)."""

    __tablename__ = "pact_items"
    __table_args__ = (
        CheckConstraint("points >= 1", name="points"),
        Index("ix_pact_items_community_id", "community_id"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    name: Mapped[str] = mapped_column(String(60))
    points: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PactAward(IdMixin, Base):
    """One award of a pact item to a resident: the source of its ledger entry."""

    __tablename__ = "pact_awards"
    __table_args__ = (Index("ix_pact_awards_user_id", "user_id"), Index("ix_pact_awards_pact_item_id", "pact_item_id"))

    pact_item_id: Mapped[int] = mapped_column(IdType, ForeignKey("pact_items.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    points: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500))
    awarded_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reward(IdMixin, Base):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost >= 1", name="cost"),
        CheckConstraint("stock >= 0", name="stock"),
        CheckConstraint("per_resident_limit IS NULL OR per_resident_limit >= 1", name="per_resident_limit"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_rewards_community_created", "community_id", "created_at", "id"),
        Index("ix_rewards_community_path", "community_path"),
    )

    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    community_path: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    per_resident_limit: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RewardClaim(Base):
    """How many live (not cancelled) redemptions of a reward a resident holds: the per-resident limit is a
    conditional increment of this counter."""

    __tablename__ = "reward_claims"
    __table_args__ = (CheckConstraint("claimed >= 0", name="claimed"), Index("ix_reward_claims_user_id", "user_id"))

    reward_id: Mapped[int] = mapped_column(IdType, ForeignKey("rewards.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), primary_key=True)
    claimed: Mapped[int] = mapped_column(Integer, default=0)


class Redemption(IdMixin, Base):
    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("status IN ('requested','fulfilled','cancelled')", name="status"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_redemptions_user_created", "user_id", "created_at", "id"),
        Index("ix_redemptions_community_created", "community_id", "created_at", "id"),
        Index("ix_redemptions_reward_id", "reward_id"),
    )

    reward_id: Mapped[int] = mapped_column(IdType, ForeignKey("rewards.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"))
    cost: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    note: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
