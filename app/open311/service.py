"""POST requests: an Open311 request becomes a report through app/reports/service.submit_report, exactly as
POST /api/v1/reports files one; this module only maps the arguments and says who files it.

Who reports: each registered app (api_key = its secret, holding the `open311` scope) files through its own
service account, a resident-role user created on the app's first request (phone '0' + 10 hex digits of a hash of
the app's client id: never a mobile number, so it can neither collide with a person nor sign in; its password hash
is unusable). For each request the account acts as a resident of the building named by `address_id`, which must
lie in the app's own area (the node it is registered on) and in the jurisdiction. The person's `email`, `phone`,
`first_name`, `last_name`, `device_id` and `account_id` are accepted and dropped: we keep no contact data of people
who are not our users (the app keeps its own contact with them), so no response can show them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clients import service as clients_service
from app.clients.errors import ClientScopeMissing, ClientSecretInvalid, ClientSuspended, ClientUnknown
from app.clients.models import ApiClient
from app.db.helpers import insert_ignore, table_of
from app.db.reader import SessionRows
from app.open311 import queries
from app.open311.formats import w3
from app.open311.mapping import BadArgument, title_of
from app.org.models import Grid, GridLevel
from app.org.policies import community_of
from app.reports import service as reports_service
from app.reports.schemas import ReportCreate
from app.users.models import User
from app.users.roles import Role

SCOPE = "open311"
# the spec's POST arguments; `attribute[code]` would answer a service definition's attributes (ours have none)
PERSON_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
FIELDS = frozenset({"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                    "description", "media_url", *PERSON_FIELDS})
UNUSABLE_PASSWORD = "!open311-service-account"  # not a hash: no password verifies against it
MAX_DESCRIPTION = 2000


class ApiKeyRefused(Exception):
    """403: missing, unknown, wrong, suspended, or without the open311 scope (the description says which)."""


class OutsideArea(Exception):
    """403: the app may not report at that place."""


def service_account_phone(client_id: str) -> str:
    return "0" + hashlib.sha256(f"open311:{client_id}".encode()).hexdigest()[:10]


async def authenticate(db: AsyncSession, api_key: str | None) -> ApiClient:
    if not api_key:
        raise ApiKeyRefused("api_key is missing")
    try:
        return await clients_service.client_for_api_key(db, api_key, SCOPE)
    except ClientScopeMissing:
        raise ApiKeyRefused("this api_key is not allowed to post Open311 requests") from None
    except ClientSuspended:
        raise ApiKeyRefused("the app of this api_key is suspended") from None
    except (ClientUnknown, ClientSecretInvalid):
        raise ApiKeyRefused("invalid api_key") from None


def _checked_fields(form: Mapping[str, Any]) -> None:
    attributes = sorted(k for k in form if k.startswith("attribute["))
    if attributes:
        raise BadArgument(f"this service has no attributes: {', '.join(attributes)} not accepted")
    unknown = sorted(k for k in form if k not in FIELDS)
    if unknown:
        raise BadArgument(f"unknown argument(s): {', '.join(unknown)}")


def _point(lat: str | None, lng: str | None) -> tuple[float | None, float | None]:
    if not lat and not lng:
        return None, None
    if not lat or not lng:
        raise BadArgument("lat and long must be sent together")
    try:
        la, lo = float(lat), float(lng)
    except ValueError:
        raise BadArgument("lat and long must be numbers (WGS84)") from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise BadArgument("lat must be within -90..90 and long within -180..180")
    return la, lo


async def _building(db: AsyncSession, address_id: str | None, j: Mapping[str, Any], client: ApiClient) -> Grid:
    """The building named by address_id (a building's grid node id, as in /api/v1/places), in the jurisdiction
    and in the app's area."""
    if not address_id:
        raise BadArgument("address_id (a building id, from /api/v1/places) is required: reports are placed at a "
                          "building")
    value = address_id.strip()
    building = await db.get(Grid, int(value)) if value.isdigit() and int(value) <= 2**53 else None
    if building is None or building.level != GridLevel.building or building.retired_at is not None \
            or not building.path.startswith(j["path"]):
        raise queries.Open311NotFound(f"address_id {value!r} was not found")
    area = await db.get(Grid, client.grid_id)
    if area is None or not building.path.startswith(area.path):
        raise OutsideArea(f"address_id {value!r} is outside the area this api_key may report in")
    return building


async def _service_account(db: AsyncSession, client: ApiClient, building: Grid) -> int:
    """The app's service account (created on its first request, at that request's building); race-safe: a unique
    phone and INSERT ... ON CONFLICT DO NOTHING."""
    phone = service_account_phone(client.client_id)
    await insert_ignore(db, table_of(User), {
        "phone": phone, "password_hash": UNUSABLE_PASSWORD, "display_name": f"Open311·{client.name}"[:40],
        "role": Role.resident.value, "is_active": True, "is_building_lead": False, "building_id": building.id,
        "community_id": community_of(building.path)}, ["phone"])
    return (await db.execute(select(User.id).where(User.phone == phone))).scalar_one()


def _report_create(form: Mapping[str, Any], category: Mapping[str, Any], building: Grid, kind: str) -> ReportCreate:
    description = (form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise BadArgument(f"description is limited to {MAX_DESCRIPTION} characters here")
    lat, lng = _point(form.get("lat"), form.get("long"))
    address = (form.get("address_string") or "").strip() or None
    if address is not None and len(address) > 200:
        raise BadArgument("address_string is limited to 200 characters")
    try:
        return ReportCreate.model_validate({
            "category_id": category["id"], "title": title_of(description, category["name"]),
            "description": description, "building_id": building.id, "lat": lat, "lng": lng, "address": address,
            "is_public": True, "source": "mini_program" if kind == "mini_program" else "app"})
    except ValidationError as exc:
        raise BadArgument("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None


async def post_request(db: AsyncSession, form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Authenticate the app, check the arguments, file the report; the answer names the new request."""
    client = await authenticate(db, form.get("api_key"))
    _checked_fields(form)
    rows = SessionRows(db)
    j = await queries.jurisdiction(rows, form.get("jurisdiction_id"))
    code = (form.get("service_code") or "").strip()
    if not code:
        raise BadArgument("service_code was not provided")
    category = await queries.category(rows, j, code)
    building = await _building(db, form.get("address_id"), j, client)
    data = _report_create(form, category, building, client.kind)
    account = await _service_account(db, client, building)
    p = Principal(user_id=account, role=Role.resident, building_id=building.id,
                  community_id=community_of(building.path), client_id=client.client_id,
                  scopes=frozenset(client.scopes))
    report = await reports_service.submit_report(db, p, data)
    notice = f"Report {report['number']}; intake expected by {w3(report['respond_by'])}"
    return [{"service_request_id": report["id"], "service_notice": notice, "account_id": None}]
