"""Publication (公示): a community's monthly or quarterly points ranking.

Points earned in the period (the sum of `earn` entries: volunteer hours and pact items; redemptions, refunds and
adjustments do not rank), by display name only, leaving out residents who opted out. Periods are calendar months
and quarters in China time (UTC+8, no DST). Ties share a rank (1, 2, 2, 4), ordered by the smaller user id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import InvalidInput, NotFound
from app.db.helpers import table_of
from app.points import places, policies
from app.points.enums import EntryKind, Period
from app.points.models import PointAccount, PointEntry
from app.users.models import User

CHINA = timezone(timedelta(hours=8))
RANKING_SIZE = 50


def period_bounds(period: Period, year: int, number: int) -> tuple[datetime, datetime]:
    """[start, end) of month `number` (1-12) or quarter `number` (1-4) of `year`, in UTC."""
    months = 1 if period is Period.month else 3
    if not 1 <= number <= (12 if period is Period.month else 4):
        raise InvalidInput("invalid_period", {"reason": f"no {period.value} {number}"})
    first = (number - 1) * months + 1
    start = date(year, first, 1)
    end = date(year + (first + months - 1) // 12, (first + months - 1) % 12 + 1, 1)
    as_utc = lambda d: datetime(d.year, d.month, d.day, tzinfo=CHINA).astimezone(UTC)  # noqa: E731
    return as_utc(start), as_utc(end)


def ranks(points: list[int]) -> list[int]:
    """Competition ranking of points sorted descending: 1, 2, 2, 4."""
    out: list[int] = []
    for i, pts in enumerate(points):
        out.append(out[-1] if i and pts == points[i - 1] else i + 1)
    return out


async def ranking(db: AsyncSession, p: Principal, *, community_id: int | None, period: Period, year: int,
                  number: int) -> dict[str, Any]:
    community_id = community_id or p.community_id
    path = await places.community_path(db, community_id) if community_id else None
    if path is None or community_id is None or not policies.can_read_community(p, community_id, path):
        raise NotFound()
    start, end = period_bounds(period, year, number)
    e = table_of(PointEntry).c
    total = func.sum(e.amount).label("points")
    rows = (await db.execute(
        select(User.display_name, total)
        .select_from(table_of(PointEntry))
        .join(PointAccount, PointAccount.id == e.account_id)
        .join(User, User.id == e.user_id)
        .where(and_(e.community_id == community_id, e.kind == EntryKind.earn.value, e.created_at >= start,
                    e.created_at < end, PointAccount.hide_from_ranking.is_(False)))
        .group_by(e.user_id, User.display_name)
        .order_by(total.desc(), e.user_id)
        .limit(RANKING_SIZE))).all()
    numbers = ranks([r.points for r in rows])
    return {"community_id": community_id, "period": period, "starts_at": start, "ends_at": end,
            "rows": [{"rank": n, "display_name": r.display_name, "points": r.points} for n, r in zip(numbers, rows,
                                                                                                    strict=True)]}
