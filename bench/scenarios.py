"""What the benchmark asks of the server: one Scenario per hot endpoint, each building its list of requests (with
real tokens for the right people and real ids) from the seeded database.

Add a later capability's hot endpoints here: a Scenario with its route (checked against the server's OpenAPI
document, so a route that has not landed yet is skipped, not failed), its kind, and a builder.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Env, Settings
from app.core.security import issue_token
from bench import seed as seeding
from bench.load import Req

CHINA = timezone(timedelta(hours=8))
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Facts:
    """People and ids picked from the seeded database."""

    power_users: list[int] = field(default_factory=list)                 # residents with many reports
    residents: list[tuple[int, str]] = field(default_factory=list)       # (id, phone), a sample
    single_workers: list[tuple[int, int]] = field(default_factory=list)  # (user, grid): workers with one grid
    multi_workers: list[int] = field(default_factory=list)               # workers keeping two grids
    community_admins: list[tuple[int, int]] = field(default_factory=list)  # (user, community)
    street_admins: list[tuple[int, int]] = field(default_factory=list)  # (user, street)
    community_residents: list[int] = field(default_factory=list)
    detail_reports: list[tuple[int, int, str]] = field(default_factory=list)  # (report, viewer, viewer role)
    categories: list[tuple[int, int]] = field(default_factory=list)      # (id, respond_within_minutes)
    max_report_id: int = 0


async def load_facts(url: str, rng: random.Random) -> Facts:
    engine = create_async_engine(url)
    f = Facts()
    try:
        async with engine.connect() as c:
            async def rows(sql: str, **kw: Any) -> list:
                return list((await c.execute(text(sql), kw)).all())

            f.power_users = [r[0] for r in await rows(
                "SELECT id FROM users WHERE role = 'resident' AND is_building_lead ORDER BY id")]
            residents = await rows("SELECT id, phone FROM users WHERE role = 'resident' ORDER BY id")
            f.residents = [tuple(r) for r in rng.sample(residents, min(3000, len(residents)))]
            f.single_workers = [tuple(r) for r in await rows(
                "SELECT user_id, min(grid_id) FROM user_grids GROUP BY user_id HAVING count(*) = 1 ORDER BY user_id")]
            f.multi_workers = [r[0] for r in await rows(
                "SELECT user_id FROM user_grids GROUP BY user_id HAVING count(*) > 1 ORDER BY user_id")]
            f.community_admins = [tuple(r) for r in await rows(
                "SELECT u.id, u.scope_grid_id FROM users u JOIN grids g ON g.id = u.scope_grid_id "
                "WHERE u.role = 'admin' AND g.level = 'community' ORDER BY u.id")]
            f.street_admins = [tuple(r) for r in await rows(
                "SELECT u.id, u.scope_grid_id FROM users u JOIN grids g ON g.id = u.scope_grid_id "
                "WHERE u.role = 'admin' AND g.level = 'street' ORDER BY u.id")]
            f.community_residents = [r[0] for r in rng.sample(residents, min(500, len(residents)))]
            f.categories = [tuple(r) for r in await rows(
                "SELECT id, respond_within_minutes FROM categories WHERE retired_at IS NULL ORDER BY id")]
            f.max_report_id = (await rows("SELECT coalesce(max(id), 0) FROM reports"))[0][0]
            # reports seen by their reporters (the power users: every state, timelines of every length)
            picked = await rows(
                "SELECT r.id, r.reporter_id FROM reports r JOIN users u ON u.id = r.reporter_id "
                "WHERE u.role = 'resident' AND u.is_building_lead")
            f.detail_reports = [(rid, uid, "resident") for rid, uid in rng.sample(picked, min(2000, len(picked)))]
    finally:
        await engine.dispose()
    return f


@dataclass
class Ctx:
    base_url: str
    settings: Settings
    secret: str
    db_url: str
    kind: str
    facts: Facts
    rng: random.Random
    roles: dict[int, str] = field(default_factory=dict)

    def token(self, user_id: int, role: str) -> str:
        return issue_token(self.settings, self.secret, user_id=user_id, role=role, typ="access").token


def make_settings(db_url: str, secret: str) -> Settings:
    return Settings(weilinli_env=Env.production, database_url=db_url, jwt_secret=secret)


# ---- builders -------------------------------------------------------------------------------------------------

N = 400  # distinct requests per read scenario (they cycle)


def _spread(items: list, n: int = N) -> list:
    return [items[i % len(items)] for i in range(n)] if items else []


def b_bare(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/bench/bare")] * 8


def b_raw(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/bench/raw-query")] * 8


def b_list_floor(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/bench/list-floor?limit=20", ctx.token(u, "resident")) for u in _spread(ctx.facts.power_users)]


def b_login(ctx: Ctx) -> list[Req]:
    return [Req("POST", "/api/v1/auth/token", body=f"username={phone}&password={seeding.PASSWORD}",
                content_type=FORM) for _, phone in ctx.facts.residents[:2000]]


def b_my_reports(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/reports?limit=20", ctx.token(u, "resident"))
            for u in _spread(ctx.facts.power_users)]


def _workers(ctx: Ctx) -> list[tuple[str, int]]:
    return [(ctx.token(u, "grid_worker"), g) for u, g in ctx.facts.single_workers]


def b_queue(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/reports?limit=20", t) for t, _ in _spread(_workers(ctx))]


OPEN = "state=submitted&state=accepted&state=dispatched&state=in_progress"


def b_queue_filtered(ctx: Ctx) -> list[Req]:
    cats = [c for c, _ in ctx.facts.categories]
    return [Req("GET", f"/api/v1/reports?{OPEN}&category_id={cats[i % len(cats)]}&limit=20", t)
            for i, (t, _) in enumerate(_spread(_workers(ctx)))]


def b_queue_overdue(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/reports?overdue=true&limit=20", t) for t, _ in _spread(_workers(ctx))]


def b_queue_two_grids(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/reports?limit=20", ctx.token(u, "grid_worker"))
            for u in _spread(ctx.facts.multi_workers)]


def b_counts(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/reports/counts", t) for t, _ in _spread(_workers(ctx))]


def b_detail(ctx: Ctx) -> list[Req]:
    return [Req("GET", f"/api/v1/reports/{rid}", ctx.token(uid, role)) for rid, uid, role in ctx.facts.detail_reports]


def b_timeline(ctx: Ctx) -> list[Req]:
    return [Req("GET", f"/api/v1/reports/{rid}/timeline", ctx.token(uid, role))
            for rid, uid, role in ctx.facts.detail_reports]


def _period(days: int) -> str:
    end = datetime.now(UTC).astimezone(CHINA).replace(microsecond=0)
    start = end - timedelta(days=days)
    return f"from={quote(start.isoformat())}&to={quote(end.isoformat())}"


def b_stats_figures(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/stats/figures", ctx.token(u, "admin")) for u, _ in _spread(ctx.facts.community_admins)]


def b_stats_figures_year(ctx: Ctx) -> list[Req]:
    return [Req("GET", f"/api/v1/stats/figures?{_period(365)}", ctx.token(u, "admin"))
            for u, _ in _spread(ctx.facts.community_admins)]


def b_stats_dashboard(ctx: Ctx) -> list[Req]:
    return [Req("GET", "/api/v1/stats/community", ctx.token(u, "resident"))
            for u in _spread(ctx.facts.community_residents)]


def b_stats_street_year(ctx: Ctx) -> list[Req]:
    """A street's figures and monthly series over the 365 days up to now (issue 20)."""
    return [Req("GET", f"/api/v1/stats/streets/{street}?{_period(365)}", ctx.token(u, "admin"))
            for u, street in _spread(ctx.facts.street_admins)]


