"""Engine and the request session: one transaction per request, committed once at the end.

SQLite: WAL, foreign keys and a busy timeout on every connection. pysqlite's own transaction
handling is switched off and we emit BEGIN ourselves; write requests start with BEGIN IMMEDIATE so a
read-then-write transaction takes the write lock first instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import AppError
from app.db.reader import NO_BEGIN, Reader

log = logging.getLogger("weilinli.db")

WRITE_OPTION = "weilinli_write"
BEFORE_COMMIT = "weilinli_before_commit"


def before_commit(session: AsyncSession, key: str, fn: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run `await fn(session)` once, right before this unit of work commits (not if it fails). For writes whose
    order must follow commit order, such as the notifications of app/notifications/service.py. One per key."""
    session.info.setdefault(BEFORE_COMMIT, {})[key] = fn


async def run_before_commit(session: AsyncSession) -> None:
    """Run the before-commit writes now (each once: a later commit finds them done). For a unit of work whose last
    statement must be the one that takes a contended row lock (app/bookings/service.py), so that only COMMIT
    follows it."""
    for fn in (session.info.pop(BEFORE_COMMIT, None) or {}).values():
        await fn(session)


@event.listens_for(Session, "before_commit")
def _nothing_left_behind(session: Session) -> None:
    """A commit outside Database.session would skip the hooks above and lose their writes: refuse it."""
    if session.info.get(BEFORE_COMMIT):
        raise RuntimeError(f"commit with pending before-commit writes {sorted(session.info[BEFORE_COMMIT])}: "
                           "commit through Database.session")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(settings: Settings, url: str | None = None, server_settings: dict[str, str] | None = None,
                **kw) -> AsyncEngine:
    url = url or settings.database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000}, **kw)
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    server_settings = server_settings or {}
    kw.setdefault("pool_size", settings.db_pool_size)
    kw.setdefault("max_overflow", settings.db_max_overflow)
    kw.setdefault("pool_pre_ping", False)
    # JIT compiles big statistics queries for ~30 ms each time; it does not pay off for this workload
    kw.setdefault("connect_args", {"server_settings": {"jit": "off", **server_settings}})
    return create_async_engine(url, **kw)


# The generic pool's connections (app/db/reader.py, Prepared.generic): each prepared statement planned once, for
# any values; no parallel workers (a generic plan cannot tell a street's day from its year, and starting workers
# for a small range cost more than the range).
GENERIC_SETTINGS = {"plan_cache_mode": "force_generic_plan", "max_parallel_workers_per_gather": "0"}


def _configure_sqlite(engine: AsyncEngine, busy_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        options = conn.get_execution_options()
        if options.get(NO_BEGIN):  # the Reader: each statement on its own
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


class Database:
    """Holds the engine and session factory of one app instance."""

    def __init__(self, settings: Settings, url: str | None = None):
        self.engine = make_engine(settings, url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # PostgreSQL: a second, smaller pool for the statements planned once (reader.Prepared.generic)
        self.generic_pool_size = settings.db_generic_pool_size
        self.generic_engine = None if self.engine.dialect.name != "postgresql" else make_engine(
            settings, url, GENERIC_SETTINGS, pool_size=self.generic_pool_size)
        self.reader = Reader(self.engine, self.generic_engine, self.generic_pool_size)
        # Called with each committed session's `info` (what the transaction left for after its commit, e.g. which
        # users got notifications): never for a rolled-back one. Hooks must not raise or block.
        self.on_commit: list[Callable[[dict], None]] = []

    async def open_pool(self, connections: int) -> None:
        """Open `connections` of the pool now, at once (PostgreSQL): a process that starts just before a burst
        would otherwise open them, and set up each one's codecs, while the burst's first requests wait (issue 15).
        Best effort: a database that is not up yet only leaves the pool empty, as before."""
        if self.engine.dialect.name != "postgresql" or connections <= 0:
            return
        engines = [self.engine] * connections
        if self.generic_engine is not None:
            engines += [self.generic_engine] * self.generic_pool_size
        opened = await asyncio.gather(*(e.connect() for e in engines), return_exceptions=True)
        for conn in opened:
            if isinstance(conn, AsyncConnection):
                await conn.close()  # back to the pool, open
            else:
                log.warning("database pool: could not open a connection at start-up: %s", conn)

    def _committed(self, session: AsyncSession) -> None:
        for hook in self.on_commit:
            hook(session.info)

    @asynccontextmanager
    async def session(self, *, write: bool, autocommit: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on error (unless the error keeps its writes).
        autocommit (PostgreSQL reads): no BEGIN/COMMIT round trips; each statement sees its own snapshot, which is
        what READ COMMITTED gives a multi-statement read anyway."""
        async with self.sessionmaker() as session:
            if write:
                await session.connection(execution_options={WRITE_OPTION: True})
            elif autocommit and self.engine.dialect.name == "postgresql":
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            try:
                yield session
            except AppError as exc:
                if exc.keep_writes:
                    session.info.pop(BEFORE_COMMIT, None)  # the request failed: only what it wrote itself is kept
                    await session.commit()
                    self._committed(session)
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await run_before_commit(session)
                await session.commit()
                self._committed(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.generic_engine is not None:
            await self.generic_engine.dispose()


def get_database(request: Request) -> Database:
    return request.app.state.db


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session. Write methods take the write lock up front on SQLite."""
    db: Database = request.app.state.db
    write = request.method not in _SAFE_METHODS
    async with db.session(write=write, autocommit=not write) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a 2xx means committed.
DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_reader(request: Request) -> Reader:
    return request.app.state.db.reader


# Hot reads (no unit of work): rows straight from a pooled connection in autocommit. A route takes DbSession or
# ReadRows, never both, so a request never holds two pooled connections at once.
ReadRows = Annotated[Reader, Depends(get_reader)]


async def begin_write(session: AsyncSession) -> None:
    """Begin the session's next transaction as a write one (BEGIN IMMEDIATE on SQLite), for a unit of work that
    commits part-way and writes again: the webhook worker commits its claims before calling subscribers, then
    records the results."""
    await session.connection(execution_options={WRITE_OPTION: True})
