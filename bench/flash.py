"""The flash crowd (issue 15): a popular service opens its week and everyone books at once.

2,000 distinct residents of one community each try to book one place of 200 (20 slots of capacity 10), all at
once over 64 connections (bench/rawhttp.py: each request sent exactly once with its own resident's token, each
latency and status kept; wrk cannot do that, and httpx's pool was the bottleneck, see that module). Reported:
bookings/s, p50/p99, the number of 201s (must be exactly 200), 409s and
errors (must be 0), and what the database holds afterwards. In the same run, the same driver measures listing a
service's slots (with remaining places) against the report detail endpoint, at the same concurrency.

    python -m bench flash --db postgresql --reports 10k          # seeds (or reuses) the bookings bench database
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from bench import db as dbs
from bench.rawhttp import Outcome, drive, encode
from bench.scenarios import make_settings
from tests.support.server import Server, server_env

# the benchmark's residents have accepted the current privacy notice (issue 21: otherwise 403 on every request)
NOTICE_VERSION = Settings.model_fields["privacy_notice_version"].default

CHINA = timezone(timedelta(hours=8))
PREFIX = "weilinli_bench_bookings"  # its own databases: other benches may use theirs at the same time


@dataclass
class Prepared:
    service_id: int
    slot_ids: list[int]
    residents: list[int]
    created_residents: int
    detail: list[tuple[int, int]]  # (report, its reporter)


async def prepare(url: str, n_residents: int, n_slots: int, capacity: int, rng: random.Random) -> Prepared:
    """The community with most residents gets a 长者食堂 service and n_slots slots tomorrow from 08:00 (China time);
    residents are added to it up to n_residents (written straight to the table, like the seed)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as c:
            async def rows(sql: str, **kw: Any) -> list:
                return list((await c.execute(text(sql), kw)).all())

            community, path = (await rows(
                "SELECT g.id, g.path FROM users u JOIN grids g ON g.id = u.community_id WHERE u.role = 'resident' "
                "GROUP BY g.id, g.path ORDER BY count(*) DESC, g.id LIMIT 1"))[0]
            residents = [r[0] for r in await rows(
                "SELECT id FROM users WHERE role = 'resident' AND community_id = :c AND is_active ORDER BY id",
                c=community)]
            buildings = [r[0] for r in await rows(
                "SELECT id FROM grids WHERE level = 'building' AND path LIKE :p ORDER BY id", p=path + "%")]
            hash_ = (await rows("SELECT password_hash FROM users WHERE role = 'resident' LIMIT 1"))[0][0]
            now = datetime.now(UTC)
            missing = max(0, n_residents - len(residents))
            base = 17_000_000_000 + int(time.time()) % 100_000 * 1000
            for i in range(missing):
                rid = (await rows(
                    "INSERT INTO users (phone, password_hash, display_name, role, is_active, is_building_lead, "
                    "building_id, community_id, created_at, updated_at, privacy_version) VALUES (:ph, :h, '压测居民', "
                    "'resident', true, false, :b, :c, :t, :t, :v) RETURNING id", ph=str(base + i)[:11], h=hash_,
                    v=NOTICE_VERSION,
                    b=buildings[i % len(buildings)], c=community, t=now))[0][0]
                residents.append(rid)
            service_id = (await rows(
                "INSERT INTO booking_services (community_id, grid_path, kind, title, description, place, "
                "provider_kind, provider_name, opens_days_ahead, closes_minutes_before, cancel_minutes_before, "
                "max_active_per_resident, waitlist, no_show_limit, no_show_block_days, status, version, created_at, "
                "updated_at) VALUES (:c, :p, 'meal', '长者食堂午餐', '', '社区食堂', 'partner', '爱心餐厅', "
                "7, 0, 60, 1, "
                "false, 3, 14, 'active', 1, :t, :t) RETURNING id", c=community, p=path, t=now))[0][0]
            day = (now.astimezone(CHINA) + timedelta(days=1)).date()
            start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=CHINA)
            slot_ids = []
            for i in range(n_slots):
                s = start + timedelta(minutes=30 * i)
                slot_ids.append((await rows(
                    "INSERT INTO booking_slots (service_id, starts_at, ends_at, capacity, booked, status, created_at) "
                    "VALUES (:s, :a, :b, :n, 0, 'open', :t) RETURNING id", s=service_id, a=s,
                    b=s + timedelta(minutes=30), n=capacity, t=now))[0][0])
            picked = await rows(
                "SELECT r.id, r.reporter_id FROM reports r JOIN users u ON u.id = r.reporter_id "
                "WHERE u.role = 'resident' ORDER BY r.id DESC LIMIT 2000")
            detail = [tuple(r) for r in rng.sample(picked, min(400, len(picked)))]
        return Prepared(service_id, slot_ids, rng.sample(residents, n_residents), missing, detail)
    finally:
        await engine.dispose()


