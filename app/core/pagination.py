"""Keyset (cursor) pagination. The cursor is an opaque base64url token of the last row's sort key."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Integer, Select, bindparam, tuple_
from sqlalchemy.sql.elements import ColumnElement

from app.core.errors import BadRequest

MAX_LIMIT = 100
MAX_ID = 2**63 - 1  # BIGINT
DEFAULT_LIMIT = 20

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1–{MAX_LIMIT}.")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for v, kind in zip(raw, kinds, strict=True):
            if kind is datetime:
                moment = datetime.fromisoformat(v)
                if moment.tzinfo is None:  # our cursors are always aware; a naive one was not made by us
                    raise ValueError
                out.append(moment)
            elif kind is int:
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_ID:
                    raise ValueError
                out.append(v)
            else:
                out.append(kind(v))
        return out
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise BadRequest("invalid_cursor") from exc


def keyset(stmt: Select, columns: Sequence[ColumnElement], kinds: Sequence[type], cursor: str | None,
           limit: int, *, descending: bool = False) -> Select:
    """Order by `columns` and start after the cursor; fetch limit+1 rows to know if there is a next page."""
    return keyset_sql(stmt, columns, after=bool(cursor), descending=descending)\
        .params(keyset_params(cursor, kinds, limit))


def keyset_sql(stmt: Select, columns: Sequence[ColumnElement], *, after: bool, descending: bool = False) -> Select:
    """keyset() for a statement built once (reader.Prepared): the cursor's values and the page size are the
    bind parameters after_0, after_1 ... and page_limit, which keyset_params gives."""
    if after:
        key = tuple_(*columns)
        values = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(columns)))
        stmt = stmt.where(key < values if descending else key > values)
    order = [c.desc() for c in columns] if descending else list(columns)
    return stmt.order_by(*order).limit(bindparam("page_limit", type_=Integer))


def keyset_params(cursor: str | None, kinds: Sequence[type], limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"page_limit": limit + 1}
    if cursor:
        params.update((f"after_{i}", v) for i, v in enumerate(decode_cursor(cursor, kinds)))
    return params


def page_of(rows: Sequence[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Split the limit+1 rows into the page and the next cursor; `key(row)` gives the sort values."""
    items = list(rows[:limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor
