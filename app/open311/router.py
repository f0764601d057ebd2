"""/open311/v2: GeoReport v2 over our reports. Answers in the spec's shapes and error list (never our envelope),
as JSON or XML by the path's extension; any other extension is a 404, as the spec says."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Form, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError, ErrorEnvelope
from app.core.i18n import message
from app.core.routing import PrefixRouter
from app.db.session import ReadRows, get_database
from app.open311 import queries, service
from app.open311.formats import Format, errors, parse_format, render
from app.open311.mapping import BadArgument, date_range, request_ids, statuses
from app.open311.schemas import Open311Error as ErrorItem
from app.open311.schemas import PostedRequest, Service, ServiceDefinition, ServiceRequest, TokenRequest

PREFIX = "/open311/v2"


def _error_response(request: Request, exc: Exception) -> Response:
    """Any failure of a facade route, as the spec's error list (in the requested format; XML, the spec's
    required format, when the format itself is unknown)."""
    fmt = parse_format(request.path_params.get("format", ""))
    if fmt is None:
        return errors(Format.xml, 404, [f"format {request.path_params.get('format')!r} is not supported: "
                                        "use .json or .xml"])
    if isinstance(exc, BadArgument):
        return errors(fmt, 400, [str(exc)])
    if isinstance(exc, (service.ApiKeyRefused, service.OutsideArea)):
        return errors(fmt, 403, [str(exc)])
    if isinstance(exc, RequestValidationError):
        problems = exc.errors()
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in problems):
            return errors(fmt, 404, ["not found"])
        return errors(fmt, 400, [f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}"
                                 for e in problems])
    if isinstance(exc, queries.Open311NotFound):
        return errors(fmt, 404, [exc.details["description"]])
    if isinstance(exc, AppError):
        status = exc.status_code if exc.status_code in (403, 404) else 400
        return errors(fmt, status, [message(exc.code, english=True)])
    if isinstance(exc, StarletteHTTPException) and exc.status_code < 500 and exc.status_code != 413:
        return errors(fmt, 400, [str(exc.detail)])
    raise exc  # a 500, or a body past the limit: the middleware answers (413 in our envelope)


class Open311Route(APIRoute):
    """Routes whose every failure (validation included) answers in the spec's error format. A write's unit of work
    is opened inside the route (not as a dependency), so it has rolled back before its error is rendered here."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - rendered, or raised again by _error_response
                return _error_response(request, exc)

        return route


router = PrefixRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)

FormatPath = Annotated[Literal["json", "xml"], Path(description="`json` or `xml`; any other is a 404.")]
Jurisdiction = Annotated[str | None, Query(
    max_length=20, description="The street's or community's id (a grid node id, as in /api/v1/places). Optional "
                               "when there is only one street.")]


def _doc(model: Any, description: str) -> dict[str, Any]:
    return {"model": model, "description": description, "content": {"text/xml": {"schema": {"type": "string"}}}}


