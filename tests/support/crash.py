"""Crash safety: SIGKILL the server during a burst of report submissions, then look in the database.

Every submission answered 201 must be there, with the same number, and its first timeline event must be its
`submit`; no report may exist without its submit event (a report and its event commit together or not at all).
Submissions cut off by the kill may or may not have landed: either is fine, half of one is not.

The server is the real one (`uvicorn app.main:app`, production settings) on a scratch database of its own (a SQLite
file, or a PostgreSQL database created next to the given one and dropped afterwards), migrated with Alembic.
Used by tests/test_crash_safety.py and `python -m bench crash`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.server import Server, server_env

CONCURRENCY = 16
MIN_ACCEPTED = 20           # do not kill before this many 201s (bounded by DEADLINE_S)
DEADLINE_S = 30.0           # the whole burst, whatever happens
MAX_REQUESTS_PER_WORKER = 5000


@dataclass
class Outcome:
    db: str
    accepted: dict[int, str] = field(default_factory=dict)   # report id -> number, from 201 answers
    sent: int = 0
    cut_off: int = 0              # requests that failed because the server was killed (in flight, or sent after)
    other_failures: dict[str, int] = field(default_factory=dict)
    in_flight_at_kill: int = 0
    reports_in_db: int = 0
    missing: list[int] = field(default_factory=list)           # 201 but not in the database (or another number)
    first_event_not_submit: list[int] = field(default_factory=list)
    without_event: list[int] = field(default_factory=list)     # reports in the database with no event at all
    without_submit: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.accepted) and not (self.missing or self.first_event_not_submit or self.without_event
                                            or self.without_submit or self.other_failures)

    def describe(self) -> str:
        lines = [
            f"crash safety on {self.db}: {self.sent} submissions sent, {len(self.accepted)} answered 201, "
            f"{self.in_flight_at_kill} in flight at SIGKILL, {self.cut_off} cut off; "
            f"{self.reports_in_db} reports in the database",
            f"  201 but missing: {self.missing or 'none'}",
            f"  first event not 'submit': {self.first_event_not_submit or 'none'}",
            f"  reports without any event: {self.without_event or 'none'}",
            f"  reports without a submit event: {self.without_submit or 'none'}",
        ]
        if self.other_failures:
            lines.append(f"  unexpected answers before the kill: {self.other_failures}")
        lines.append("  OK" if self.ok else "  FAILED")
        return "\n".join(lines)


# ---- the scratch database ---------------------------------------------------------------------------------------


def _pg_parts(url: str) -> tuple[str, str]:
    """(server part, database name) of postgresql[+asyncpg]://user@host:port/db."""
    base, _, name = url.rpartition("/")
    return base.replace("postgresql+asyncpg://", "postgresql://", 1), name.split("?")[0]


