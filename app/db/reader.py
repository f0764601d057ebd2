"""Rows for the hot reads: read-only statements outside any unit of work, as mappings (`row["column"]`).

The AsyncSession costs ~0.35 ms of Python per statement and the Core execution path ~0.2 ms; a list of 20 needs
about 0.1 ms of SQL. `Reader` takes a pooled connection in autocommit (PostgreSQL) or without BEGIN (SQLite) and
executes through SQLAlchemy Core, skipping the ORM session. Only public SQLAlchemy API is used: an earlier driver
path mirrored the asyncpg dialect's private execution internals and was removed (issue 13, item 19; the same-run
comparison is in bench/results/2026-12-04-postgresql-reader.md).

A `Prepared` statement is built once per shape, with a named `bindparam()` for every value, and bound per
request: building a 20-column select with its conditions cost more Python than the query costs PostgreSQL
(bench/notes/postgresql.md). SQLAlchemy's compiled cache keys on the statement, so a prepared one is compiled once.

`SessionRows` gives the same interface inside a unit of work, for a write that answers with what it just wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Select, bindparam, column, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.expression import SelectBase, TextClause, TextualSelect

Row = Mapping[str, Any]


class Prepared:
    """A statement whose every value is a named bindparam, built once (per shape, by the caller) and executed with
    the request's parameters. A parameter left out is an error, not the value of whoever built it: build with
    `bindparam(name)` (required), never with a value.

    `generic`: on PostgreSQL the Reader runs it on a connection that plans each prepared statement once, for any
    values (plan_cache_mode = force_generic_plan), instead of once per execution. Only for a statement whose every
    part has one right plan whatever the values (each scan an index range whose bounds are parameters), checked
    with EXPLAIN in its tests: planning a figure's statement cost PostgreSQL as much as running it."""

    __slots__ = ("stmt", "generic")

    def __init__(self, stmt: Executable, *, generic: bool = False):
        self.stmt = stmt
        self.generic = generic


Statement = Executable | Prepared


def pg_text(stmt: Executable) -> TextClause | TextualSelect:
    """A large statement's PostgreSQL text, compiled once, with its typed bind parameters: the same SQL, the same
    casts of the parameters (the driver's dialect adds them). SQLAlchemy hashes a Core statement's cache key on every
    execution, and a large statement's key is large: ~64 µs for the figures' one read (~16k elements, twice per
    execution), ~25 µs for a step's roll-up upsert. A text's key is its string, whose hash Python keeps. For
    statements built once whose every value is a named bindparam (Prepared); PostgreSQL only.
    A SELECT's text declares its result columns (TextClause.columns, in order): SQLAlchemy then keeps the result's
    metadata with the compiled text, where a bare text built it from the driver's description on every execution
    (~3 % of a street's year, 32 columns)."""
    compiled = stmt.compile(dialect=PGDialect(paramstyle="named"))
    if any(b.value is not None or b.callable is not None for b in compiled.binds.values()):
        raise ValueError("a Prepared statement binds every value by name")  # pragma: no cover - built so
    out = text(compiled.string).bindparams(*(bindparam(k, type_=b.type) for k, b in compiled.binds.items()))
    if isinstance(stmt, SelectBase):
        return out.columns(*(column(c.key, c.type) for c in stmt.selected_columns))
    return out


class Carried(NamedTuple):
    """Writes a read carries to the database in its own round trip (PostgreSQL): data-modifying CTEs added to the
    read's statement, which PostgreSQL runs after the read's rows, and their parameters. The CTEs are built once
    per shape (their identity is part of the carrying statement's cache key): `carrying` builds that statement."""

    ctes: tuple[Any, ...]
    params: Mapping[str, Any]


def carrying(stmt: Select[Any], ctes: tuple[Any, ...]) -> Prepared:
    """`stmt` carrying the data-modifying CTEs `ctes` (Carried), as PostgreSQL text (pg_text); `stmt` alone when
    there are none."""
    return Prepared(pg_text(stmt.add_cte(*ctes))) if ctes else Prepared(stmt)


class Rows(Protocol):
    dialect_name: str

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]: ...


class SessionRows:
    """Inside a unit of work: the session's own connection and transaction, so the rows include what the
    transaction has written (and flushed) so far."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self.dialect_name = session.bind.dialect.name

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        # the session's connection, in its transaction: Core execution, without the ORM's execution layer
        conn = await self.session.connection()
        return (await conn.execute(_executable(stmt), params)).mappings().all()


# How long a generic read waits for its turn: SQLAlchemy's pool_timeout, which the generic pool keeps (its default).
GENERIC_WAIT_SECONDS = 30.0

# SQLite: the Reader's connections skip the BEGIN that app/db/session.py emits for every unit of work; pysqlite's
# own transaction handling is off on every connection, so each statement then runs on its own. (Not SQLAlchemy's
# AUTOCOMMIT isolation level there: returning the connection would switch pysqlite's handling back on.)
NO_BEGIN = "weilinli_no_begin"


class Reader:
    """`generic_engine` (PostgreSQL): the pool whose connections plan generically, for `Prepared(generic=True)`.
    `generic_slots` (its pool's size): the generic reads take their turns first come, first served, at most that
    many at once, so the pool always has a connection for the read holding a turn. SQLAlchemy's async pool hands a
    returned connection to whichever read asks first, and a waiter woken for it that finds it taken waits again at
    the back (asyncio.Queue.get): under load a street's year then waited up to twice its median for a connection
    (docs/decisions.md, issue 20, thirteenth pass). asyncio.Semaphore serves its waiters in order. A read waits for
    its turn as long as it would have waited for the pool (`generic_wait`), then fails with the pool's error.
    `memo`: the process's memo of rows the database announces every change of (app/auth/principal_cache.py:
    principals and grid nodes), set by the app; None (read every time) until then and on SQLite's apps."""

    memo: Any = None

    def __init__(self, engine: AsyncEngine, generic_engine: AsyncEngine | None = None, generic_slots: int = 0,
                 generic_wait: float = GENERIC_WAIT_SECONDS):
        autocommit = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {NO_BEGIN: True}
        self._engine = engine.execution_options(**autocommit)
        self._generic = self._engine if generic_engine is None else generic_engine.execution_options(**autocommit)
        self.dialect_name = engine.dialect.name
        self._wait = generic_wait
        # bound to the serving loop at its first wait (asyncio's primitives take the running loop then)
        self._turns = asyncio.Semaphore(generic_slots) if generic_engine is not None and generic_slots else None

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        if not (isinstance(stmt, Prepared) and stmt.generic):
            return await self._all(self._engine, stmt, params)
        turns = self._turns
        if turns is None:
            return await self._all(self._generic, stmt, params)
        if turns.locked():  # a wait: as long as the pool's own would be, then the pool's error
            try:
                async with asyncio.timeout(self._wait):
                    await turns.acquire()
            except TimeoutError:
                raise PoolTimeout(f"no connection of the generic pool within {self._wait} s") from None
        else:
            await turns.acquire()  # free: taken at once, without yielding
        try:
            return await self._all(self._generic, stmt, params)
        finally:
            turns.release()

    @staticmethod
    async def _all(engine: AsyncEngine, stmt: Statement, params: Mapping[str, Any] | None) -> Sequence[Row]:
        async with engine.connect() as conn:
            return (await conn.execute(_executable(stmt), params)).mappings().all()


def _executable(stmt: Statement) -> Executable:
    return stmt.stmt if isinstance(stmt, Prepared) else stmt
