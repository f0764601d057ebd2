"""The report writes every submission and step makes, as statements built once and bound per call: the report's
INSERT, a timeline event's INSERT, and a step's conditional UPDATE.

They run in the caller's unit of work (SessionRows: on PostgreSQL the driver of the session's own connection) and
bypass the ORM's unit of work, which cost more than the statements themselves. Every column is a required bind
parameter, defaults included: the driver does not compute SQLAlchemy's Python-side defaults, and a value left out
is an error, not a NULL.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Row, Table, Update, bindparam, exists, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.reader import Prepared, SessionRows
from app.notifications import outbox
from app.reports.models import Report, ReportEvent

REPORT_COLUMNS = (
    "number", "street_id", "community_id", "grid_id", "building_id", "grid_path", "category_id", "title",
    "description", "lat", "lng", "address", "is_public", "hide_reporter", "source", "reporter_id", "filed_by_id",
    "state", "version", "reopen_count", "auto_closed", "follower_count", "respond_by", "created_at", "updated_at")
EVENT_COLUMNS = ("report_id", "action", "actor_id", "actor_role", "from_state", "to_state", "note", "is_public",
                 "note_public", "photo_ids", "data", "created_at")


class Stepped(NamedTuple):
    """A won step: its event's id, and the report's overdue_notified_for as the step's UPDATE left it."""

    event_id: int
    overdue_notified_for: datetime | None


def _insert_sql(table: Table, columns: tuple[str, ...]) -> Prepared:
    values = {c: bindparam(c, type_=table.c[c].type) for c in columns}
    return Prepared(table.insert().values(values).returning(table.c.id))


_REPORT_INSERT = _insert_sql(Report.__table__, REPORT_COLUMNS)
_EVENT_INSERT = _insert_sql(ReportEvent.__table__, EVENT_COLUMNS)


async def insert_report(db: AsyncSession, values: dict[str, Any]) -> int:
    """A new report's row (every column of REPORT_COLUMNS given: each is a required bind parameter); its id."""
    return (await SessionRows(db).all(_REPORT_INSERT, values))[0]["id"]


async def insert_event(db: AsyncSession, values: dict[str, Any]) -> int:
    """A timeline event (every column of EVENT_COLUMNS given); its id. Events are append-only."""
    return (await SessionRows(db).all(_EVENT_INSERT, values))[0]["id"]


def _step_update(changed: tuple[str, ...]) -> Update:
    t = Report.__table__
    values = {c: bindparam(f"set_{c}", type_=t.c[c].type) for c in changed}
    return (t.update()
            .where(t.c.id == bindparam("report_id"), t.c.version == bindparam("expected_version"))
            .values(state=bindparam("to_state", type_=t.c.state.type), version=t.c.version + literal_column("1"),
                    updated_at=bindparam("now", type_=t.c.updated_at.type), **values)
            # overdue_notified_for as the won UPDATE leaves it: the one column of the report's roll-up contribution
            # (rollup_math.FIELDS) a writer other than a step changes (the worker's overdue sweep, which does not
            # move the version), read under the step's row lock
            .returning(t.c.id, t.c.overdue_notified_for))


@lru_cache(maxsize=64)
def _step_sql(changed: tuple[str, ...]) -> Prepared:
    return Prepared(_step_update(changed))


@lru_cache(maxsize=128)
def _step_event_sql(changed: tuple[str, ...], delivering: bool) -> Prepared:
    """PostgreSQL: the step's conditional UPDATE as a CTE, its event INSERTed from it (no row when the step lost),
    and, when `delivering`, its webhook deliveries (outbox.emit_sql_pg, also only when the step won): one statement."""
    stepped = _step_update(changed).cte("stepped")
    t = ReportEvent.__table__
    event = t.insert().from_select(
        list(EVENT_COLUMNS),
        select(stepped.c.id, *(bindparam(f"event_{c}", type_=t.c[c].type) for c in EVENT_COLUMNS if c != "report_id"))
    ).returning(t.c.id, select(stepped.c.overdue_notified_for).scalar_subquery().label("overdue_notified_for"))
    if delivering:
        event = event.add_cte(outbox.emit_sql_pg(exists(select(stepped.c.id))).cte("deliveries"))
    return Prepared(event)


async def step_with_event(db: AsyncSession, report_id: int, expected_version: int, to_state: str, now: datetime,
                          changes: dict[str, Any], event: dict[str, Any],
                          deliveries: dict[str, Any] | None) -> Stepped | None:
    """`apply_step`, then (only if it won) the step's event and its webhook deliveries (`insert_event`): the
    event's id and the report's overdue_notified_for as the step left it, or None when the version had moved on.
    One statement on PostgreSQL; on SQLite the same statements one after the other."""
    rows = SessionRows(db)
    if rows.dialect_name != "postgresql":
        won = await _step(db, report_id, expected_version, to_state, now, changes)
        if won is None:
            return None
        event_id = await insert_event(db, event)
        if deliveries is not None:
            await outbox.write_deliveries(db, deliveries)
        return Stepped(event_id, won["overdue_notified_for"])
    changed = tuple(sorted(changes))
    # The event's values as event_<column>: a parameter named like a column of the UPDATE's table would be added to
    # its SET clause by SQLAlchemy (an UPDATE sets every column its parameters name)
    params = {**{f"event_{c}": v for c, v in event.items() if c != "report_id"}, **(deliveries or {}),
              "report_id": report_id, "expected_version": expected_version, "to_state": to_state, "now": now,
              **{f"set_{c}": v for c, v in changes.items()}}
    done = await rows.all(_step_event_sql(changed, deliveries is not None), params)
    return Stepped(done[0]["id"], done[0]["overdue_notified_for"]) if done else None


async def apply_step(db: AsyncSession, report_id: int, expected_version: int, to_state: str, now: datetime,
                     changes: dict[str, Any]) -> bool:
    """Move the report to `to_state` with `changes`, bumping its version, only if its version is still
    `expected_version`: True if this call won."""
    return await _step(db, report_id, expected_version, to_state, now, changes) is not None


async def _step(db: AsyncSession, report_id: int, expected_version: int, to_state: str, now: datetime,
                changes: dict[str, Any]) -> Row | None:
    """The won UPDATE's returned row (id, overdue_notified_for), or None when the version had moved on."""
    params = {"report_id": report_id, "expected_version": expected_version, "to_state": to_state, "now": now,
              **{f"set_{c}": v for c, v in changes.items()}}
    rows = await SessionRows(db).all(_step_sql(tuple(sorted(changes))), params)
    return rows[0] if rows else None