def _responses(ok: Any, *statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {200: _doc(ok, "GeoReport v2, in JSON or XML")}
    why = {400: "Bad argument (the spec's error list)", 403: "Missing or invalid api_key (the spec's error list)",
           404: "Not found, or an unknown format (the spec's error list)"}
    for s in statuses:
        out[s] = _doc(list[ErrorItem], why[s])
    out[413] = {"model": ErrorEnvelope, "description": "Request body too large (our envelope, from the middleware)"}
    out[422] = {"model": ErrorEnvelope, "description": "NUL character in the path or query (our envelope, from the "
                                                       "middleware)"}
    out[500] = {"model": ErrorEnvelope, "description": "Internal error"}
    return out


def _photo_url(request: Request) -> queries.PhotoUrl:
    signer = request.app.state.photo_signer
    base = str(request.base_url).rstrip("/")
    return lambda upload_id, key: base + signer.url(upload_id, key)


@router.get("/services.{format}", summary="Open311: services (one per report category)",
            response_model=None, responses=_responses(list[Service], 400, 404),
            description="One service per active report category usable in the jurisdiction (owned by it, above "
                        "or below it).")
async def open311_services(rows: ReadRows, format: FormatPath, jurisdiction_id: Jurisdiction = None) -> Response:
    j = await queries.jurisdiction(rows, jurisdiction_id)
    return render(Format(format), "services", await queries.services(rows, j))


@router.get("/services/{service_code}.{format}", summary="Open311: a service definition",
            response_model=None, responses=_responses(ServiceDefinition, 400, 404),
            description="Our categories ask for no extra fields: `attributes` is always empty.")
async def open311_service_definition(rows: ReadRows, service_code: Annotated[str, Path(max_length=40)],
                                     format: FormatPath, jurisdiction_id: Jurisdiction = None) -> Response:
    j = await queries.jurisdiction(rows, jurisdiction_id)
    found = await queries.category(rows, j, service_code)
    return render(Format(format), "service_definition", {"service_code": found["code"], "attributes": []})


@router.get("/requests.{format}", summary="Open311: published requests (reports), newest first",
            response_model=None, responses=_responses(list[ServiceRequest], 400, 404),
            description="Public, not hidden, not withdrawn reports of the jurisdiction; never who reported them, "
                        "internal notes or hidden photos. Defaults: the last 90 days, at most 1,000.")
async def open311_requests(
        request: Request, rows: ReadRows, format: FormatPath, jurisdiction_id: Jurisdiction = None,
        service_request_id: Annotated[str | None, Query(max_length=20_000, description=(
            "Comma-delimited ids; overrides every other filter."))] = None,
        service_code: Annotated[str | None, Query(max_length=2000, description="Comma-delimited codes.")] = None,
        start_date: Annotated[str | None, Query(max_length=40, description=(
            "Requested at or after (W3C date-time with zone).")) ] = None,
        end_date: Annotated[str | None, Query(max_length=40, description=(
            "Requested before (W3C date-time with zone); at most 90 days after start_date."))] = None,
        status: Annotated[str | None, Query(max_length=20, description="open, closed, or open,closed.")] = None,
) -> Response:
    ids = request_ids(service_request_id)
    states = statuses(status)
    start, end = (None, None) if ids else date_range(start_date, end_date, datetime.now(UTC))
    j = await queries.jurisdiction(rows, jurisdiction_id)
    codes = [c for c in (service_code or "").split(",") if c.strip()]
    found = await queries.requests(rows, j, _photo_url(request), ids=ids, codes=[c.strip() for c in codes],
                                   states=states, created_from=start, created_to=end)
    return render(Format(format), "service_requests", found)


@router.get("/requests/{service_request_id}.{format}", summary="Open311: one published request",
            response_model=None, responses=_responses(list[ServiceRequest], 400, 404))
async def open311_request(request: Request, rows: ReadRows, service_request_id: Annotated[int, Path(ge=1, le=2**53)],
                          format: FormatPath, jurisdiction_id: Jurisdiction = None) -> Response:
    j = await queries.jurisdiction(rows, jurisdiction_id)
    return render(Format(format), "service_requests",
                  [await queries.request(rows, j, service_request_id, _photo_url(request))])


@router.get("/tokens/{token}.{format}", summary="Open311: a request's id from its token (the report number)",
            response_model=None, responses=_responses(list[TokenRequest], 400, 404),
            description="Our requests are numbered at once (POST answers with service_request_id); a token here "
                        "is a report number such as BS20261122-0001.")
async def open311_token(rows: ReadRows, token: Annotated[str, Path(max_length=40)], format: FormatPath,
                        jurisdiction_id: Jurisdiction = None) -> Response:
    j = await queries.jurisdiction(rows, jurisdiction_id)
    return render(Format(format), "service_requests", [await queries.by_token(rows, j, token)])


Field = Annotated[str | None, Form(max_length=4000)]


@router.post("/requests.{format}", summary="Open311: post a request (files a report)",
             response_model=None, responses=_responses(list[PostedRequest], 400, 403, 404),
             description="Form-encoded, as the spec says. `api_key` is the secret of a registered app holding the "
                         "`open311` scope; the app's service account files the report at the building `address_id`"
                         " (required), which must lie in the app's area. email, phone, first_name, last_name, "
                         "device_id and account_id are accepted and not kept. Our categories have no attributes.")
async def open311_post_request(
        request: Request, format: FormatPath, api_key: Field = None, jurisdiction_id: Field = None,
        service_code: Field = None, lat: Field = None, long: Field = None, address_string: Field = None,
        address_id: Field = None, description: Field = None, media_url: Field = None, email: Field = None,
        phone: Field = None, first_name: Field = None, last_name: Field = None, device_id: Field = None,
        account_id: Field = None) -> Response:
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise BadArgument(f"{key} must be a form field, not a file")
        values[key] = value
    async with get_database(request).session(write=True) as db:
        answer = await service.post_request(db, values)
    return render(Format(format), "service_requests", answer)





@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def open311_no_such_resource(rest: str) -> Response:
    """Any other path under /open311/v2: the spec's 404, in the format its extension names (XML otherwise)."""
    fmt = Format.json if rest.endswith(".json") else Format.xml
    return errors(fmt, 404, [f"no such resource: {rest!r}"])
