"""Read side of the facade: the jurisdiction, its services (report categories), and published reports with what
the public may see of them. Which reports, photos and notes are published is app/reports/policies.py's rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, or_, select
from sqlalchemy.orm import aliased

from app.core.errors import NotFound
from app.db.reader import Row, Rows
from app.open311.mapping import MAX_REQUESTS, BadArgument, Public, request_of
from app.org.models import Category, Department, Grid, GridLevel
from app.reports import policies
from app.reports.models import Report, ReportEvent, ReportPhoto
from app.uploads.models import Upload

JURISDICTION_LEVELS = (GridLevel.street.value, GridLevel.community.value)


class Open311NotFound(NotFound):
    """404 with the spec's description of what was not found."""

    def __init__(self, description: str):
        super().__init__(details={"description": description})


async def jurisdiction(rows: Rows, jurisdiction_id: str | None) -> Row:
    """The street or community named by `jurisdiction_id` (its grid node id, as in /api/v1/places); left out, the
    only active street, if there is exactly one."""
    base = select(Grid.id, Grid.path, Grid.level, Grid.name).where(Grid.retired_at.is_(None))
    value = (jurisdiction_id or "").strip()
    if not value:
        streets = await rows.all(base.where(Grid.level == GridLevel.street.value).limit(2))
        if len(streets) != 1:
            raise BadArgument("jurisdiction_id was not provided (this endpoint serves several streets)")
        return streets[0]
    if not value.isdigit() or not 1 <= int(value) <= 2**53:
        raise Open311NotFound(f"jurisdiction_id {value!r} was not found")
    found = await rows.all(base.where(Grid.id == int(value), Grid.level.in_(JURISDICTION_LEVELS)))
    if not found:
        raise Open311NotFound(f"jurisdiction_id {value!r} was not found")
    return found[0]


def _services_sql(j: Row) -> Select:
    """Active categories usable in the jurisdiction: owned by it, by a node above it, or by a node below it."""
    owner = aliased(Grid)
    return (select(Category.id, Category.code, Category.name, Category.grid_id, owner.path.label("owner_path"),
                   Department.name.label("department_name"))
            .join(owner, owner.id == Category.grid_id)
            .outerjoin(Department, Department.id == Category.default_department_id)
            .where(Category.retired_at.is_(None),
                   or_(literal(j["path"]).startswith(owner.path), owner.path.startswith(j["path"], autoescape=True)))
            .order_by(Category.name, Category.id))


def service_of(row: Row) -> dict[str, Any]:
    """A GeoReport service. Our categories ask for no extra fields, so metadata is false (definitions are empty)."""
    return {"service_code": row["code"], "service_name": row["name"], "description": row["name"],
            "metadata": False, "type": "realtime",
            "keywords": ", ".join(k for k in (row["name"], row["department_name"]) if k),
            "group": row["department_name"]}


async def services(rows: Rows, j: Row) -> list[dict[str, Any]]:
    return [service_of(r) for r in await rows.all(_services_sql(j).limit(1000))]


async def category(rows: Rows, j: Row, service_code: str) -> Row:
    """The category behind a service code of this jurisdiction, or 404."""
    found = await rows.all(_services_sql(j).where(Category.code == service_code))
    if not found:
        raise Open311NotFound(f"service_code {service_code!r} was not found")
    return found[0]


_building, _community, _street = aliased(Grid), aliased(Grid), aliased(Grid)
_REQUEST_COLUMNS = (
    Report.id, Report.state, Report.title, Report.description, Report.created_at, Report.resolve_by, Report.address,
    Report.building_id, Report.lat, Report.lng, Category.code.label("category_code"),
    Category.name.label("category_name"), Department.name.label("department_name"),
    _building.name.label("building_name"), _community.name.label("community_name"),
    _street.name.label("street_name"))


