"""The principal rows each API process remembers, and the PostgreSQL listener that makes it forget them.

Every authenticated request needs the user's row (active? which role, grids, scope? password changed since the
token?). Reading it costs a statement per request; remembering it is only safe while the process hears of every
change. On PostgreSQL, triggers (migration 9a4b2c6d8e10) send `NOTIFY weilinli_principals, '<user id>'` (or '*'
when grids change) at commit, and `PrincipalListener` drops the entry. The cache is on only while the listener
holds its LISTEN: a lost connection empties it and turns it off until LISTEN is back. On SQLite there is no
listener, so the cache stays off and the row is read every time.

A read that started before a change and finished after its notice must not be remembered: `generation` moves on
every notice, and `put` refuses rows read under an older generation.

The same cache remembers grid nodes (id, name, level, path: app/stats/queries.grid_node, the figures' scope checks
and place names), forgotten on every '*' notice: the grids trigger sends one when a node's path, level or name
changes or a node is deleted (migrations 9a4b2c6d8e10, a7c9e1b3d5f6).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.core.config import Settings

CHANNEL = "weilinli_principals"
log = logging.getLogger("weilinli.auth")


class PrincipalCache:
    """user id → the principal rows, least recently used first out. Off (never stores) until enabled."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.enabled = False
        self.generation = 0
        # keyed by (user id, the token's session id): the rows say whether that session is still live
        self._rows: OrderedDict[tuple[int, str | None], Sequence[Any]] = OrderedDict()
        self._nodes: dict[int, Any] = {}  # grid id → its row (few: the tree's nodes a process is asked about)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, user_id: int, session: str | None = None) -> Sequence[Any] | None:
        rows = self._rows.get((user_id, session))
        if rows is not None:
            self._rows.move_to_end((user_id, session))
        return rows

    def put(self, user_id: int, rows: Sequence[Any], generation: int, session: str | None = None) -> None:
        """Remember rows read under `generation` (taken before the read), unless something changed since."""
        if not self.enabled or generation != self.generation or not rows:
            return
        self._rows[(user_id, session)] = rows
        self._rows.move_to_end((user_id, session))
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)

    def node(self, grid_id: int) -> Any | None:
        return self._nodes.get(grid_id)

    def put_node(self, grid_id: int, row: Any, generation: int) -> None:
        """Remember a grid node's row read under `generation` (taken before the read), unless something changed
        since; at most max_entries of them (then they start over)."""
        if not self.enabled or generation != self.generation or row is None:
            return
        if len(self._nodes) >= self.max_entries:
            self._nodes.clear()
        self._nodes[grid_id] = row

    def forget(self, payload: str) -> None:
        """A notice: one user id, or '*' (or anything unexpected) for everyone and every grid node."""
        self.generation += 1
        if payload.isdigit():
            user_id = int(payload)
            for key in [k for k in self._rows if k[0] == user_id]:  # every session of the user
                del self._rows[key]
        else:
            self._rows.clear()
            self._nodes.clear()

    def enable(self) -> None:
        self._rows.clear()
        self._nodes.clear()
        self.generation += 1
        self.enabled = self.max_entries > 0

    def disable(self) -> None:
        self.enabled = False
        self._rows.clear()
        self._nodes.clear()
        self.generation += 1


class PrincipalListener:
    """LISTEN on a connection of its own (not one of the pool's). Checks it every `ping` s; after a loss the cache
    is off and emptied, and it reconnects every `retry` s."""

    def __init__(self, dsn: str, cache: PrincipalCache, *, retry: float = 2.0, ping: float = 10.0,
                 server_settings: dict | None = None):
        self.dsn, self.cache, self.retry, self.ping = dsn, cache, retry, ping
        self.server_settings = server_settings or {}
        self._task: asyncio.Task | None = None
        self._lost: asyncio.Event | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="principal-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.cache.disable()

    def _on_notice(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.cache.forget(payload)

    def _on_lost(self, _conn: Any) -> None:
        self.cache.disable()
        self.listening.clear()
        if self._lost is not None:
            self._lost.set()

    async def _run(self) -> None:
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, server_settings=self.server_settings)
                self._lost = asyncio.Event()
                conn.add_termination_listener(self._on_lost)
                await conn.add_listener(CHANNEL, self._on_notice)
                self.cache.enable()  # only now: every change from here on reaches _on_notice
                self.listening.set()
                while not self._lost.is_set():  # a silently dead socket sends no termination: ask now and then
                    try:
                        await asyncio.wait_for(self._lost.wait(), timeout=self.ping)
                    except TimeoutError:
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self.ping)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: stay off, try again later
                log.warning("principal listener unavailable, reading principals every request: %s", exc)
            finally:
                self.cache.disable()
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(self.retry)


def principal_listener(settings: Settings, cache: PrincipalCache) -> PrincipalListener | None:
    """The listener of an API process: PostgreSQL with a cache size above 0 only."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql" or settings.principal_cache_size <= 0:
        return None
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PrincipalListener(dsn, cache, server_settings={"application_name": "weilinli-principals"})
