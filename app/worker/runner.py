"""Timed work: close unrated resolved reports, and (as capabilities land) overdue notices and outbox delivery.

Safe to run in several processes at once: every job is a conditional update that only one can win.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Collection
from datetime import UTC, datetime

from app.core.config import Settings
from app.db.session import Database
from app.notifications.broker import LocalBroker, make_broker
from app.notifications.service import publish_on_commit
from app.worker.jobs import JOBS

log = logging.getLogger("weilinli.worker")


async def run_once(database: Database, settings: Settings, now: datetime | None = None,
                   stop: asyncio.Event | None = None, only: Collection[str] | None = None) -> dict[str, int]:
    """One pass of every job (app/worker/jobs.JOBS), or of the jobs named in `only`, each batch in its own
    transaction; returns what each did. A set `stop` ends the pass after the batch in hand (each batch is committed
    whole or not at all)."""
    now = now or datetime.now(UTC)
    jobs = {name: job for name, job in JOBS.items() if only is None or name in only}
    done = dict.fromkeys(jobs, 0)
    for name, job in jobs.items():
        while not (stop and stop.is_set()):  # in batches: one pass drains a backlog without one huge transaction
            async with database.session(write=True) as db:
                n = await job(db, settings, now)
            done[name] += n
            if n == 0:
                break
    return done


async def run_forever(settings: Settings, *, once: bool = False, stop: asyncio.Event | None = None,
                      broker: LocalBroker | None = None) -> None:
    """Passes until stopped. Without `stop` (the `weilinli worker` process) SIGINT/SIGTERM stop it; with one (the
    demo runs the worker inside the server's process) the caller owns the signals and sets it.

    Notifications the jobs write wake live streams through `broker`: the server's own in the demo; otherwise one
    made here, which reaches other processes' streams only through Redis (`REDIS_URL`)."""
    database = Database(settings)
    own_broker = broker is None
    broker = broker or make_broker(settings.redis_url)
    publish_on_commit(database, broker)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
                pass
    try:
        while not stop.is_set():
            try:
                done = await run_once(database, settings, stop=stop)
                if any(done.values()):
                    log.info("worker pass", extra=done)
            except Exception:  # noqa: BLE001 - a failed pass is logged and retried on the next tick
                log.exception("worker pass failed")
            if once:
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval_seconds)
            except TimeoutError:
                pass
    finally:
        if own_broker:
            await broker.stop()
        await database.dispose()
