"""One benchmark run: for each scale, a seeded database, the server in its own process, wrk per scenario, a profile
of the slowest endpoints, and the SQL each endpoint runs (with EXPLAIN ANALYZE on PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import db as dbs
from bench import explain, machine, profile
from bench.load import LoadResult, Req, run_wrk
from bench.scenarios import SCENARIOS, Ctx, Scenario, accept_requests, load_facts, make_settings
from tests.support.server import Server, server_env

ROOT = Path(__file__).resolve().parent.parent
OTHER_LOAD_MAX = 0.3      # cores used by other processes during a measurement before it is measured again
OTHER_LOAD_RETRIES = 2


@dataclass
class Options:
    db: str
    scales: list[int]
    workers: int = 1
    connections: int = 32
    threads: int = 2
    duration: float = 12.0
    warmup: float = 3.0
    reuse: bool = False
    keep: bool = True
    only: list[str] | None = None
    profile: list[str] | None = None   # None: automatic (slowest read, slowest write); []: none
    profile_seconds: float = 10.0
    pg_server: str = "postgresql://postgres@127.0.0.1:5432"
    db_prefix: str = "weilinli_bench"
    quiet_wait: float = 90.0
    out_dir: Path = ROOT / "bench" / "results"
    data_dir: Path = dbs.DATA_DIR


@dataclass
class ScenarioResult:
    name: str
    title: str
    kind: str
    result: LoadResult | None = None
    single: LoadResult | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    busy_before: float = 0.0
    skipped: str | None = None
    items_per_page: float | None = None   # list endpoints: mean items in a response (a sample of the requests)


@dataclass
class ScaleRun:
    kind: str
    scale: int
    label: str
    meta: dict[str, Any]
    seeded_now: bool
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    profiles: dict[str, profile.Summary] = field(default_factory=dict)
    profile_files: dict[str, str] = field(default_factory=dict)
    captures: dict[str, explain.Capture] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)


def _log(msg: str) -> None:
    print(msg, flush=True)


def _routes(base_url: str) -> set[tuple[str, str]]:
    doc = httpx.get(base_url + "/openapi.json", timeout=30).json()
    return {(m.upper(), p) for p, item in doc.get("paths", {}).items() for m in item}


def _fmt(r: LoadResult) -> str:
    return (f"{r.rps:8.0f} req/s  p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms  errors {r.errors}"
            + (f"  statuses {r.statuses}" if set(r.statuses) - {"200", "201"} else ""))


def _db_version(opts: Options) -> str:
    if opts.db == "postgresql":
        async def v() -> str:
            import asyncpg

            conn = await asyncpg.connect(opts.pg_server + "/postgres")
            try:
                return "PostgreSQL " + await conn.fetchval("SHOW server_version") + \
                    f" (shared_buffers {await conn.fetchval('SHOW shared_buffers')}, " \
                    f"work_mem {await conn.fetchval('SHOW work_mem')})"
            finally:
                await conn.close()
        return asyncio.run(v())
    import sqlite3

    return "SQLite " + sqlite3.sqlite_version


def run(opts: Options) -> tuple[list[ScaleRun], dict[str, Any]]:
    info = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine.describe(),
            "database": _db_version(opts), "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": bool(_git("status", "--porcelain", "--", "app", "migrations")),
            "options": {"workers": opts.workers, "connections": opts.connections, "threads": opts.threads,
                        "duration_s": opts.duration, "warmup_s": opts.warmup}}
    runs = []
    for scale in opts.scales:
        runs.append(run_scale(opts, scale))
    info["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return runs, info


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def run_scale(opts: Options, scale: int) -> ScaleRun:
    target = (dbs.pg_target(opts.pg_server, scale, opts.db_prefix) if opts.db == "postgresql"
              else dbs.sqlite_target(scale, opts.data_dir))
    _log(f"\n== {opts.db} at {scale:,} reports ==")
    meta, seeded_now = dbs.ensure(target, reuse=opts.reuse, log=_log)
    if seeded_now:
        rows = sum(meta["rows"].values())
        _log(f"  seeded {rows:,} rows in {meta['seconds']:.0f}s ({rows / meta['seconds']:,.0f} rows/s)")
    run = ScaleRun(opts.db, scale, target.label, meta, seeded_now)
    work = opts.data_dir / f"run-{opts.db}-{target.label}"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*"):
        if old.is_file():
            old.unlink()
    wrk_log = work / "wrk.log"
    secret = secrets.token_urlsafe(48)
    uploads = Path(tempfile.mkdtemp(prefix="weilinli-bench-uploads-"))
    env = server_env(target.url, secret, uploads, extra={"WEILINLI_BENCH_BASELINES": "1"})
    rng = random.Random(scale)
    scenarios = [s for s in SCENARIOS if not opts.only or s.name in opts.only or s.kind == "baseline"]
    requests_used: dict[str, list[Req]] = {}
    with Server(env, workers=opts.workers, log_path=work / "server.log") as srv:
        run.server = {"pid": srv.pid, "workers": opts.workers, "module": "bench.app:app",
                      "commit": _git("rev-parse", "--short", "HEAD"),
                      "dirty": bool(_git("status", "--porcelain", "--", "app", "migrations"))}
        routes = _routes(srv.base_url)
        facts = asyncio.run(load_facts(target.url, rng))
        ctx = Ctx(srv.base_url, make_settings(target.url, secret), secret, target.url, opts.db, facts, rng)
        for sc in scenarios:
            res = ScenarioResult(sc.name, sc.title, sc.kind)
            run.results[sc.name] = res
            if sc.route and (sc.method, sc.route) not in routes:
                res.skipped = f"{sc.method} {sc.route} is not in this build"
                _log(f"  {sc.name:<20} skipped: {res.skipped}")
                continue
            try:
                if sc.kind == "read":  # as the worker would have, every minute (dbs.announce_overdue)
                    dbs.announce_overdue(target)
                with _rollups_as_measured(sc, srv.base_url):
                    reqs = _measure(opts, sc, ctx, srv, res, work, wrk_log)
                requests_used[sc.name] = reqs
            except Exception as exc:  # noqa: BLE001 - one failing scenario must not lose the others
                res.skipped = f"failed: {exc}"
                _log(f"  {sc.name:<20} FAILED: {exc}")
        for name in _profile_targets(opts, run):
            try:
                _profile(opts, run, name, ctx, srv, work, wrk_log)
            except Exception as exc:  # noqa: BLE001 - e.g. py-spy missing: the measurements stand without it
                _log(f"  profile of {name} failed: {exc}")
    uploads_cleanup(uploads)
    # the SQL of each endpoint, from a second server with the capture switched on
    run.captures = _capture(opts, target, secret, uploads, ctx, requests_used, work)
    return run


def _set_rollups(base_url: str, on: bool) -> None:
    """Switch the server's roll-up upserts (bench/app.py, baselines mounted): the step with and without them."""
    resp = httpx.post(f"{base_url}/bench/rollups", params={"on": "true" if on else "false"}, timeout=10)
    resp.raise_for_status()


