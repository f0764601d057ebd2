"""The served app of a benchmark run: the real app (app.main.create_app) plus, only when WEILINLI_BENCH_BASELINES=1,
two baseline endpoints on the same server process, so their numbers share every condition with the app's:

- GET /bench/bare       a fixed small JSON: what the framework (uvicorn + FastAPI + the app's middleware) can do;
- GET /bench/raw-query  one single-row query by primary key with the driver itself (an asyncpg pool, or aiosqlite
                        connections), no ORM and no session: what the database round trip allows.
- GET /bench/list-floor the list route's own framework work and nothing else: the same parameters and
                        dependencies as GET /api/v1/reports (token, principal, filters, paging), the same response
                        model, and a fixed page of 20 summaries from memory instead of a query. No list endpoint
                        built on FastAPI's dependencies and response models can beat it.

With WEILINLI_BENCH_CAPTURE=1 it also records the SQL each request runs (for `EXPLAIN ANALYZE` and the count of
queries per request): POST /bench/capture starts a capture, GET /bench/capture returns it. Nothing here is part of
the public API: app/ is untouched and openapi.json does not change.

    WEILINLI_BENCH_BASELINES=1 uvicorn bench.app:app --workers 1 --no-access-log
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import random
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from sqlalchemy import event

from app.auth.deps import ReadPrincipal
from app.core.pagination import Cursor, Limit
from app.core.schemas import Page
from app.main import create_app
from app.reports.lifecycle import State
from app.reports.router import QueueFilters, queue_filters
from app.reports.schemas import ReportSummary

_capture_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_capture_key", default=None)


class _RawPool:
    """A driver-level pool of the same size as the app's (DB_POOL_SIZE + DB_MAX_OVERFLOW)."""

    def __init__(self, url: str, size: int):
        self.url, self.size = url, size
        self.lock = asyncio.Lock()
        self.pg = None
        self.sqlite: asyncio.Queue | None = None
        self.max_id = 1

    async def _open(self) -> None:
        if self.url.startswith("postgresql"):
            import asyncpg

            dsn = self.url.replace("postgresql+asyncpg://", "postgresql://", 1)
            self.pg = await asyncpg.create_pool(dsn, min_size=min(4, self.size), max_size=self.size)
            self.max_id = await self.pg.fetchval("SELECT coalesce(max(id), 1) FROM reports")
        else:
            import aiosqlite

            path = self.url.split("///", 1)[1]
            self.sqlite = asyncio.Queue()
            for _ in range(min(self.size, 8)):
                conn = await aiosqlite.connect(path)
                await conn.execute("PRAGMA journal_mode=WAL")
                self.sqlite.put_nowait(conn)
            conn = await self.sqlite.get()
            async with conn.execute("SELECT coalesce(max(id), 1) FROM reports") as cur:
                self.max_id = (await cur.fetchone())[0]
            self.sqlite.put_nowait(conn)

    async def one_row(self) -> dict[str, Any] | None:
        if self.pg is None and self.sqlite is None:
            async with self.lock:
                if self.pg is None and self.sqlite is None:
                    await self._open()
        rid = random.randint(1, self.max_id)  # noqa: S311 - not cryptography
        if self.pg is not None:
            row = await self.pg.fetchrow("SELECT id, number, state, version FROM reports WHERE id = $1", rid)
            return dict(row) if row else None
        conn = await self.sqlite.get()
        try:
            async with conn.execute("SELECT id, number, state, version FROM reports WHERE id = ?", (rid,)) as cur:
                row = await cur.fetchone()
        finally:
            self.sqlite.put_nowait(conn)
        return dict(zip(("id", "number", "state", "version"), row, strict=True)) if row else None

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.sqlite is not None:
            while not self.sqlite.empty():
                await (self.sqlite.get_nowait()).close()


