"""The one door to the points ledger: `post` moves points and records why, in the caller's transaction.

The balance moves by a conditional UPDATE (`balance + :d >= 0`, RETURNING the new balance), and the entry that
records it is inserted in the same transaction with that balance, so balance = sum of entries always; no path
reads a balance and writes it back. (source_type, source_id, kind) is unique: a cause moves points once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.db.helpers import insert_ignore, table_of
from app.points.enums import EntryKind, SourceType
from app.points.models import PointAccount, PointEntry


@dataclass(frozen=True, slots=True)
class Posted:
    entry_id: int
    balance_after: int


async def ensure_account(db: AsyncSession, user_id: int, community_id: int) -> None:
    await insert_ignore(db, table_of(PointAccount), {"user_id": user_id, "community_id": community_id, "balance": 0,
                                                     "hide_from_ranking": False, "created_at": datetime.now(UTC)},
                        ["user_id", "community_id"])


async def post(db: AsyncSession, *, user_id: int, community_id: int, amount: int, kind: EntryKind, reason: str,
               source_type: SourceType, source_id: int | None, created_by_id: int | None) -> Posted:
    """Move `amount` (signed) on the resident's account in this community. 409 `insufficient_points` when the
    balance would go below zero (nothing is written); 409 `already_posted` when this cause was posted before."""
    if amount == 0:
        raise ValueError("a ledger entry moves points")
    await ensure_account(db, user_id, community_id)
    acc = table_of(PointAccount).c
    moved = (await db.execute(
        update(table_of(PointAccount))
        .where(acc.user_id == user_id, acc.community_id == community_id, acc.balance + amount >= 0)
        .values(balance=acc.balance + amount)
        .returning(acc.id, acc.balance))).first()
    if moved is None:
        balance: int = (await db.execute(select(acc.balance).where(acc.user_id == user_id,
                                                              acc.community_id == community_id))).scalar_one()
        raise Conflict("insufficient_points", {"balance": balance, "needed": -amount})
    try:
        entry_id = (await db.execute(insert(table_of(PointEntry)).values(
            account_id=moved.id, user_id=user_id, community_id=community_id, kind=kind.value, amount=amount,
            balance_after=moved.balance, reason=reason, source_type=source_type.value, source_id=source_id,
            created_by_id=created_by_id, created_at=datetime.now(UTC)).returning(table_of(PointEntry).c.id))
        ).scalar_one()
    except IntegrityError as exc:
        raise Conflict("already_posted", {"reason": f"{source_type.value} {source_id} {kind.value}"}) from exc
    return Posted(entry_id=entry_id, balance_after=moved.balance)