def _requests_sql(j: Row) -> Select:
    """Published reports of the jurisdiction, newest first, with their service, department and place names."""
    column = Report.street_id if j["level"] == GridLevel.street.value else Report.community_id
    return (select(*_REQUEST_COLUMNS)
            .join(Category, Category.id == Report.category_id)
            .outerjoin(Department, Department.id == Report.handler_department_id)
            .outerjoin(_building, _building.id == Report.building_id)
            .join(_community, _community.id == Report.community_id)
            .join(_street, _street.id == Report.street_id)
            .where(column == j["id"], policies.published_sql())
            .order_by(Report.created_at.desc(), Report.id.desc()))


PhotoUrl = Callable[[int, str], str]


async def _public_parts(rows: Rows, ids: Sequence[int], photo_url: PhotoUrl) -> dict[int, Public]:
    """Per report: its last published note, its last public step's time, its first published photo."""
    if not ids:
        return {}
    events = await rows.all(
        select(ReportEvent.report_id, ReportEvent.note, ReportEvent.note_public, ReportEvent.is_public,
               ReportEvent.created_at)
        .where(ReportEvent.report_id.in_(ids), ReportEvent.is_public.is_(True))
        .order_by(ReportEvent.report_id, ReportEvent.id))
    notes: dict[int, str] = {}
    updated: dict[int, datetime] = {}
    for e in events:
        updated[e["report_id"]] = e["created_at"]
        if policies.published_note(e["is_public"], e["note_public"], e["note"]):
            notes[e["report_id"]] = e["note"]
    photos = await rows.all(
        select(ReportPhoto.report_id, ReportPhoto.upload_id, ReportPhoto.hidden_at, ReportEvent.is_public,
               Upload.storage_key)
        .join(Upload, Upload.id == ReportPhoto.upload_id)
        .outerjoin(ReportEvent, ReportEvent.id == ReportPhoto.event_id)
        .where(ReportPhoto.report_id.in_(ids), ReportPhoto.hidden_at.is_(None))
        .order_by(ReportPhoto.report_id, ReportPhoto.event_id.is_not(None), ReportPhoto.event_id,
                  ReportPhoto.position))
    media: dict[int, str] = {}
    for ph in photos:
        if ph["report_id"] not in media and policies.published_photo(ph["hidden_at"] is not None, ph["is_public"]):
            media[ph["report_id"]] = photo_url(ph["upload_id"], ph["storage_key"])
    return {i: Public(status_notes=notes.get(i), updated_at=updated.get(i), media_url=media.get(i)) for i in ids}


async def requests(rows: Rows, j: Row, photo_url: PhotoUrl, *, ids: list[int], codes: list[str],
                   states: list[str], created_from: datetime | None, created_to: datetime | None,
                   limit: int = MAX_REQUESTS) -> list[dict[str, Any]]:
    """Published requests of the jurisdiction. `ids` given: those (other filters ignored, as the spec says)."""
    stmt = _requests_sql(j)
    if ids:
        stmt = stmt.where(Report.id.in_(ids))
    else:
        if codes:
            stmt = stmt.where(Category.code.in_(codes))
        if states:
            stmt = stmt.where(Report.state.in_(states))
        if created_from is not None:
            stmt = stmt.where(Report.created_at >= created_from)
        if created_to is not None:
            stmt = stmt.where(Report.created_at < created_to)
    found = await rows.all(stmt.limit(limit))
    parts = await _public_parts(rows, [r["id"] for r in found], photo_url)
    return [request_of(r, parts[r["id"]]) for r in found]


async def request(rows: Rows, j: Row, report_id: int, photo_url: PhotoUrl) -> dict[str, Any]:
    found = await requests(rows, j, photo_url, ids=[report_id], codes=[], states=[], created_from=None,
                           created_to=None, limit=1)
    if not found:
        raise Open311NotFound(f"service_request_id {report_id} was not found")
    return found[0]




async def by_token(rows: Rows, j: Row, token: str) -> dict[str, Any]:
    """A token is a report number (BS20261122-0001): the id of the published report with that number."""
    column = Report.street_id if j["level"] == GridLevel.street.value else Report.community_id
    found = await rows.all(select(Report.id).where(Report.number == token.strip(), column == j["id"],
                                                   policies.published_sql()).limit(1))
    if not found:
        raise Open311NotFound(f"token {token!r} was not found")
    return {"service_request_id": found[0]["id"], "token": token.strip()}
