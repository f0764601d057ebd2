"""Benchmark databases: create (PostgreSQL database or SQLite file), migrate with Alembic, seed, reuse, reset.

A seeded database remembers what it holds (PostgreSQL: COMMENT ON DATABASE; SQLite: a JSON file beside it), so
`--reuse` can skip seeding. Before every run the rows the previous run wrote (reports above the seeded maximum
id, with their events and ratings; refresh tokens; login counters) are deleted, so each run measures the
seeded scale.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import seed as seeding

DATA_DIR = Path(__file__).resolve().parent / ".data"


def scale_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


@dataclass
class Target:
    kind: str          # postgresql | sqlite
    scale: int
    url: str           # SQLAlchemy async URL, what the server gets as DATABASE_URL
    name: str          # database name or file path
    admin_dsn: str = ""

    @property
    def label(self) -> str:
        return scale_label(self.scale)

    @property
    def dsn(self) -> str:  # for asyncpg
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)


def pg_target(server: str, scale: int, prefix: str = "weilinli_bench") -> Target:
    """server: postgresql://user@host:port (no database)."""
    server = server.rstrip("/")
    name = f"{prefix}_{scale_label(scale)}"
    return Target("postgresql", scale, f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}",
                  name, admin_dsn=f"{server}/postgres")


def sqlite_target(scale: int, data_dir: Path = DATA_DIR) -> Target:
    path = data_dir / f"weilinli-bench-{scale_label(scale)}.db"
    return Target("sqlite", scale, f"sqlite+aiosqlite:///{path}", str(path))


# ---- meta -------------------------------------------------------------------------------------------------------


async def _pg_meta(t: Target) -> dict[str, Any] | None:
    import asyncpg

    conn = await asyncpg.connect(t.admin_dsn)
    try:
        raw = await conn.fetchval("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                                  t.name)
    finally:
        await conn.close()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def read_meta(t: Target) -> dict[str, Any] | None:
    if t.kind == "postgresql":
        return asyncio.run(_pg_meta(t))
    side = Path(t.name + ".json")
    if Path(t.name).exists() and side.exists():
        return json.loads(side.read_text())
    return None


async def _pg_write_meta(t: Target, meta: dict[str, Any]) -> None:
    import asyncpg

    conn = await asyncpg.connect(t.admin_dsn)
    try:
        text = json.dumps(meta).replace("'", "''")
        await conn.execute(f"COMMENT ON DATABASE \"{t.name}\" IS '{text}'")
    finally:
        await conn.close()


def write_meta(t: Target, meta: dict[str, Any]) -> None:
    if t.kind == "postgresql":
        asyncio.run(_pg_write_meta(t, meta))
    else:
        Path(t.name + ".json").write_text(json.dumps(meta, indent=1))


# ---- create, seed, reset ----------------------------------------------------------------------------------------


async def _pg_recreate(t: Target) -> None:
    import asyncpg

    conn = await asyncpg.connect(t.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{t.name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{t.name}"')
    finally:
        await conn.close()


async def _pg_drop(t: Target) -> None:
    import asyncpg

    conn = await asyncpg.connect(t.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{t.name}" WITH (FORCE)')
    finally:
        await conn.close()


def drop(t: Target) -> None:
    if t.kind == "postgresql":
        asyncio.run(_pg_drop(t))
    else:
        for suffix in ("", "-wal", "-shm", ".json"):
            Path(t.name + suffix).unlink(missing_ok=True)


def create_and_seed(t: Target, log=print) -> dict[str, Any]:
    from app.db import migrate

    started = time.perf_counter()
    if t.kind == "postgresql":
        asyncio.run(_pg_recreate(t))
    else:
        Path(t.name).parent.mkdir(parents=True, exist_ok=True)
        drop(t)
    migrate.upgrade(t.url)
    migrated = time.perf_counter() - started
    log(f"  {t.kind} {t.name}: migrated in {migrated:.1f}s; seeding {t.scale:,} reports")
    if t.kind == "postgresql":
        stats = asyncio.run(seeding.seed_postgresql(t.dsn, t.scale, log=log))
    else:
        stats = seeding.seed_sqlite(t.name, t.scale, log=log)
    began = time.perf_counter()
    built = rebuild_rollups(t)  # the seed writes rows directly: the figures' roll-ups are built from them
    stats.phases["rollups"] = time.perf_counter() - began
    log(f"  roll-ups built in {stats.phases['rollups']:.0f}s ({built.cells_corrected:,} cells, "
        f"{built.buckets_corrected:,} histogram buckets)")
    meta = {"reports": t.scale, "complete": True, "seeded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rows": stats.rows, "seconds": round(stats.seconds, 1), "phases": {k: round(v, 1) for k, v in
                                                                                stats.phases.items()},
            "max_report_id": stats.rows.get("reports", 0), "max_event_id": stats.rows.get("report_events", 0),
            "max_rating_id": stats.rows.get("report_ratings", 0), "migrate_seconds": round(migrated, 1)}
    write_meta(t, meta)
    return meta


# children first, each an indexed range; foreign-key triggers are skipped (session_replication_role = replica on
# PostgreSQL: reports.merged_into_id has no index, so the check would scan the table once per deleted report)
RESET_SQL = [
    "DELETE FROM report_photos WHERE report_id > {r}",
    "DELETE FROM report_followers WHERE report_id > {r}",
    "DELETE FROM report_ratings WHERE report_id > {r}",
    "DELETE FROM report_ratings WHERE id > {g}",
    "DELETE FROM report_events WHERE report_id > {r}",
    "DELETE FROM report_events WHERE id > {e}",
    "DELETE FROM reports WHERE id > {r}",
    "DELETE FROM refresh_tokens",
    "DELETE FROM login_throttles",
]


async def _pg_reset(t: Target, meta: dict[str, Any]) -> int:
    import asyncpg

    conn = await asyncpg.connect(t.dsn)
    try:
        extra = await conn.fetchval("SELECT count(*) FROM reports WHERE id > $1", meta["max_report_id"])
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for sql in RESET_SQL:
                await conn.execute(sql.format(r=meta["max_report_id"], e=meta["max_event_id"],
                                              g=meta["max_rating_id"]))
    finally:
        await conn.close()
    return extra


def _sqlite_reset(t: Target, meta: dict[str, Any]) -> int:
    conn = sqlite3.connect(t.name, isolation_level=None)
    try:
        extra = conn.execute("SELECT count(*) FROM reports WHERE id > ?", (meta["max_report_id"],)).fetchone()[0]
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN IMMEDIATE")
        for sql in RESET_SQL:
            conn.execute(sql.format(r=meta["max_report_id"], e=meta["max_event_id"], g=meta["max_rating_id"]))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return extra


def reset(t: Target, meta: dict[str, Any]) -> int:
    """Back to the seeded rows; returns how many reports were removed. The removed reports leave the figures'
    roll-ups: from the month of the oldest of them, the roll-up rows are deleted and rebuilt, as the seed built
    them (every cell in slot 0). A rebuild alone would only correct the sums: the steps of the earlier run had
    spread the current month's cells over their slots, and those rows, holding the removed reports' buckets, stayed
    (a community's December histogram cell grew from ~100 rows to ~600 over a few runs, and the reads of the current
    month with it: runs were no longer comparable)."""
    since = asyncio.run(_first_day_above(t, meta["max_report_id"]))
    removed = asyncio.run(_pg_reset(t, meta)) if t.kind == "postgresql" else _sqlite_reset(t, meta)
    if since is not None:
        asyncio.run(_drop_rollups_from(t, since.replace(day=1)))
        rebuild_rollups(t, since)
    if t.kind == "postgresql":
        # One VACUUM of every table the reset deleted from, after the rebuild: the deleted rows' dead tuples sat in
        # the index ranges the next run reads (the roll-ups' current month; the reports of the last hour, where an
        # accept run adds ~20,000, each updated once). A VACUUM right after the DELETEs once left all of them (a
        # street's read 1.21 ms instead of 1.00 until vacuumed by hand: decisions.md, issue 20, twelfth pass).
        rollups = ("report_rollups", "report_rollup_histograms") if since is not None else ()
        asyncio.run(_vacuum(t, ("reports", "report_events", "report_ratings", "refresh_tokens", *rollups)))
    return removed


async def _vacuum(t: Target, tables: tuple[str, ...]) -> None:
    import asyncpg

    conn = await asyncpg.connect(t.dsn)
    try:
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    finally:
        await conn.close()


async def _drop_rollups_from(t: Target, month: Any) -> None:
    """Delete the roll-up rows of the days and months from `month` on (nothing else writes during a reset)."""
    from sqlalchemy import delete

    from app.stats.models import report_rollup_histograms, report_rollups

    engine = _engine(t)
    try:
        async with engine.begin() as c:
            for table in (report_rollups, report_rollup_histograms):
                await c.execute(delete(table).where(table.c.day >= month))
    finally:
        await engine.dispose()


async def _accept_notice(t: Target) -> None:
    """Residents seeded before the privacy notice existed (or before its version changed) accept the current one,
    as seeding does now: without it every resident request of a benchmark answers 403 privacy_consent_required."""
    from sqlalchemy import update

    from app.users.models import User
    from bench.seed import NOTICE_VERSION

    engine = _engine(t)
    try:
        async with engine.begin() as c:
            await c.execute(update(User).where(User.role == "resident", (User.privacy_version.is_(None)) |
                                               (User.privacy_version != NOTICE_VERSION))
                            .values(privacy_version=NOTICE_VERSION))
    finally:
        await engine.dispose()


async def _first_day_above(t: Target, max_report_id: int) -> Any:
    from sqlalchemy import func, select

    from app.reports.models import Report
    from app.stats.rollup_math import china_day

    engine = _engine(t)
    try:
        async with engine.connect() as c:
            first = (await c.execute(select(func.min(Report.created_at)).where(Report.id > max_report_id)))\
                .scalar_one()
    finally:
        await engine.dispose()
    return china_day(first) if first is not None else None


def _settings(t: Target) -> Any:
    from app.core.config import Settings

    return Settings(database_url=t.url, jwt_secret="bench-rollups-" + "x" * 40)


def _engine(t: Target) -> Any:
    from app.db.session import make_engine

    return make_engine(_settings(t), t.url)


def announce_overdue(t: Target) -> int:
    """The worker's overdue sweep (its job "overdue_announced", drained as a worker's pass does); returns how
    many deadlines it announced. A deployed worker runs it every WORKER_INTERVAL_SECONDS (60), so the figures' live
    part (deadlines passed but not announced yet) holds at most a minute of them; a benchmark runs no worker, and
    without this sweep that part grew with every hour since the seed (53 of a street's reports an hour after it):
    the reads measured later in a session paid for a state production does not have."""
    from app.db.session import Database
    from app.worker.runner import run_once

    async def go() -> int:
        settings = _settings(t)
        db = Database(settings, t.url)
        try:
            return (await run_once(db, settings, only=("overdue_announced",)))["overdue_announced"]
        finally:
            await db.dispose()

    return asyncio.run(go())


def rebuild_rollups(t: Target, since: Any = None) -> Any:
    """`weilinli rollups rebuild [--from since]` on the benchmark database."""
    from app.stats.rebuild import rebuild

    async def go() -> Any:
        engine = _engine(t)
        try:
            out = await rebuild(engine, since)
            if engine.dialect.name == "postgresql":
                async with engine.connect() as c:
                    await c.exec_driver_sql("ANALYZE report_rollups, report_rollup_histograms")
                    await c.commit()
            return out
        finally:
            await engine.dispose()

    return asyncio.run(go())


def ensure(t: Target, *, reuse: bool, log=print) -> tuple[dict[str, Any], bool]:
    """(meta, seeded_now)."""
    if reuse:
        meta = read_meta(t)
        if meta and meta.get("complete") and meta.get("reports") == t.scale:
            from app.db import migrate

            migrate.upgrade(t.url)  # migrations added since the seeding (e.g. an index) apply to the seeded rows
            asyncio.run(_accept_notice(t))
            removed = reset(t, meta)
            log(f"  reusing {t.kind} {t.name} (seeded {meta['seeded_at']}); removed {removed:,} reports of an "
                "earlier run")
            return meta, False
    return create_and_seed(t, log=log), True
