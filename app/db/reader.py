"""Rows for the hot reads: read-only statements outside any unit of work, as mappings (`row["column"]`).

The AsyncSession costs ~0.35 ms of Python per statement and the Core execution path ~0.2 ms; a list of 20 needs
about 0.1 ms of SQL. `Reader` takes a pooled connection in autocommit and, on PostgreSQL, hands the statement
SQLAlchemy compiled (cached per statement shape, like SQLAlchemy's own cache) straight to asyncpg. Statements are
still built with SQLAlchemy from the same policies; only their execution is shorter. On SQLite the Reader executes
through SQLAlchemy Core, whose result types asyncpg already gives natively (aware datetimes, decoded JSON).

A `Prepared` statement is built once per shape, with a named `bindparam()` for every value, and bound per
request: building a 20-column select with its conditions, and then its cache key, cost more Python than the
query costs PostgreSQL (bench/notes/postgresql.md). Its compiled form is kept on it.

`SessionRows` gives the same interface inside a unit of work, for a write that answers with what it just wrote:
on PostgreSQL through the driver of the session's own connection, inside its transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable

Row = Mapping[str, Any]
_COMPILED_MAX = 1000  # statement shapes, per process; a queue's filters make a few dozen

# Sees each statement sent to the driver directly, which SQLAlchemy's cursor events do not (the bench's SQL
# capture, the tests' statement counts).
on_driver_statement: Callable[[str, Sequence[Any]], None] | None = None


class Prepared:
    """A statement whose every value is a named bindparam, built once (per shape, by the caller) and executed with
    the request's parameters. A parameter left out is an error, not the value of whoever built it: build with
    `bindparam(name)` (required), never with a value."""

    __slots__ = ("stmt", "compiled")

    def __init__(self, stmt: Executable):
        self.stmt = stmt
        self.compiled: dict[str, Any] = {}  # dialect name -> compiled form


Statement = Executable | Prepared


class Rows(Protocol):
    dialect_name: str

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]: ...


class SessionRows:
    """Inside a unit of work: on PostgreSQL the driver of the session's own connection, so the rows include what
    the transaction has written (and flushed) so far."""

    def __init__(self, session: AsyncSession):
        self.session = session
        dialect = session.bind.dialect
        self.dialect_name = dialect.name
        self._dialect = dialect if _is_asyncpg(dialect) else None

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        if self._dialect is None:
            return (await self.session.execute(_executable(stmt), params)).mappings().all()
        raw = await (await self.session.connection()).get_raw_connection()
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement run through it; a statement sent
        # to the driver first would run (and commit) on its own. Begin the unit of work's transaction now, as the
        # adapter would (`_start_transaction`: private API, held by tests/db/test_reader.py and the crash test). An
        # autocommit session (a read) has none to begin.
        adapted = raw.dbapi_connection
        if adapted._transaction is None and not adapted.autocommit:
            await adapted._start_transaction()
        return await _driver_fetch(raw, self._dialect, stmt, params)


# SQLite: the Reader's connections skip the BEGIN that app/db/session.py emits for every unit of work; pysqlite's
# own transaction handling is off on every connection, so each statement then runs on its own. (Not SQLAlchemy's
# AUTOCOMMIT isolation level there: returning the connection would switch pysqlite's handling back on.)
NO_BEGIN = "weilinli_no_begin"


class Reader:
    def __init__(self, engine: AsyncEngine):
        autocommit = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {NO_BEGIN: True}
        self._engine = engine.execution_options(**autocommit)
        self.dialect_name = engine.dialect.name
        self._dialect = engine.dialect if _is_asyncpg(engine.dialect) else None

    async def all(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        async with self._engine.connect() as conn:
            if self._dialect is None:
                return (await conn.execute(_executable(stmt), params)).mappings().all()
            return await _driver_fetch(await conn.get_raw_connection(), self._dialect, stmt, params)


def _executable(stmt: Statement) -> Executable:
    return stmt.stmt if isinstance(stmt, Prepared) else stmt


async def _driver_fetch(raw: Any, dialect: Dialect, stmt: Statement,
                        params: Mapping[str, Any] | None) -> Sequence[Row]:
    """The statement on the asyncpg connection under `raw` (a pooled connection: in whatever transaction it is in)."""
    sql, args = driver_sql(dialect, stmt, params)
    if on_driver_statement is not None:
        on_driver_statement(sql, args)
    return await raw.driver_connection.fetch(sql, *args)


def _is_asyncpg(dialect: Dialect) -> bool:
    return dialect.name == "postgresql" and dialect.driver == "asyncpg"


_compiled: OrderedDict[Any, Any] = OrderedDict()


def _checked(compiled: Any) -> Any:
    """Refuse a write whose columns take Python-side defaults (default=, onupdate=) it does not set: SQLAlchemy's
    execution context computes those, the driver would bind NULL."""
    prefetch = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if prefetch:
        raise ValueError(f"set these columns explicitly: {', '.join(c.name for c in prefetch)}")
    return compiled


def driver_sql(dialect: Dialect, stmt: Any, params: Mapping[str, Any] | None = None) -> tuple[str, list[Any]]:
    """The SQL and positional arguments SQLAlchemy's asyncpg dialect would send (what its execution context does
    in `_init_compiled`: parameters of this statement into the cached compiled form, expanding IN lists, bind
    processors such as UTCDateTime's)."""
    if isinstance(stmt, Prepared):  # compiled from this very object: its bindparams are the ones to fill
        compiled = stmt.compiled.get(dialect.name)
        if compiled is None:
            compiled = stmt.compiled[dialect.name] = _checked(dialect.statement_compiler(dialect, stmt.stmt))
        values = compiled.construct_params(params, escape_names=False)
    else:
        key = stmt._generate_cache_key()
        compiled = _compiled.get(key.key)
        if compiled is None:
            compiled = _checked(dialect.statement_compiler(dialect, stmt, cache_key=key))
            _compiled[key.key] = compiled
            if len(_compiled) > _COMPILED_MAX:
                _compiled.popitem(last=False)
        values = compiled.construct_params(params, extracted_parameters=key.bindparams, escape_names=False)
    processors = compiled._bind_processors
    sql, order = compiled.string, compiled.positiontup
    if compiled.literal_execute_params or compiled.post_compile_params:
        expanded = compiled._process_parameters_for_postcompile(values)
        sql, order = expanded.statement, expanded.positiontup
        processors = {**processors, **expanded.processors}
    return sql, [processors[k](values[k]) if k in processors else values[k] for k in order]