async def _pg_admin(server: str, maintenance_db: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{server}/{maintenance_db}")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class ScratchDatabase:
    def __init__(self, kind: str, workdir: Path, pg_url: str | None):
        self.kind = kind
        if kind == "sqlite":
            self.path = workdir / "crash.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
        else:
            if not pg_url:
                raise ValueError("a PostgreSQL URL is needed (its server hosts the scratch database)")
            self.server, self.maintenance = _pg_parts(pg_url)
            self.name = f"{self.maintenance[:40]}_crash_{os.getpid()}_{secrets.token_hex(3)}"
            self.url = f"{self.server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{self.name}"

    def create(self) -> None:
        from app.db import migrate

        if self.kind == "postgresql":
            asyncio.run(_pg_admin(self.server, self.maintenance, f'CREATE DATABASE "{self.name}"'))
        migrate.upgrade(self.url)

    def drop(self) -> None:
        if self.kind == "postgresql":
            asyncio.run(_pg_admin(self.server, self.maintenance, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


# ---- a small world, through the real services -------------------------------------------------------------------


async def _seed(url: str) -> tuple[list[int], int]:
    """A street, a community, two grids, four buildings, a category and twenty residents; (resident ids, category)."""
    from app.core.config import Settings
    from app.db.session import Database
    from app.org import service as org_service
    from app.org.models import Category, Department, GridLevel
    from app.privacy.consent import record_consent
    from app.users import service as users_service
    from app.users.models import Role

    settings = Settings(database_url=url, jwt_secret="x" * 40, password_time_cost=1, password_memory_kib=64)
    db = Database(settings)
    try:
        async with db.session(write=True) as s:
            street = await org_service.add_node(s, parent=None, level=GridLevel.street, name="崩溃测试街道")
            community = await org_service.add_node(s, parent=street, level=GridLevel.community, name="社区")
            buildings = []
            for g in range(2):
                grid = await org_service.add_node(s, parent=community, level=GridLevel.grid, name=f"网格{g}")
                for b in range(2):
                    buildings.append(await org_service.add_node(s, parent=grid, level=GridLevel.building,
                                                                name=f"{g}{b}号楼"))
            dept = Department(grid_id=street.id, name="城管", code="crash-cg")
            s.add(dept)
            await s.flush()
            cat = Category(grid_id=street.id, name="环境卫生", code="crash-sanitation", default_department_id=dept.id,
                           respond_within_minutes=24 * 60, resolve_within_minutes=7 * 24 * 60)
            s.add(cat)
            await s.flush()
            residents = []
            for i in range(20):
                u = await users_service.create_user(s, settings, phone=f"138{i:08d}", password="crash-password-1",
                                                    display_name=f"居民{i}", role=Role.resident,
                                                    building_id=buildings[i % len(buildings)].id)
                await record_consent(s, u.id, settings.privacy_notice_version, via="register", settings=settings)
                residents.append(u.id)
            return residents, cat.id
    finally:
        await db.dispose()


# ---- the burst ---------------------------------------------------------------------------------------------------


async def _burst(server: Server, tokens: list[str], category_id: int, seconds: float, out: Outcome) -> None:
    state = {"killed": False, "in_flight": 0}
    deadline = time.monotonic() + DEADLINE_S

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        for n in range(MAX_REQUESTS_PER_WORKER):
            if time.monotonic() > deadline:
                return
            body = {"category_id": category_id, "title": f"崩溃测试{i}-{n}", "description": "SIGKILL 压测"}
            state["in_flight"] += 1
            out.sent += 1
            try:
                r = await client.post("/api/v1/reports", json=body,
                                      headers={"Authorization": f"Bearer {tokens[(i + n) % len(tokens)]}"})
            except httpx.HTTPError:
                if state["killed"]:
                    out.cut_off += 1
                    return
                out.other_failures["transport"] = out.other_failures.get("transport", 0) + 1
                return
            finally:
                state["in_flight"] -= 1
            if r.status_code == 201:
                data = r.json()
                out.accepted[data["id"]] = data["number"]
            elif state["killed"]:
                out.cut_off += 1
                return
            else:
                key = str(r.status_code)
                out.other_failures[key] = out.other_failures.get(key, 0) + 1

    async def killer() -> None:
        started = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() - started >= seconds and len(out.accepted) >= MIN_ACCEPTED and state["in_flight"]:
                break
            await asyncio.sleep(0.01)
        out.in_flight_at_kill = state["in_flight"]
        state["killed"] = True
        server.kill()  # SIGKILL: no shutdown, no flush, connections cut

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=httpx.Timeout(20.0)) as client:
        await asyncio.gather(killer(), *(worker(i, client) for i in range(CONCURRENCY)))


# ---- the check -------------------------------------------------------------------------------------------------


async def _check(url: str, out: Outcome) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            numbers = dict((await c.execute(text("SELECT id, number FROM reports"))).all())
            out.reports_in_db = len(numbers)
            out.missing = sorted(rid for rid, number in out.accepted.items() if numbers.get(rid) != number)
            first = dict((await c.execute(text(
                "SELECT e.report_id, e.action FROM report_events e WHERE e.id = "
                "(SELECT min(e2.id) FROM report_events e2 WHERE e2.report_id = e.report_id)"))).all())
            out.first_event_not_submit = sorted(rid for rid in out.accepted if rid in numbers
                                                and first.get(rid) != "submit")
            out.without_event = sorted(r[0] for r in (await c.execute(text(
                "SELECT r.id FROM reports r WHERE NOT EXISTS "
                "(SELECT 1 FROM report_events e WHERE e.report_id = r.id)"))).all())
            out.without_submit = sorted(r[0] for r in (await c.execute(text(
                "SELECT r.id FROM reports r WHERE NOT EXISTS "
                "(SELECT 1 FROM report_events e WHERE e.report_id = r.id AND e.action = 'submit')"))).all())
    finally:
        await engine.dispose()


def run(kind: str, *, admin_url: str | None = None, seconds: float = 1.5, workdir: Path | None = None) -> Outcome:
    """kind: sqlite | postgresql. admin_url: a PostgreSQL URL whose server hosts the scratch database."""
    from app.core.config import Env, Settings
    from app.core.security import issue_token

    tmp = tempfile.TemporaryDirectory(prefix="weilinli-crash-") if workdir is None else None
    work = Path(tmp.name) if tmp else workdir
    scratch = ScratchDatabase(kind, work, admin_url)
    out = Outcome(kind)
    try:
        scratch.create()
        residents, category_id = asyncio.run(_seed(scratch.url))
        secret = secrets.token_urlsafe(48)
        settings = Settings(weilinli_env=Env.production, database_url=scratch.url, jwt_secret=secret)
        tokens = [issue_token(settings, secret, user_id=u, role="resident", typ="access").token for u in residents]
        env = server_env(scratch.url, secret, work / "uploads")
        server = Server(env, module="app.main:app", log_path=work / "server.log")
        try:
            server.start()
            asyncio.run(_burst(server, tokens, category_id, seconds, out))
        finally:
            server.kill()
            server.stop()
        asyncio.run(_check(scratch.url, out))
    finally:
        try:
            scratch.drop()
        finally:
            if tmp:
                tmp.cleanup()
    return out