async def held(url: str, slot_ids: list[int]) -> tuple[int, int, int]:
    """(sum of booked counters, booked rows, slots over capacity) after the burst."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            ids = ",".join(str(i) for i in slot_ids)
            counters = (await c.execute(text(f"SELECT coalesce(sum(booked), 0), "
                                             f"count(*) FILTER (WHERE booked > capacity) "
                                             f"FROM booking_slots WHERE id IN ({ids})"))).one()
            rows = (await c.execute(text(f"SELECT count(*) FROM bookings WHERE slot_id IN ({ids}) "
                                         f"AND status = 'booked'"))).scalar_one()
        return int(counters[0]), int(rows), int(counters[1])
    finally:
        await engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _capture_statements(base_url: str, host: str, reqs: dict[str, bytes]) -> dict[str, list[str]]:
    """The SQL each of a few labelled requests runs (bench/app.py's capture; the server runs with it on)."""
    import httpx

    with httpx.Client(base_url=base_url) as c:
        c.post("/bench/capture")
        for label, raw in reqs.items():
            tagged = raw.replace(b"\r\n\r\n", f"\r\nX-Bench-Capture: {label}\r\n\r\n".encode(), 1)
            asyncio.run(drive(base_url, [tagged], 1))
        got = c.get("/bench/capture").json()
    return {label: [stmt for stmt, _params in got.get(label, [])] for label in reqs}


def run(db: str, scale: int, pg_server: str, out_dir: Path, *, residents: int = 2000, n_slots: int = 20,
        capacity: int = 10, connections: int = 64, read_seconds: float = 10.0, prefix: str = PREFIX,
        capture: bool = False, profile: Path | None = None, pool_size: int | None = None,
        admission: int | None = None, warm: int = 200) -> Path:
    """With `capture`, the SQL of one booking that gets its place (before the burst: the burst then has 199 × 201)
    and of one refused for a full slot (after it) is written beside the result; with `profile`, py-spy records the
    server during the burst into that SVG."""
    target = dbs.pg_target(pg_server, scale, prefix=prefix) if db == "postgresql" else dbs.sqlite_target(scale)
    meta, seeded_now = dbs.ensure(target, reuse=True, log=print)
    secret = secrets.token_urlsafe(48)
    uploads = Path(tempfile.mkdtemp(prefix="weilinli-bench-uploads-"))
    settings = make_settings(target.url, secret)
    from app.core.security import issue_token

    def token(uid: int) -> str:
        return issue_token(settings, secret, user_id=uid, role="resident", typ="access").token

    rng = random.Random(scale)
    prep = asyncio.run(prepare(target.url, residents, n_slots, capacity, rng))
    warm_reqs: list[bytes] = []
    if warm:  # a server that has been serving bookings (of another service) before the burst: see `--warm`
        other = asyncio.run(prepare(target.url, residents, n_slots, -(-warm // n_slots), rng))
        warm_reqs = [encode("127.0.0.1", "POST", "/api/v1/bookings", token(u),
                            {"slot_id": other.slot_ids[i % n_slots]}) for i, u in enumerate(other.residents[:warm])]
    host = "127.0.0.1"
    burst_reqs = [encode(host, "POST", "/api/v1/bookings", token(u), {"slot_id": prep.slot_ids[i % n_slots]})
                  for i, u in enumerate(prep.residents)]
    list_reqs = [encode(host, "GET", f"/api/v1/services/{prep.service_id}/slots?limit=20", token(u))
                 for u in prep.residents[:400]]
    detail_reqs = [encode(host, "GET", f"/api/v1/reports/{rid}", token(uid)) for rid, uid in prep.detail]
    extra = {"WEILINLI_BENCH_CAPTURE": "1"} if capture else {}
    if admission is not None:  # requests worked on at once (default: the app's max_concurrent_requests)
        extra["MAX_CONCURRENT_REQUESTS"] = str(admission)
    if pool_size:  # the server's database pool (default: the app's db_pool_size)
        extra["DB_POOL_SIZE"] = str(pool_size)
    statements: dict[str, list[str]] = {}
    with Server(server_env(target.url, secret, uploads, extra=extra), workers=1,
                log_path=uploads / "server.log") as srv:
        if capture:
            statements = _capture_statements(srv.base_url, host, {"201": burst_reqs[0]})
            burst_reqs = burst_reqs[1:]
        spy = None
        if profile:
            fmt = "raw" if profile.suffix == ".txt" else "flamegraph"
            spy = subprocess.Popen(["py-spy", "record", "-o", str(profile), "--pid", str(srv.pid), "--rate", "200",
                                    "--nonblocking", "--format", fmt],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if warm_reqs:
            asyncio.run(drive(srv.base_url, warm_reqs, connections))
            time.sleep(1.0)
        cpu0 = _cpu_seconds(srv.pid)
        burst = asyncio.run(drive(srv.base_url, burst_reqs, connections))
        burst.server_cpu = _cpu_seconds(srv.pid) - cpu0
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        if capture:
            statements.update(_capture_statements(srv.base_url, host, {"409": encode(
                host, "POST", "/api/v1/bookings", token(prep.residents[0]), {"slot_id": prep.slot_ids[1]})}))
        booked, rows, over = asyncio.run(held(target.url, prep.slot_ids))
        listing = asyncio.run(drive(srv.base_url, list_reqs, connections, read_seconds))
        detail = asyncio.run(drive(srv.base_url, detail_reqs, connections, read_seconds))
    server = (f"database pool {pool_size or 'default (20)'}, "
              f"admission {admission if admission is not None else 'default (16)'}, "
              + (f"warmed by {warm} bookings of another service" if warm else "cold: started just before the burst"))
    path = write(out_dir, db, target, meta, seeded_now, prep, burst, (booked, rows, over), listing, detail,
                 connections, capacity, server)
    # the burst's answers in the order they came (latency in ms, status), for reading where in the burst the tail is
    path.with_suffix(".burst.json").write_text(json.dumps(
        [[round(t * 1000, 1), s] for t, s in zip(burst.latencies, burst.by_status, strict=True)]))
    if statements:
        with path.open("a", encoding="utf-8") as f:
            for label, stmts in statements.items():
                f.write(f"\n## Statements of one {label} ({len(stmts)})\n\n")
                f.writelines(f"1. `{' '.join(s.split())[:300]}`\n" for s in stmts)
    return path


def write(out_dir: Path, db: str, target: Any, meta: dict, seeded_now: bool, prep: Prepared, burst: Outcome,
          held_: tuple[int, int, int], listing: Outcome, detail: Outcome, connections: int, capacity: int,
          server: str) -> Path:
    booked, rows, over = held_
    places = len(prep.slot_ids) * capacity
    ok = burst.statuses.get(201, 0)
    conflicts = burst.statuses.get(409, 0)
    others = {k: v for k, v in burst.statuses.items() if k not in (201, 409)}
    list_rps = sum(listing.statuses.get(s, 0) for s in (200,)) / listing.seconds
    detail_rps = sum(detail.statuses.get(s, 0) for s in (200,)) / detail.seconds
    ratio = list_rps / detail_rps if detail_rps else 0.0
    verdict = all([ok == places, booked == places, rows == places, over == 0, burst.errors == 0, not others,
                   burst.pct(99) <= 500, ratio >= 0.5])
    rows_seeded = sum(meta.get("rows", {}).values()) if meta else 0
    lines = [
        f"# Flash crowd: service booking on {db} ({datetime.now(UTC).date()})", "",
        f"Database `{target.name}`: {target.label} reports seeded ({rows_seeded:,} rows"
        f"{', seeded for this run' if seeded_now else ', reused'}). One uvicorn worker ({server}); "
        f"driver: bench/rawhttp.py (asyncio streams), "
        f"{connections} connections, on the same machine (2 cores shared with the server and PostgreSQL).", "",
        f"{len(prep.residents):,} distinct residents of one community ({prep.created_residents:,} added for the run) "
        f"each POST /api/v1/bookings once, all at once: {len(prep.slot_ids)} slots × {capacity} places = {places}.",
        "", "| | value | target |", "|---|---:|---|",
        f"| bookings/s (all answers) | {len(burst.latencies) / burst.seconds:,.0f} | |",
        f"| burst wall time | {burst.seconds:.2f} s | |",
        f"| server CPU per request | {burst.server_cpu / max(1, len(burst.latencies)) * 1000:.2f} ms | |",
        f"| p50 | {burst.pct(50):.0f} ms | |",
        f"| p99 | {burst.pct(99):.0f} ms | ≤ 500 ms |",
        f"| p50 / p99 of the 201s | {burst.pct(50, 201):.0f} / {burst.pct(99, 201):.0f} ms | |",
        f"| p50 / p99 of the 409s | {burst.pct(50, 409):.0f} / {burst.pct(99, 409):.0f} ms | |",
        f"| 201 | {ok} | exactly {places} |",
        f"| 409 | {conflicts} | the rest |",
        f"| other statuses | {others or 0} | none |",
        f"| errors (5xx, transport) | {burst.errors} | 0 |",
        f"| database: sum of booked counters / booked rows / slots over capacity | {booked} / {rows} / {over} | "
        f"{places} / {places} / 0 |", "",
        f"Same run, same driver, {connections} connections, {listing.seconds:.0f} s each:", "",
        "| endpoint | req/s | p50 | p99 | non-200 |", "|---|---:|---:|---:|---:|",
        f"| GET /api/v1/services/{{id}}/slots (20 slots, remaining places) | {list_rps:,.0f} | "
        f"{listing.pct(50):.1f} ms | {listing.pct(99):.1f} ms | "
        f"{sum(v for k, v in listing.statuses.items() if k != 200)} |",
        f"| GET /api/v1/reports/{{id}} (detail, by its reporter) | {detail_rps:,.0f} | {detail.pct(50):.1f} ms | "
        f"{detail.pct(99):.1f} ms | {sum(v for k, v in detail.statuses.items() if k != 200)} |", "",
        f"Slot listing at **{ratio:.2f}×** the report detail's req/s (target ≥ 0.5×).", "",
        f"**Targets {'met' if verdict else 'NOT met'}.** Median per-request latency of the burst: "
        f"{statistics.median(burst.latencies) * 1000 if burst.latencies else 0:.0f} ms.", "",
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{datetime.now(UTC).date()}-bookings-{db}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