@contextmanager
def _rollups_as_measured(sc: Scenario, base_url: str) -> Iterator[None]:
    """The server's roll-up upserts as the scenario measures them: switched off for a roll-ups-off scenario, and
    on again after it whatever happened."""
    if sc.rollups:
        yield
        return
    _set_rollups(base_url, False)
    try:
        yield
    finally:
        _set_rollups(base_url, True)


def uploads_cleanup(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _requests(sc: Scenario, ctx: Ctx, n_one_shot: int = 0, server_pid: int | None = None) -> list[Req]:
    if sc.prepare is not None:
        if server_pid:
            machine.wait_idle(server_pid)  # requests wrk left in flight still write
        pool = asyncio.run(sc.prepare(ctx, n_one_shot))
        return accept_requests(ctx, pool)
    assert sc.build is not None
    return sc.build(ctx)


def _measure(opts: Options, sc: Scenario, ctx: Ctx, srv: Server, res: ScenarioResult, work: Path,
             wrk_log: Path) -> list[Req]:
    script = work / f"{sc.name}.lua"
    warm_n = int(sc.one_shot * opts.warmup / max(opts.duration, 1)) + 500 if sc.one_shot else 0
    reqs = _requests(sc, ctx, warm_n, srv.pid)
    if sc.kind == "list":
        res.items_per_page = _items_per_page(srv.base_url, reqs)
    if opts.warmup > 0:
        run_wrk(srv.base_url, reqs, script, seconds=opts.warmup, connections=opts.connections,
                threads=opts.threads, log=wrk_log)
    if sc.one_shot:
        reqs = _requests(sc, ctx, sc.one_shot, srv.pid)
    for attempt in range(1 + OTHER_LOAD_RETRIES):
        if attempt and sc.one_shot:
            reqs = _requests(sc, ctx, sc.one_shot, srv.pid)
        machine.wait_idle(srv.pid)
        busy = machine.wait_quiet(opts.quiet_wait, log=_log)
        mon = machine.CpuMonitor(srv.pid).start()
        result = run_wrk(srv.base_url, reqs, script, seconds=opts.duration, connections=opts.connections,
                         threads=opts.threads, log=wrk_log, one_shot=bool(sc.one_shot))
        cpu = mon.stop().as_dict()
        cpu["wrk"] = round(result.wrk_cpu_s / max(result.seconds, 1e-6), 2)
        if res.result is None or cpu["other"] < res.cpu["other"]:
            res.result, res.cpu, res.busy_before = result, cpu, busy
        if cpu["other"] <= OTHER_LOAD_MAX:
            break
        _log(f"    other processes used {cpu['other']:.2f} cores during the run: measuring again")
    _log(f"  {sc.name:<20} {_fmt(res.result)}  cpu {res.cpu}")
    if sc.single_connection:
        machine.wait_idle(srv.pid, max_wait=60)
        res.single = run_wrk(srv.base_url, reqs, script, seconds=max(5.0, opts.duration / 2), connections=1,
                             threads=1, log=wrk_log)
        if res.single.requests < 5:  # slower than the window allows: time a few requests one by one instead
            res.single = _sequential(srv.base_url, reqs[:3])
        _log(f"  {sc.name + ' (1 conn)':<20} {_fmt(res.single)}")
    return reqs


def _send(client: httpx.Client, r: Req) -> httpx.Response:
    headers = {"Authorization": f"Bearer {r.token}"} if r.token else {}
    if r.content_type:
        headers["Content-Type"] = r.content_type
    return client.request(r.method, r.path, headers=headers, content=r.body.encode() if r.body else None)


def _items_per_page(base_url: str, reqs: list[Req], n: int = 20) -> float | None:
    counts = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for r in reqs[:: max(1, len(reqs) // n)][:n]:
            resp = _send(client, r)
            if resp.status_code == 200:
                counts.append(len(resp.json().get("items", [])))
    return sum(counts) / len(counts) if counts else None


def _sequential(base_url: str, reqs: list[Req]) -> LoadResult:
    """One request at a time with httpx (for endpoints too slow for a wrk window)."""
    times, errors = [], 0
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for r in reqs:
            t = time.perf_counter()
            try:
                ok = _send(client, r).status_code < 400
            except httpx.HTTPError:
                ok = False
            times.append((time.perf_counter() - t) * 1000)
            errors += not ok
    secs = time.perf_counter() - started
    times.sort()
    return LoadResult(requests=len(times), seconds=secs, rps=len(times) / secs, p50_ms=times[len(times) // 2],
                      p90_ms=times[-1], p99_ms=times[-1], max_ms=times[-1], mean_ms=sum(times) / len(times),
                      errors=errors, connections=1, threads=1, distinct_requests=len(reqs))


def _profile_targets(opts: Options, run: ScaleRun) -> list[str]:
    if opts.profile is not None:
        return [n for n in opts.profile if n in run.results and run.results[n].result]
    done = [r for r in run.results.values() if r.result and r.kind != "baseline"]
    reads = [r for r in done if r.kind in ("read", "list")]
    cpu_bound = [r for r in reads if r.cpu.get("server", 0) >= 0.85]  # where the server's own time is the limit
    writes = [r for r in done if r.kind == "write" and r.name != "login"]  # login: argon2 by design
    out = []
    for group, key in ((reads, lambda r: r.result.rps), (cpu_bound, lambda r: r.result.rps),
                       (writes, lambda r: -r.result.p99_ms)):
        if group:
            name = min(group, key=key).name
            if name not in out:
                out.append(name)
    return out


def _profile(opts: Options, run: ScaleRun, name: str, ctx: Ctx, srv: Server, work: Path, wrk_log: Path) -> None:
    sc = next(s for s in SCENARIOS if s.name == name)
    n = int(sc.one_shot * (opts.profile_seconds + 2) / max(opts.duration, 1)) + 500 if sc.one_shot else 0
    reqs = _requests(sc, ctx, n, srv.pid)
    out = work / f"profile-{name}.txt"
    spy = profile.record(srv.pid, opts.profile_seconds, out)
    time.sleep(0.5)
    with _rollups_as_measured(sc, srv.base_url):  # profiled as measured
        run_wrk(srv.base_url, reqs, work / f"{name}-profile.lua", seconds=opts.profile_seconds + 1,
                connections=opts.connections, threads=opts.threads, log=wrk_log)
    try:
        _, err = spy.communicate(timeout=opts.profile_seconds + 30)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if out.exists():
        run.profiles[name] = profile.summarise(out)
        run.profile_files[name] = str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out)
        top = run.profiles[name].by_library[:5]
        _log(f"  profiled {name}: {run.profiles[name].samples} samples; " +
             ", ".join(f"{k} {v:.0f}%" for k, v in top))
    else:
        _log(f"  profile of {name} failed: {err.decode(errors='replace')[-300:] if err else '?'}")


def _capture(opts: Options, target: dbs.Target, secret: str, uploads: Path, ctx: Ctx,
             used: dict[str, list[Req]], work: Path) -> dict[str, explain.Capture]:
    env = server_env(target.url, secret, uploads, extra={"WEILINLI_BENCH_CAPTURE": "1"})
    wanted: dict[str, list[Req]] = {}
    try:
        with Server(env, workers=1, log_path=work / "server-capture.log") as srv:
            ctx.base_url = srv.base_url
            for sc in SCENARIOS:
                if sc.kind == "baseline" or sc.name not in used:
                    continue
                if sc.one_shot:
                    wanted[sc.name] = _requests(sc, ctx, 3)
                else:
                    wanted[sc.name] = used[sc.name][:3]
            captures = explain.capture(srv.base_url, wanted)
    except Exception as exc:  # noqa: BLE001
        _log(f"  SQL capture failed: {exc}")
        return {}
    if target.kind == "postgresql":
        asyncio.run(explain.explain_postgresql(target.dsn, captures))
    for cap in captures.values():
        slow = cap.slowest
        _log(f"  {cap.scenario:<20} {len(cap.statements)} statements (status {cap.status})"
             + (f", slowest {slow.ms:.2f} ms" if slow else ""))
    return captures


def save_json(runs: list[ScaleRun], info: dict[str, Any], path: Path) -> None:
    def enc(o: Any) -> Any:
        if hasattr(o, "__dict__"):
            return o.__dict__
        return str(o)

    path.write_text(json.dumps({"info": info, "runs": runs}, default=enc, indent=1, ensure_ascii=False))
