"""The reports domain's webhook events: which step announces which event, and what its `data` holds.

`EVENTS` is the rule (pure): a step's action (and, for a rating, the state it led to) gives the event type; steps
that change no state (督办, 上报, 延期, moderation) announce nothing. `data` carries no more than the community's
staff can see, and less: ids, number, states, category, places, times. No title, description, address, photos,
reporter or phone: a receiver that needs more asks the API with its own credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications import outbox
from app.notifications.webhooks_events import WebhookEventType as E
from app.notifications.webhooks_events import WebhookPayload
from app.reports.lifecycle import Action, EventAction, State

EVENTS: dict[Action, E] = {
    Action.accept: E.report_accepted, Action.reject: E.report_rejected, Action.withdraw: E.report_withdrawn,
    Action.dispatch: E.report_dispatched, Action.return_: E.report_returned, Action.start: E.report_started,
    Action.resolve: E.report_resolved, Action.merge: E.report_merged, Action.reopen: E.report_reopened,
    Action.auto_close: E.report_closed,
}


def event_for(action: Action, to: State) -> E | None:
    """The event a step announces; a rating closes the report or (差评) reopens it."""
    if action is Action.rate:
        return E.report_closed if to is State.closed else E.report_reopened
    return EVENTS.get(action)


class ReportEventData(BaseModel):
    """`data` of every `report.*` event (payload version 1)."""

    report_id: int
    number: str = Field(description="The report's number, e.g. BS20261122-0001.")
    action: EventAction = Field(description="The step that caused the event (`submit` for report.submitted).")
    previous_state: State | None = Field(description="Null for report.submitted.")
    state: State
    category_id: int
    street_id: int
    community_id: int
    grid_id: int
    handler_department_id: int | None
    reopen_count: int
    created_at: datetime = Field(description="When the report was submitted.")
    respond_by: datetime | None
    resolve_by: datetime | None


class ReportWebhookPayload(WebhookPayload[ReportEventData]):
    """The body of every `report.*` webhook (version 1). Verify `webhook-signature` over the raw body first."""


def report_data(r: Any, action: str, frm: State | None, to: State, changes: dict[str, Any]) -> dict[str, Any]:
    """The event's data from the report as it was (`r`, any object with the report's attributes) and the columns
    the step set."""
    def now(name: str) -> Any:
        return changes.get(name, getattr(r, name))
    return {"report_id": r.id, "number": now("number"), "action": action,
            "previous_state": frm.value if frm else None, "state": to.value, "category_id": r.category_id,
            "street_id": r.street_id, "community_id": r.community_id, "grid_id": r.grid_id,
            "handler_department_id": now("handler_department_id"), "reopen_count": now("reopen_count"),
            "created_at": r.created_at, "respond_by": now("respond_by"), "resolve_by": now("resolve_by")}


def step_deliveries(r: Any, action: Action, frm: State, to: State, changes: dict[str, Any],
                    now: datetime) -> dict[str, Any] | None:
    """The step's deliveries as outbox.emit_params (None if it announces no event): written with the step's event
    (app/reports/writes.insert_event)."""
    event = event_for(action, to)
    if event is None:
        return None
    return outbox.emit_params(r.community_id, event, report_data(r, action.value, frm, to, changes), now,
                              street_id=r.street_id)


async def publish_step(db: AsyncSession, r: Any, action: Action, frm: State, to: State, changes: dict[str, Any],
                       now: datetime) -> int:
    """Write the step's deliveries (if it announces an event), in the step's transaction."""
    params = step_deliveries(r, action, frm, to, changes, now)
    return 0 if params is None else await outbox.write_deliveries(db, params)


async def submitted_targets(db: AsyncSession, community_id: int, street_id: int) -> list[int]:
    """Subscriptions that hear of a new report: looked up before the report's number is given, so that the
    number's lock (held from then to COMMIT) waits on nothing but the deliveries' INSERT, and only when there are
    subscribers."""
    return await outbox.subscribers(db, [community_id, street_id], E.report_submitted)


async def publish_submitted(db: AsyncSession, targets: list[int], report: dict[str, Any], street_id: int,
                            now: datetime) -> int:
    """report.submitted for the new report (`report`: its detail as answered, number given)."""
    if not targets:
        return 0
    data = report_data(_Facts({**report, "street_id": street_id}), "submit", None, State.submitted, {})
    return await outbox.enqueue(db, targets, E.report_submitted, data, now)


class _Facts:
    """A report's detail dict read as attributes (what report_data reads)."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)
