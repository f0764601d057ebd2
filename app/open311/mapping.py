"""From our reports to GeoReport v2 and back: status mapping, the list's query arguments, one request's fields.
Pure: no I/O. What a report shows is decided in app/reports/policies.py (published_*); this only translates.

Status mapping (GeoReport has only `open` and `closed`):
    open   = submitted, accepted, dispatched, in_progress  (waiting for intake, or being handled)
    closed = resolved, closed, rejected, merged             (done: handled, rated, refused, or joined another)
    withdrawn reports are not published at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.open311.formats import w3
from app.reports.lifecycle import OPEN_STATES, State

MAX_REQUESTS = 1000  # the spec's default (and our maximum) number of requests per list
MAX_SPAN = timedelta(days=90)  # the spec's default (and maximum) date range
MAX_IDS = 1000

OPEN = tuple(sorted(s.value for s in OPEN_STATES))
CLOSED = tuple(sorted(s.value for s in (State.resolved, State.closed, State.rejected, State.merged)))
STATES_OF = {"open": OPEN, "closed": CLOSED}


def status_of(state: str) -> str:
    return "open" if state in OPEN else "closed"


class BadArgument(ValueError):
    """An argument the spec's 400 answers (the message is the error's description)."""


def parse_w3(name: str, value: str) -> datetime:
    """A W3C date-time; the spec requires the zone (Z or ±hh:mm)."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadArgument(f"{name} must be a W3C date-time, e.g. 2010-01-01T00:00:00Z") from None
    if dt.tzinfo is None:
        raise BadArgument(f"{name} must include a time zone (Z or an offset such as +08:00)")
    return dt.astimezone(UTC)


def date_range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end): both given, at most 90 days apart; one given, 90 days from or to it; none, the last 90 days."""
    s = parse_w3("start_date", start) if start else None
    e = parse_w3("end_date", end) if end else None
    if s is not None and e is not None:
        if e < s:
            raise BadArgument("end_date must not be before start_date")
        if e - s > MAX_SPAN:
            raise BadArgument("start_date and end_date may not span more than 90 days")
        return s, e
    if s is not None:
        return s, s + MAX_SPAN
    if e is not None:
        return e - MAX_SPAN, e
    return now - MAX_SPAN, now


def comma_list(value: str | None) -> list[str]:
    """The spec's comma-delimited values (empty items dropped, order kept, duplicates dropped)."""
    return list(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))


def request_ids(value: str | None) -> list[int]:
    ids = comma_list(value)
    if len(ids) > MAX_IDS:
        raise BadArgument(f"at most {MAX_IDS} service_request_id values")
    out = []
    for v in ids:
        if not v.isdigit() or not 1 <= int(v) <= 2**53:
            raise BadArgument(f"service_request_id {v!r} is not a request id")
        out.append(int(v))
    return out


def statuses(value: str | None) -> list[str]:
    wanted = comma_list(value)
    unknown = [s for s in wanted if s not in STATES_OF]
    if unknown:
        raise BadArgument(f"status must be open or closed (comma-delimited), not {', '.join(unknown)}")
    return [state for s in wanted for state in STATES_OF[s]]


@dataclass(frozen=True, slots=True)
class Public:
    """What the public may read of a report besides its own columns: its last public note and step, its first
    public photo (as a URL)."""

    status_notes: str | None = None
    updated_at: datetime | None = None
    media_url: str | None = None


def place_address(row: Mapping[str, Any]) -> str | None:
    """The report's own address, or its place from most specific to most general (building, community, street)."""
    if row["address"]:
        return str(row["address"])
    names = [row[k] for k in ("building_name", "community_name", "street_name") if row[k]]
    return ", ".join(names) or None


def request_of(row: Mapping[str, Any], public: Public) -> dict[str, Any]:
    """One GeoReport request: every field of the spec, in its order; never who reported it."""
    return {
        "service_request_id": row["id"],
        "status": status_of(row["state"]),
        "status_notes": public.status_notes,
        "service_name": row["category_name"],
        "service_code": row["category_code"],
        "description": text_of(row["title"], row["description"]),
        "agency_responsible": row["department_name"],
        "service_notice": None,
        "requested_datetime": w3(row["created_at"]),
        "updated_datetime": w3(public.updated_at or row["created_at"]),
        "expected_datetime": w3(row["resolve_by"]),
        "address": place_address(row),
        "address_id": row["building_id"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lng"],
        "media_url": public.media_url,
    }


def text_of(title: str, description: str | None) -> str:
    """GeoReport has one text: our title, and the description after it (unless it already starts with it)."""
    if not description:
        return title
    return description if description.startswith(title) else f"{title}: {description}"


def title_of(description: str, service_name: str) -> str:
    """Our reports have a title (2-100 characters), GeoReport requests do not: the description's first line, cut to
    100 characters, or the service's name when there is no description."""
    first = description.strip().splitlines()[0].strip() if description.strip() else ""
    title = first if len(first) >= 2 else service_name
    return title[:100] if len(title) >= 2 else f"{title}报事"[:100]
