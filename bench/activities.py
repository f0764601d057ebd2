"""The activity-signup burst (报名秒杀): a flash crowd of residents signs up for one activity at once.

    python -m bench burst --db sqlite --reports 10k --residents 2000 --places 200

Seeds (or reuses) the benchmark database, adds residents to one community until it has `--residents`, creates one
open activity with `--places` places, starts the server, and sends every resident's `POST
/api/v1/activities/{id}/signup` at once (`--concurrency` in flight). It reports the answers (201/200, 409
`activity_full`, anything else), the latency distribution and the wall time, then checks the database: exactly
`places` signups, `signed_up == places`. Writes bench/results/<date>-activities-<db>.md.
"""

from __future__ import annotations

import asyncio
import platform
import secrets
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Env, Settings
from app.core.security import issue_token
from app.groups.models import Activity, ActivitySignup
from bench import db as dbs
from tests.support.server import Server, server_env

# the benchmark's residents have accepted the current privacy notice (issue 21: otherwise 403 on every request)
NOTICE_VERSION = Settings.model_fields["privacy_notice_version"].default


@dataclass
class Burst:
    db: str
    scale: int
    residents: int
    places: int
    concurrency: int
    workers: int
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    stored_signups: int = -1
    stored_signed_up: int = -1


async def prepare(url: str, n_residents: int, places: int) -> tuple[int, list[int]]:
    """One community topped up to n residents, and one open activity of it with `places` places."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as c:
            async def rows(sql: str, **kw: Any) -> list:
                return list((await c.execute(text(sql), kw)).all())

            community, count = (await rows(
                "SELECT community_id, count(*) FROM users WHERE role = 'resident' GROUP BY community_id "
                "ORDER BY count(*) DESC, community_id LIMIT 1"))[0]
            building, pw = (await rows("SELECT building_id, password_hash FROM users WHERE role = 'resident' AND "
                                       "community_id = :c ORDER BY id LIMIT 1", c=community))[0]
            path = (await rows("SELECT path FROM grids WHERE id = :c", c=community))[0][0]
            organiser = (await rows("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"))[0][0]
            now = datetime.now(UTC)
            stamp = int(time.time()) % 10_000_000
            extra = [{"phone": f"17{stamp % 100:02d}{i:07d}", "password_hash": pw, "display_name": f"快闪居民{i}",
                      "role": "resident", "is_active": True, "is_building_lead": False, "building_id": building,
                      "community_id": community, "created_at": now, "updated_at": now}
                     for i in range(max(0, n_residents - count))]
            if extra:
                await c.execute(text(
                    "INSERT INTO users (phone, password_hash, display_name, role, is_active, is_building_lead, "
                    "building_id, community_id, created_at, updated_at, privacy_version) VALUES (:phone, "
                    ":password_hash, :display_name, :role, :is_active, :is_building_lead, :building_id, :community_id, "
                    ":created_at, :updated_at, :privacy_version)"),
                    [{**e, "privacy_version": NOTICE_VERSION} for e in extra])
            people = [r[0] for r in await rows("SELECT id FROM users WHERE role = 'resident' AND community_id = :c "
                                               "AND is_active ORDER BY id", c=community)][:n_residents]
            activity_id = (await c.execute(insert(Activity).values(
                community_id=community, community_path=path, group_id=None, organiser_id=organiser,
                title="社区年货节报名", description="", place="社区广场", starts_at=now + timedelta(days=2),
                ends_at=now + timedelta(days=2, hours=3), signup_deadline=now + timedelta(days=1), capacity=places,
                signed_up=0, visibility="public", is_volunteer_service=False, status="open", version=1,
                created_at=now, updated_at=now).returning(Activity.id))).scalar_one()
    finally:
        await engine.dispose()
    return activity_id, people


async def fire(base_url: str, tokens: list[str], activity_id: int, concurrency: int, b: Burst) -> None:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        async def one(token: str) -> None:
            async with gate:
                t0 = time.perf_counter()
                resp = await client.post(f"/api/v1/activities/{activity_id}/signup",
                                         headers={"Authorization": f"Bearer {token}"})
                b.latencies_ms.append((time.perf_counter() - t0) * 1000)
                b.statuses[resp.status_code] += 1
                if resp.status_code >= 400:
                    b.codes[resp.json().get("error", {}).get("code", "?")] += 1
        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in tokens))
        b.wall_s = time.perf_counter() - started


async def check(url: str, activity_id: int, b: Burst) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            b.stored_signups = (await c.execute(select(func.count()).select_from(ActivitySignup).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.status == "signed_up"))).scalar_one()
            b.stored_signed_up = (await c.execute(select(Activity.signed_up).where(
                Activity.id == activity_id))).scalar_one()
    finally:
        await engine.dispose()


def run(db: str, scale: int, pg: str, residents: int, places: int, concurrency: int, workers: int,
        out_dir: Path) -> Path:
    target = dbs.pg_target(pg, scale) if db == "postgresql" else dbs.sqlite_target(scale)
    dbs.ensure(target, reuse=True)
    secret = secrets.token_urlsafe(48)
    settings = Settings(weilinli_env=Env.production, database_url=target.url, jwt_secret=secret)
    activity_id, people = asyncio.run(prepare(target.url, residents, places))
    tokens = [issue_token(settings, secret, user_id=u, role="resident", typ="access").token for u in people]
    b = Burst(db, scale, len(people), places, concurrency, workers)
    uploads = Path(tempfile.mkdtemp(prefix="weilinli-burst-"))
    with Server(server_env(target.url, secret, uploads), module="app.main:app", workers=workers,
                log_path=dbs.DATA_DIR / "burst-server.log") as srv:
        asyncio.run(fire(srv.base_url, tokens, activity_id, concurrency, b))
    asyncio.run(check(target.url, activity_id, b))
    return write(b, out_dir)


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, (len(ordered) * p + 99) // 100 - 1))]


def write(b: Burst, out_dir: Path) -> Path:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    path = out_dir / f"{day}-activities-{b.db}.md"
    ok = b.statuses.get(200, 0) + b.statuses.get(201, 0)
    lat = b.latencies_ms
    held = ok == b.places == b.stored_signups == b.stored_signed_up
    lines = [
        f"# Activity-signup burst, {b.db} ({dbs.scale_label(b.scale)} reports seeded), {day}",
        "",
        f"`python -m bench burst --db {b.db} --reports {b.scale} --residents {b.residents} --places {b.places} "
        f"--concurrency {b.concurrency} --workers {b.workers}` on {platform.machine()} "
        f"({platform.python_version()}), app.main:app under uvicorn, {b.workers} worker(s), production settings.",
        "",
        f"{b.residents} residents of one community each send one `POST /api/v1/activities/{{id}}/signup` at "
        f"once ({b.concurrency} in flight) for an activity with {b.places} places.",
        "",
        "| measure | value |", "|---|---|",
        f"| answers | {dict(sorted(b.statuses.items()))} |",
        f"| error codes | {dict(sorted(b.codes.items()))} |",
        f"| wall time | {b.wall_s:.2f} s ({len(lat) / max(b.wall_s, 1e-9):.0f} requests/s) |",
        f"| latency p50 / p90 / p99 / max | {_pct(lat, 50):.1f} / {_pct(lat, 90):.1f} / {_pct(lat, 99):.1f} / "
        f"{max(lat):.1f} ms |",
        f"| latency mean | {statistics.fmean(lat):.1f} ms |",
        f"| stored signups / activity.signed_up | {b.stored_signups} / {b.stored_signed_up} |",
        f"| capacity held | {'yes' if held else 'NO'} |",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
