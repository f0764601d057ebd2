"""The inbox: GET /api/v1/notifications, the unread count, mark one or all read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentPrincipal, ReadPrincipal, principal_for
from app.clients import operations
from app.core.errors import TooManyRequests, error_responses
from app.core.i18n import wants_english
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath
from app.db.session import DbSession
from app.notifications import queries
from app.notifications.schemas import MarkedRead, NotificationRead, UnreadCount
from app.notifications.stream import EndReason, StreamSpec, events

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/notifications", tags=["notifications"])
STREAM_PATH = "/api/v1/notifications/stream"  # its scope rule (app/clients/operations) is checked on each heartbeat

EventId = Annotated[int, Query(ge=0, le=2**53)]
STREAM_EVENT = {
    "type": "object", "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["notification", "end"]},
        "id": {"type": "string", "pattern": "^[0-9]+$", 
               "description": "The notification's id (events `notification`)."},
        "retry": {"type": "integer"},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [
            {"$ref": "#/components/schemas/NotificationRead"},
            {"type": "object", "required": ["reason"], "additionalProperties": False,
             "properties": {"reason": {"type": "string", "enum": [r.value for r in EndReason]}}}]}},
    },
}
STREAM_DESCRIPTION = """Server-Sent Events (`text/event-stream`) of the caller's new notifications, as they commit.

Each notification is an event `notification` whose `id` is the notification's id and whose `data` is the same JSON
object as an item of `GET /api/v1/notifications`. To resume after a disconnection, send the last id received as
the `Last-Event-ID` header (EventSource does it by itself) or the `last_event_id` parameter: exactly the
notifications after it follow, then new ones. Without either, the stream starts with the next new notification.

A comment line `: keepalive` follows every `STREAM_HEARTBEAT_SECONDS` of silence. The stream ends with an event
`end` whose data is `{"reason": "token_expired"}` (reconnect with a fresh access token and `Last-Event-ID`) or
`{"reason": "reconnect"}` (after `STREAM_MAX_SECONDS`: reconnect at once with `Last-Event-ID`) or
`{"reason": "signed_out"}` (the session ended or the account was disabled: do not reconnect).
At most `STREAM_MAX_PER_USER` streams per user at once (429)."""


@router.get("", summary="My notifications, newest first", response_model=Page[NotificationRead],
            responses=error_responses(400, 401, 422, 500))
async def list_notifications(request: Request, db: DbSession, p: CurrentPrincipal, limit: Limit = 20,
                             cursor: Cursor = None,
                             unread: Annotated[bool, Query(description="Only unread ones.")] = False):
    items, nxt = await queries.list_inbox(db, p, unread=unread, limit=limit, cursor=cursor,
                                          english=wants_english(request.headers.get("accept-language")))
    return {"items": items, "next_cursor": nxt}


@router.get("/stream", summary="My notifications, live (Server-Sent Events)", description=STREAM_DESCRIPTION,
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": STREAM_EVENT}},
                             "description": "An endless event stream; `schema` describes one event."},
                       **error_responses(401, 422, 429, 500)})
async def stream_notifications(request: Request, p: ReadPrincipal,
                               last_event_id: EventId | None = None,
                               last_event_id_header: Annotated[int | None, Header(
                                   alias="Last-Event-ID", ge=0, le=2**53,
                                   description="The id of the last event received.")] = None):
    state = request.app.state
    if state.broker.streams_of(p.user_id) >= state.settings.stream_max_per_user:
        raise TooManyRequests(retry_after=int(state.settings.stream_heartbeat_seconds) + 1)
    claims = request.state.token_claims

    async def still_allowed() -> bool:  # the user, the session and (a token of an app) the app and its scopes
        now = await principal_for(state.principals, claims, state.db.reader)
        return now is not None and operations.allowed("GET", STREAM_PATH, now.scopes)[0]

    spec = StreamSpec(user_id=p.user_id, english=wants_english(request.headers.get("accept-language")),
                      last_id=last_event_id_header if last_event_id_header is not None else last_event_id,
                      heartbeat=state.settings.stream_heartbeat_seconds, expires_at=claims.exp,
                      ends_at=datetime.now(UTC) + timedelta(seconds=state.settings.stream_max_seconds),
                      still_allowed=still_allowed)
    return StreamingResponse(events(state.db.reader, state.broker, spec), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/unread-count", summary="How many of my notifications are unread", response_model=UnreadCount,
            responses=error_responses(401, 422, 500))
async def count_unread_notifications(db: DbSession, p: CurrentPrincipal):
    return {"unread": await queries.unread_count(db, p)}


@router.post("/{notification_id}/read", summary="Mark one of my notifications read", response_model=MarkedRead,
             responses=error_responses(401, 404, 422, 500),
             dependencies=[Idempotent])
async def mark_notification_read(db: DbSession, p: CurrentPrincipal, notification_id: IdPath):
    return {"marked": await queries.mark_read(db, p, notification_id, datetime.now(UTC))}


@router.post("/read-all", summary="Mark all my notifications read", response_model=MarkedRead,
             responses=error_responses(401, 422, 500),
             dependencies=[Idempotent])
async def mark_all_notifications_read(db: DbSession, p: CurrentPrincipal):
    return {"marked": await queries.mark_all_read(db, p, datetime.now(UTC))}
