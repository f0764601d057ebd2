"""Live streams under load (issue 14, "Speed"): many idle SSE streams on one uvicorn process, its memory, and how
long a step's `report.accepted` takes to reach its reporter's stream while grid workers accept reports.

    python -m bench streams --db postgresql --reports 10k --streams 2000 --tracked 200 [--redis redis://...]

1. One server process (`--workers 1`, app.main:app, production settings); its RSS (VmRSS) after a warm-up.
2. `--streams` streams from as many distinct residents, opened with a raw asyncio socket each (a request line, then
   the lines of the chunked body, so the client costs little); RSS again once all are open and idle, and again
   after one heartbeat period.
3. wrk accepts fresh submitted reports at 32 connections (the `accept` scenario's pool and requests); meanwhile
   `--tracked` other reports, each filed by a distinct stream owner, are accepted at a fixed rate through httpx. The
   delay is from the step's answer to the event with that report's id on its reporter's stream.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import db as dbs
from bench import machine
from bench.load import LoadResult, run_wrk
from bench.scenarios import Ctx, accept_requests, load_facts, make_settings, prepare_accept_pool
from tests.support.server import Server, server_env

STREAM = "/api/v1/notifications/stream"
OPEN_AT_ONCE = 50   # streams being opened concurrently
WARM_STREAMS = 50   # opened and closed before the first RSS reading (pool connections, lazy imports)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class SseStream:
    """One stream over a raw socket; records when each report's `report.accepted` event arrives."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, arrivals: dict[int, float]):
        self.reader, self.writer, self.arrivals = reader, writer, arrivals
        self.task: asyncio.Task[None] | None = None
        self.bytes = 0

    @classmethod
    async def open(cls, host: str, port: int, token: str, arrivals: dict[int, float]) -> SseStream:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {STREAM} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        if b" 200 " not in status:
            writer.close()
            raise RuntimeError(f"stream refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        self = cls(reader, writer, arrivals)
        while not (await reader.readline()).startswith(b"retry:"):  # subscribed before this was sent
            pass
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while line := await self.reader.readline():
            self.bytes += len(line)
            if line.startswith(b"data: {"):
                data = json.loads(line[6:])
                if data.get("type") == "report.accepted":
                    self.arrivals.setdefault(int(data["object_id"]), time.monotonic())

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


@dataclass
class StreamsResult:
    broker: str
    pid: int
    child_processes: int
    streams: int
    rss_before_kib: int = 0
    rss_open_kib: int = 0
    rss_heartbeat_kib: int = 0
    rss_after_steps_kib: int = 0
    open_seconds: float = 0.0
    tracked: int = 0
    arrived: int = 0
    step_errors: int = 0
    delays_ms: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    load: LoadResult | None = None
    idle_cpu: dict[str, float] = field(default_factory=dict)   # cores during a heartbeat round with no requests
    steps_cpu: dict[str, float] = field(default_factory=dict)  # cores while the reports are stepped
    wrk_connections: int = 32

    @property
    def per_stream_kib(self) -> float:
        return (max(self.rss_open_kib, self.rss_heartbeat_kib) - self.rss_before_kib) / self.streams

    def pct(self, values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("delays_ms", "step_ms", "load")}
        d.update(per_stream_kib=round(self.per_stream_kib, 1),
                 delay_ms={"p50": self.pct(self.delays_ms, .5), "p99": self.pct(self.delays_ms, .99),
                           "max": max(self.delays_ms, default=float("nan")),
                           "mean": statistics.fmean(self.delays_ms) if self.delays_ms else float("nan")},
                 step_ms={"p50": self.pct(self.step_ms, .5), "p99": self.pct(self.step_ms, .99)},
                 load=self.load.as_dict() if self.load else None)
        return d


async def _reassign(db_url: str, report_ids: list[int], avoid: set[int]) -> dict[int, int]:
    """Give each tracked report its own reporter: a distinct resident of the report's building (or, when the
    building has too few, of any building). Returns {report id: reporter id}."""
    engine = create_async_engine(db_url)
    owners: dict[int, int] = {}
    try:
        async with engine.begin() as c:
            residents: list[tuple[int, int]] = [(r[0], r[1]) for r in (await c.execute(text(
                "SELECT id, building_id FROM users WHERE role = 'resident' AND is_active ORDER BY id"))).all()]
            by_building: dict[int, list[int]] = {}
            for uid, bid in residents:
                if uid not in avoid:
                    by_building.setdefault(bid, []).append(uid)
            spare = [uid for uid, _ in residents if uid not in avoid]
            taken: set[int] = set()
            rows: list[tuple[int, int]] = [(r[0], r[1]) for r in (await c.execute(
                text("SELECT id, building_id FROM reports WHERE id = ANY(:ids)"), {"ids": report_ids})).all()]
            for rid, bid in rows:
                pick = next((u for u in by_building.get(bid, []) if u not in taken), None)
                if pick is None:
                    pick = next(u for u in spare if u not in taken)
                taken.add(pick)
                owners[rid] = pick
            await c.execute(text("SET LOCAL session_replication_role = replica"))  # events are insert-only
            for rid, uid in owners.items():
                await c.execute(text("UPDATE reports SET reporter_id = :u, filed_by_id = :u WHERE id = :r"),
                                {"u": uid, "r": rid})
                await c.execute(text("UPDATE report_events SET actor_id = :u WHERE report_id = :r"),
                                {"u": uid, "r": rid})
    finally:
        await engine.dispose()
    return owners


async def _open_all(srv: Server, ctx: Ctx, users: list[int], arrivals: dict[int, float]) -> list[SseStream]:
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one(uid: int) -> SseStream:
        async with gate:
            return await SseStream.open("127.0.0.1", srv.port, ctx.token(uid, "resident"), arrivals)

    return list(await asyncio.gather(*(one(u) for u in users)))


async def _tracked_steps(srv: Server, ctx: Ctx, pool: list[tuple[int, int]], rate: float, res: StreamsResult,
                         answered: dict[int, float]) -> None:
    reqs = accept_requests(ctx, pool)
    async with httpx.AsyncClient(base_url=srv.base_url, timeout=30,
                                 limits=httpx.Limits(max_connections=64)) as http:
        async def one(i: int) -> None:
            await asyncio.sleep(i / rate)
            r = reqs[i]
            t = time.monotonic()
            resp = await http.post(r.path, content=r.body, headers={"Authorization": f"Bearer {r.token}",
                                                                    "Content-Type": "application/json"})
            answered[pool[i][0]] = done = time.monotonic()
            res.step_ms.append((done - t) * 1000)
            if resp.status_code != 200:
                res.step_errors += 1

        await asyncio.gather(*(one(i) for i in range(len(pool))))


async def _scenario(srv: Server, ctx: Ctx, res: StreamsResult, stream_users: list[int], warm_users: list[int],
                    tracked: list[tuple[int, int]], background: list[tuple[int, int]], work: Path,
                    seconds: float, log: Any) -> None:
    arrivals: dict[int, float] = {}
    warm = await _open_all(srv, ctx, warm_users, arrivals)
    await asyncio.gather(*(s.close() for s in warm))
    await asyncio.sleep(3)
    res.rss_before_kib = rss_kib(srv.pid)
    t = time.monotonic()
    streams = await _open_all(srv, ctx, stream_users, arrivals)
    res.open_seconds = time.monotonic() - t
    await asyncio.sleep(3)
    res.rss_open_kib = rss_kib(srv.pid)
    log(f"  {len(streams)} streams open in {res.open_seconds:.1f}s; RSS {res.rss_before_kib:,} → "
        f"{res.rss_open_kib:,} KiB")
    mon = machine.CpuMonitor(srv.pid).start()
    await asyncio.sleep(ctx.settings.stream_heartbeat_seconds + 2)  # one heartbeat round (a read per stream)
    res.idle_cpu = mon.stop().as_dict()
    res.rss_heartbeat_kib = rss_kib(srv.pid)
    log(f"  after a heartbeat: RSS {res.rss_heartbeat_kib:,} KiB; per stream {res.per_stream_kib:.1f} KiB; "
        f"cores while idle {res.idle_cpu}")
    # accepts at full load from wrk (unless wrk_connections is 0); the tracked ones at a fixed rate meanwhile
    answered: dict[int, float] = {}
    mon = machine.CpuMonitor(srv.pid).start()
    wrk = None
    if res.wrk_connections:
        wrk = asyncio.create_task(asyncio.to_thread(
            run_wrk, srv.base_url, accept_requests(ctx, background), work / "streams-accept.lua", seconds=seconds,
            connections=res.wrk_connections, threads=2, log=work / "wrk.log", one_shot=True))
        await asyncio.sleep(2)
    await _tracked_steps(srv, ctx, tracked, len(tracked) / max(1.0, seconds - 4), res, answered)
    if wrk is not None:
        res.load = await wrk
    res.steps_cpu = mon.stop().as_dict()
    for _ in range(50):  # up to 5 s more for the last events
        if all(r in arrivals for r in answered):
            break
        await asyncio.sleep(0.1)
    res.rss_after_steps_kib = rss_kib(srv.pid)
    res.tracked = len(tracked)
    res.delays_ms = [(arrivals[r] - answered[r]) * 1000 for r in answered if r in arrivals]
    res.arrived = len(res.delays_ms)
    alive = sum(1 for s in streams if s.task and not s.task.done())
    log(f"  streams still open after the steps: {alive}/{len(streams)}")
    await asyncio.gather(*(s.close() for s in streams))


def run(pg_server: str, scale: int, n_streams: int, n_tracked: int, redis_url: str | None, seconds: float,
        work: Path, prefix: str, wrk_connections: int = 32, quiet_wait: float = 120.0,
        log: Any = print) -> tuple[StreamsResult, dict[str, Any]]:
    target = dbs.pg_target(pg_server, scale, prefix=prefix)
    meta, seeded_now = dbs.ensure(target, reuse=True, log=log)
    rng = random.Random(scale)
    secret = secrets.token_urlsafe(48)
    facts = asyncio.run(load_facts(target.url, rng))
    ctx = Ctx("", make_settings(target.url, secret), secret, target.url, "postgresql", facts, rng)
    # the reports: wrk's (~900 accepts/s at most on this machine) and the tracked ones
    pool = asyncio.run(prepare_accept_pool(ctx, int(900 * seconds) + n_tracked))
    tracked, background = pool[:n_tracked], pool[n_tracked:]
    owners = asyncio.run(_reassign(target.url, [r for r, _ in tracked], set()))
    everyone = asyncio.run(_residents(target.url))
    others = [u for u in everyone if u not in set(owners.values())]
    rng.shuffle(others)
    stream_users = list(owners.values()) + others[:n_streams - len(owners)]
    warm_users = others[n_streams - len(owners):][:WARM_STREAMS]
    work.mkdir(parents=True, exist_ok=True)
    uploads = Path(tempfile.mkdtemp(prefix="weilinli-bench-uploads-"))
    extra = {"REDIS_URL": redis_url} if redis_url else {}
    env = server_env(target.url, secret, uploads, extra=extra)
    with Server(env, module="app.main:app", workers=1, log_path=work / "server-streams.log") as srv:
        ctx.base_url = srv.base_url
        res = StreamsResult("redis" if redis_url else "in-process", srv.pid, len(children(srv.pid)),
                            len(stream_users), wrk_connections=wrk_connections)
        machine.wait_quiet(quiet_wait, log=log)
        asyncio.run(_scenario(srv, ctx, res, stream_users, warm_users, tracked, background, work, seconds, log))
    return res, {"database": target.name, "seeded_now": seeded_now, "rows": meta.get("rows")}


async def _residents(db_url: str) -> list[int]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as c:
            return [r[0] for r in (await c.execute(text(
                "SELECT id FROM users WHERE role = 'resident' AND is_active ORDER BY id"))).all()]
    finally:
        await engine.dispose()