SUBMIT_TITLES = ["楼道灯不亮", "垃圾桶满溢", "电梯异响", "井盖松动", "楼上噪音", "消防通道堵塞"]


def b_submit(ctx: Ctx) -> list[Req]:
    import json

    cats = [c for c, _ in ctx.facts.categories]
    out = []
    for i, (uid, _) in enumerate(ctx.facts.residents[:1000]):
        body = {"category_id": cats[i % len(cats)], "title": SUBMIT_TITLES[i % len(SUBMIT_TITLES)],
                "description": "压测提交：请尽快处理。", "is_public": i % 5 != 0}
        out.append(Req("POST", "/api/v1/reports", ctx.token(uid, "resident"), json.dumps(body, ensure_ascii=False),
                       JSON))
    return out


async def prepare_accept_pool(ctx: Ctx, n: int) -> list[tuple[int, int]]:
    """Insert n fresh `submitted` reports (version 1, with their submit event) in the single-grid workers' grids,
    numbered after today's counter; returns [(report id, worker id)]."""
    from bench.seed import EVENT_COLS, REPORT_COLS, submitted_pool_rows

    engine = create_async_engine(ctx.db_url)
    try:
        async with engine.begin() as c:
            async def one(sql: str, **kw: Any) -> Any:
                return (await c.execute(text(sql), kw)).first()

            street = (await one("SELECT id FROM grids WHERE parent_id IS NULL ORDER BY id LIMIT 1"))[0]
            grids = []
            reporter_of_grid = {}
            worker_of_grid = {}
            for worker, grid in ctx.facts.single_workers:
                row = await one("SELECT g.parent_id, b.id FROM grids g JOIN grids b ON b.parent_id = g.id "
                                "WHERE g.id = :g ORDER BY b.id LIMIT 1", g=grid)
                res = await one("SELECT id FROM users WHERE role = 'resident' AND building_id = :b LIMIT 1", b=row[1])
                grids.append((street, row[0], grid, row[1]))
                reporter_of_grid[grid] = res[0]
                worker_of_grid[grid] = worker
            now = datetime.now(UTC)
            day = now.astimezone(CHINA).strftime("%Y%m%d")
            # reserve n numbers of today's counter (an upsert, as the app does)
            if ctx.kind == "postgresql":
                last = (await one("INSERT INTO report_counters (street_id, day, last) VALUES (:s, :d, :n) "
                                  "ON CONFLICT (street_id, day) DO UPDATE SET last = report_counters.last + :n "
                                  "RETURNING last", s=street, d=day, n=n))[0]
            else:
                await c.execute(text("INSERT INTO report_counters (street_id, day, last) VALUES (:s, :d, :n) "
                                     "ON CONFLICT (street_id, day) DO UPDATE SET last = report_counters.last + :n"),
                                {"s": street, "d": day, "n": n})
                last = (await one("SELECT last FROM report_counters WHERE street_id = :s AND day = :d",
                                  s=street, d=day))[0]
            ids = await _reserve_ids(c, ctx.kind, n)
            cats = [(cid, minutes * 60.0) for cid, minutes in ctx.facts.categories]
            reports, events, _ = submitted_pool_rows(grids, reporter_of_grid, n, last - n, now, ids, ctx.rng, cats)
        if ctx.kind == "postgresql":
            import asyncpg

            conn = await asyncpg.connect(ctx.db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
            try:
                async with conn.transaction():
                    await conn.copy_records_to_table("reports", records=reports, columns=list(REPORT_COLS))
                    await conn.copy_records_to_table("report_events", records=events, columns=list(EVENT_COLS))
                await conn.execute("ANALYZE reports")
            finally:
                await conn.close()
        else:
            import sqlite3

            from bench.seed import _sqlite_insert

            conn = sqlite3.connect(ctx.db_url.split("///", 1)[1], isolation_level=None, timeout=30)
            try:
                conn.execute("BEGIN IMMEDIATE")
                _sqlite_insert(conn, "reports", REPORT_COLS, reports)
                _sqlite_insert(conn, "report_events", EVENT_COLS, events)
                conn.execute("COMMIT")
            finally:
                conn.close()
        await _add_rollups(engine, reports)
    finally:
        await engine.dispose()
    grid_idx = REPORT_COLS.index("grid_id")
    return [(r[0], worker_of_grid[r[grid_idx]]) for r in reports]


async def _add_rollups(engine: Any, reports: list[tuple]) -> None:
    """What the app's submissions would have added to the figures' roll-ups for the pool's reports (issue 20)."""
    from app.stats import rebuild, rollups
    from bench.seed import REPORT_COLS

    rows = [dict(zip(REPORT_COLS, r, strict=True)) for r in reports]
    changed, hist = rebuild.corrections(rows, [], [])
    async with engine.begin() as c:
        for prepared, params in rollups.statements(engine.dialect.name, changed, hist):
            await c.execute(prepared.stmt, params)


async def _reserve_ids(c: Any, kind: str, n: int) -> Any:
    """Ids the server will not hand out while it runs: taken from the sequences on PostgreSQL; on SQLite (rowids:
    max + 1) far above the current maximum, so later inserts continue above them."""
    from bench.seed import Ids

    if kind == "postgresql":
        firsts = []
        for table in ("reports", "report_events"):
            seq = f"pg_get_serial_sequence('{table}', 'id')"
            got = [r[0] for r in (await c.execute(text(
                f"SELECT nextval({seq}) FROM generate_series(1, :n)"), {"n": n})).all()]
            if got != list(range(got[0], got[0] + n)):
                raise RuntimeError(f"ids of {table} not contiguous; run again")
            firsts.append(got[0] - 1)
        return Ids(report=firsts[0], event=firsts[1])
    top = [(await c.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}"))).scalar_one()
           for t in ("reports", "report_events")]
    return Ids(report=top[0] + 100_000, event=top[1] + 100_000)


def accept_requests(ctx: Ctx, pool: list[tuple[int, int]]) -> list[Req]:
    tokens = {w: ctx.token(w, "grid_worker") for w in {w for _, w in pool}}
    return [Req("POST", f"/api/v1/reports/{rid}/steps", tokens[w], '{"action": "accept", "expected_version": 1}',
                JSON) for rid, w in pool]


# ---- the list -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    kind: str                          # baseline | read | list | write
    method: str
    route: str | None                  # OpenAPI path (None: a baseline of bench/app.py)
    build: Callable[[Ctx], list[Req]] | None = None
    one_shot: int = 0                  # >0: requests are used once; this many are prepared per wrk run
    single_connection: bool = False    # also measure with 1 connection (latency of one request alone)
    prepare: Callable[[Ctx, int], Awaitable[list]] | None = None
    rollups: bool = True               # False: the server's roll-up upserts are off for this scenario (bench only)

    @property
    def is_read(self) -> bool:
        return self.kind in ("read", "list")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("bare", "baseline: bare endpoint (fixed JSON)", "baseline", "GET", None, b_bare),
    Scenario("raw_query", "baseline: one raw single-row query (driver)", "baseline", "GET", None, b_raw),
    Scenario("list_floor", "baseline: the list route's framework work, fixed page, no query", "baseline", "GET",
             None, b_list_floor),
    Scenario("my_reports", "resident: my reports", "list", "GET", "/api/v1/reports", b_my_reports),
    Scenario("queue", "grid worker: queue", "list", "GET", "/api/v1/reports", b_queue),
    Scenario("queue_filtered", "grid worker: queue, open states + category", "list", "GET", "/api/v1/reports",
             b_queue_filtered),
    Scenario("queue_overdue", "grid worker: queue, overdue=true", "list", "GET", "/api/v1/reports", b_queue_overdue),
    Scenario("queue_two_grids", "grid worker with two grids: queue", "list", "GET", "/api/v1/reports",
             b_queue_two_grids),
    Scenario("queue_counts", "grid worker: per-state counts (tabs)", "read", "GET", "/api/v1/reports/counts",
             b_counts),
    Scenario("detail", "report detail", "read", "GET", "/api/v1/reports/{report_id}", b_detail),
    Scenario("timeline", "report timeline", "read", "GET", "/api/v1/reports/{report_id}/timeline", b_timeline),
    Scenario("stats_figures", "community statistics (admin, 30 days)", "read", "GET", "/api/v1/stats/figures",
             b_stats_figures, single_connection=True),
    Scenario("stats_figures_year", "community statistics (admin, 365 days)", "read", "GET", "/api/v1/stats/figures",
             b_stats_figures_year, single_connection=True),
    Scenario("stats_dashboard", "community dashboard (resident, 30 days)", "read", "GET", "/api/v1/stats/community",
             b_stats_dashboard, single_connection=True),
    # issue 20: a street's year (before the writes, which leave thousands of open reports of today behind)
    Scenario("stats_street_year", "street statistics (admin, 365 days)", "read", "GET",
             "/api/v1/stats/streets/{street_id}", b_stats_street_year, single_connection=True),
    # issue 20: detail again after the figures (A B… A): the figures' targets are ratios to detail, and detail moved
    # 772–1,328 req/s between runs and 1,357 -> 913 within one; against the mean of the two, a steady drift within
    # a run cancels out, as in the step's A B B A, and a sudden one shows
    Scenario("detail_2", "report detail, again (after the figures)", "read", "GET", "/api/v1/reports/{report_id}",
             b_detail),
    Scenario("login", "login (argon2id, production cost)", "write", "POST", "/api/v1/auth/token", b_login),
    Scenario("submit", "resident: submit a report", "write", "POST", "/api/v1/reports", b_submit),
    Scenario("accept", "grid worker: accept (a step)", "write", "POST", "/api/v1/reports/{report_id}/steps",
             None, one_shot=20000, prepare=prepare_accept_pool),
    # issue 20: the same step with the roll-up upserts switched off, in the same run; then both again in the other
    # order (A B B A): one pair's ratio moved from 0.73x to 0.93x between runs, drift within a run cancels out
    Scenario("accept_no_rollups", "grid worker: accept (a step), roll-ups off", "write", "POST",
             "/api/v1/reports/{report_id}/steps", None, one_shot=20000, prepare=prepare_accept_pool, rollups=False),
    Scenario("accept_no_rollups_2", "grid worker: accept (a step), roll-ups off, again", "write", "POST",
             "/api/v1/reports/{report_id}/steps", None, one_shot=20000, prepare=prepare_accept_pool, rollups=False),
    Scenario("accept_2", "grid worker: accept (a step), again", "write", "POST", "/api/v1/reports/{report_id}/steps",
             None, one_shot=20000, prepare=prepare_accept_pool),
)
LIST_SCENARIOS = tuple(s.name for s in SCENARIOS if s.kind == "list")
