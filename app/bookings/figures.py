"""Per-service figures for staff: bookings by status and the average rating, one GROUP BY in SQL.

A separate endpoint beside the report figures (docs/decisions.md, Bookings): the report figures take category,
department and grid filters that mean nothing for services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import ensure_admin
from app.auth.principal import Principal
from app.bookings.models import Booking, BookingService
from app.bookings.queries import staff_services_sql
from app.core.errors import InvalidInput

S = ("booked", "waitlisted", "cancelled", "attended", "no_show")
MAX_DAYS = 366


def _count(cond):
    return func.count(case((cond, 1)))


async def service_figures(db: AsyncSession, p: Principal, *, community_id: int | None, start: datetime | None,
                          end: datetime | None) -> dict:
    """Bookings whose slot starts (errands: asked) in [start, end); default the 30 days before and after now."""
    ensure_admin(p)
    now = datetime.now(UTC)
    start = start or (end - timedelta(days=60) if end else now - timedelta(days=30))
    end = end or start + timedelta(days=60)
    if end <= start or (end - start).days > MAX_DAYS:
        raise InvalidInput("invalid_period", {"reason": f"from before to, at most {MAX_DAYS} days"})
    slot_b = Booking.slot_id.is_not(None)
    errand = Booking.slot_id.is_(None)
    stmt = (select(BookingService.id.label("service_id"), BookingService.title, BookingService.kind,
                   BookingService.status, func.count(Booking.id).label("bookings"),
                   *(_count(and_(slot_b, Booking.status == s)).label(s) for s in S),
                   _count(and_(errand, Booking.status.in_(("booked", "received", "processing")))).label("errands_open"),
                   _count(and_(errand, Booking.status == "done")).label("errands_done"),
                   _count(and_(errand, Booking.status == "cannot_do")).label("errands_cannot_do"),
                   func.count(Booking.rating).label("ratings"), func.avg(Booking.rating).label("average_rating"))
            .select_from(BookingService)
            .outerjoin(Booking, and_(Booking.service_id == BookingService.id, Booking.starts_at >= start,
                                     Booking.starts_at < end))
            .where(staff_services_sql(p))
            .group_by(BookingService.id, BookingService.title, BookingService.kind, BookingService.status)
            .order_by(BookingService.id))
    if community_id is not None:
        stmt = stmt.where(BookingService.community_id == community_id)
    services = []
    for row in (await db.execute(stmt)).mappings():
        item = dict(row)
        avg = item["average_rating"]
        item["average_rating"] = round(float(avg), 2) if avg is not None else None
        services.append(item)
    return {"period_from": start, "period_to": end, "services": services}