def _add_baselines(app: FastAPI) -> None:
    settings = app.state.settings
    raw = _RawPool(settings.database_url, settings.db_pool_size + settings.db_max_overflow)
    app.state.bench_raw = raw

    @app.get("/bench/bare", include_in_schema=False)
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bench/raw-query", include_in_schema=False)
    async def raw_query() -> dict[str, Any] | None:
        return await raw.one_row()

    @app.post("/bench/rollups", include_in_schema=False)
    async def switch_rollups(on: bool) -> dict[str, bool]:
        """Roll-up upserts on or off (issue 20's same-run comparison of a step); reads are unaffected."""
        from app.stats import rollups

        rollups.ENABLED = on
        return {"rollups": rollups.ENABLED}

    page = _fixed_page(20)

    @app.get("/bench/list-floor", include_in_schema=False, response_model=Page[ReportSummary])
    async def list_floor(p: ReadPrincipal, f: Annotated[QueueFilters, Depends(queue_filters)],
                         state: Annotated[list[State] | None, Query(max_length=9)] = None,
                         limit: Limit = 20, cursor: Cursor = None) -> dict[str, Any]:
        return page

    _to_front(app, 4)


def _fixed_page(n: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    item = {"id": 1, "number": "BS20261201-0001", "title": "楼道堆放杂物", "category_id": 1, "state": "accepted",
            "version": 3, "source": "app", "is_public": True, "community_id": 2, "grid_id": 3, "building_id": 4,
            "handler_department_id": None, "reporter": {"id": 5, "display_name": "张**"}, "follower_count": 2,
            "reopen_count": 0, "respond_by": now, "resolve_by": now, "overdue": False, "created_at": now}
    return {"items": [{**item, "id": i + 1} for i in range(n)], "next_cursor": "WyIyMDI2LTEyLTAxVDAwOjAwOjAwWiIsMV0"}


def _to_front(app: FastAPI, n: int) -> None:
    """Move the last n routes to the front: a baseline measures the framework, not a search through the app's
    route table (the app's own routes pay that search, in the order they were included)."""
    routes = app.router.routes
    moved = routes[-n:]
    del routes[-n:]
    routes[:0] = moved


def _add_capture(app: FastAPI) -> None:
    """Record (statement, parameters) per request key while a capture is on."""
    captured: dict[str, list[tuple[str, Any]]] = {}
    state = {"on": False}

    def _keep(statement: str, params: Any) -> None:
        key = _capture_key.get()
        if state["on"] and key is not None:
            captured.setdefault(key, []).append((statement, [_jsonable(p) for p in params]))

    def _record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        _keep(statement, parameters if isinstance(parameters, (list, tuple)) else [parameters])

    for engine in (app.state.db.engine, app.state.db.generic_engine):  # the generic pool: the figures' reads
        if engine is not None:
            event.listen(engine.sync_engine, "before_cursor_execute", _record)

    @app.post("/bench/capture", include_in_schema=False)
    async def start_capture() -> dict[str, bool]:
        captured.clear()
        state["on"] = True
        return {"on": True}

    @app.get("/bench/capture", include_in_schema=False)
    async def get_capture() -> dict[str, list]:
        state["on"] = False
        return {k: [[s, p] for s, p in v] for k, v in captured.items()}

    _to_front(app, 2)

    inner = app.build_middleware_stack

    def build():  # the capture key: the X-Bench-Capture header of the request
        stack = inner()

        async def asgi(scope, receive, send):  # noqa: ANN001
            if scope["type"] == "http":
                for k, v in scope.get("headers", ()):
                    if k == b"x-bench-capture":
                        token = _capture_key.set(v.decode())
                        try:
                            await stack(scope, receive, send)
                        finally:
                            _capture_key.reset(token)
                        return
            await stack(scope, receive, send)

        return asgi

    app.build_middleware_stack = build


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return {"__datetime__": value.isoformat()}
    return str(value)


def create_bench_app() -> FastAPI:
    application = create_app()
    if os.environ.get("WEILINLI_BENCH_BASELINES") == "1":
        _add_baselines(application)
    if os.environ.get("WEILINLI_BENCH_CAPTURE") == "1":
        _add_capture(application)
    return application


app = create_bench_app()
