"""A partial day's contributions summed by PostgreSQL: the SQL mirror of rollup_math.counters and .durations.

A period that does not start (or end) on a China midnight has a partial first (or last) day, read from its
reports. Fetching every report of the slice and adding up rollup_math.counters in Python cost a street's 365-day
figures ~1.8k rows of decoding and Python per request; here the database returns one row of sums per group and
one row per (metric, bucket). SQLite keeps the Python path (rollup_queries): its timestamps are text and its
date arithmetic is floating-point days, so the milliseconds would not match the cells' exactly.

Exactness: every counter is a COUNT of the same condition as rollup_math.counters. The milliseconds are the
interval's microseconds (an exact numeric), divided and multiplied in float8 as Python's
`round(timedelta.total_seconds() * 1000)` does (IEEE division and product; `round(float8)` is `rint`, half to
even, like Python's round), and the bucket is `1 + floor(ln(s) / ln(1.04))` in float8 as rollup_math.bucket_of.
tests/stats/test_rollup_slices.py checks both against rollup_math for random durations, including halves.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, and_, case, cast, func, literal_column, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from app.db.reader import Prepared
from app.reports.models import Report
from app.stats import rollup_math
from app.stats.queries import bucket_expression, conditions

_R = Report.__table__.c
_F8 = Float(precision=53)
# the report columns the counters and durations of a slice are computed from (a derived table of them will do)
COLUMNS = ("created_at", "state", "accepted_at", "responded_at", "respond_by", "resolved_at", "resolve_by", "rating",
           "reopen_count", "auto_closed", "due_at", "overdue_notified_for")


def _announced(c: Any) -> ColumnElement[bool]:
    """Open (due_at, generated, is rollup_math.due) and its deadline announced past by the worker's overdue sweep."""
    return and_(c.due_at.is_not(None), c.overdue_notified_for == c.due_at)


def lit(value: int | str) -> ColumnElement[Any]:
    """A constant written into the SQL text, not bound: the figures' statements compare with ~100 constants
    (states, grains, zeros), and binding each on every execution was a large part of a read's time in the
    driver. Only integers and our own identifiers (states) are written this way."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(type(value).__name__)
    if isinstance(value, str):
        if not value.isidentifier():
            raise ValueError(value)
        return literal_column(f"'{value}'")
    return literal_column(str(value), Integer)


def _count(condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
    return func.count() if condition is None else func.count().filter(condition)


def _f8(text: str) -> ColumnElement[float]:
    return literal_column(f"{text}::float8", _F8)


def millis_sql(end: Any, created: Any = _R.created_at) -> ColumnElement[int]:
    """round((end - created).total_seconds() * 1000), as Python computes it."""
    micros = cast(func.extract("epoch", end - created) * lit(1000000), BigInteger)
    return cast(func.round(cast(micros, _F8) / _f8("1000000") * _f8("1000"), type_=_F8), BigInteger)


def bucket_sql(ms: ColumnElement[int]) -> ColumnElement[int]:
    """rollup_math.bucket_of in float8: 0 under a second, else 1 + floor(ln(ms / 1000) / ln(1.04))."""
    log_ratio = func.ln(_f8(repr(rollup_math.RATIO)), type_=_F8)
    log_seconds = func.ln(cast(ms, _F8) / _f8("1000"), type_=_F8)
    return case((ms < lit(1000), lit(0)), else_=lit(1) + cast(func.floor(log_seconds / log_ratio, type_=_F8), Integer))


def counter_columns(c: Any = _R) -> list[ColumnElement[Any]]:
    """The COUNTERS of the reports a statement selects, labelled, in COUNTERS' order. `c`: the reports' columns,
    or a derived table's copies of COLUMNS."""
    accepted = c.accepted_at.is_not(None)
    done = c.state.in_([lit(s) for s in rollup_math.DONE])
    announced = _announced(c)
    measures: dict[str, ColumnElement[Any]] = {
        "n": _count(),
        **{f"st_{s}": _count(c.state == lit(s)) for s in rollup_math.STATES},
        "accepted": _count(accepted),
        "responded": _count(c.responded_at.is_not(None)),
        "on_time": _count(c.responded_at <= c.respond_by),
        "resolved": _count(done),
        "resolved_first_time": _count(and_(accepted, done, c.reopen_count == lit(0))),
        "resolved_in_time": _count(and_(done, c.resolved_at <= c.resolve_by)),
        "rated": _count(c.rating.is_not(None)),
        "satisfied": _count(c.rating >= lit(rollup_math.SATISFIED_FROM)),
        "reopened": _count(c.reopen_count > lit(0)),
        "auto_closed": _count(c.auto_closed.is_(True)),
        "resolve_n": _count(c.resolved_at.is_not(None)),
        "accept_ms": func.coalesce(func.sum(millis_sql(c.accepted_at, c.created_at)), lit(0)),
        "resolve_ms": func.coalesce(func.sum(millis_sql(c.resolved_at, c.created_at)), lit(0)),
        "overdue": _count(announced),
        "late_waiting": _count(and_(announced, c.state == lit("submitted"), c.responded_at.is_(None))),
    }
    assert tuple(measures) == rollup_math.COUNTERS
    return [v.label(k) for k, v in measures.items()]


@lru_cache(maxsize=128)
def counters_sql(rs_shape: Any, group_column: str | None) -> Prepared:
    """The slice's COUNTERS (bound: the set's parameters with start/end the slice), per `group_column`
    ("day": China day; another: a report column, rows with it NULL left out; None: one row)."""
    where = list(conditions(rs_shape))
    if group_column is None:
        return Prepared(select(*counter_columns()).where(*where))
    key = bucket_expression("postgresql", "day") if group_column == "day" else _R[group_column]
    if group_column != "day":
        where.append(key.is_not(None))
    return Prepared(select(key.label("g"), *counter_columns()).where(*where).group_by(key))


@lru_cache(maxsize=128)
def histogram_sql(rs_shape: Any) -> Prepared:
    """The slice's (metric, bucket, n) of time to accept and to resolve."""
    return Prepared(histogram_select(conditions(rs_shape)))


def histogram_select(where: Sequence[ColumnElement[bool]], c: Any = _R) -> Any:
    """(metric, bucket, n) of time to accept and to resolve of the reports matching `where` (`c`: the reports'
    columns, or a derived table's copies of COLUMNS), in one scan of them: each report's two buckets (NULL where it
    has no such duration) grouped by GROUPING SETS, one set per metric (a UNION ALL of one select per metric read
    the slice's reports twice)."""
    inner = select(bucket_sql(millis_sql(c.accepted_at, c.created_at)).label("a"),
                   bucket_sql(millis_sql(c.resolved_at, c.created_at)).label("r")).where(*where).subquery()
    metric = case((func.grouping(inner.c.a) == lit(0), lit(int(rollup_math.ACCEPT))),
                  else_=lit(int(rollup_math.RESOLVE)))
    bucket = func.coalesce(inner.c.a, inner.c.r)  # the set's own column: the other one is NULL in its rows
    return (select(metric.label("metric"), bucket.label("bucket"), func.count().label("n"))
            .group_by(func.grouping_sets(tuple_(inner.c.a), tuple_(inner.c.r))).having(bucket.is_not(None)))
