"""The results file: bench/results/<date>-<db>.md, and the same tables on stdout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runner import ROOT, ScaleRun

READ_MIN_RAW_RATIO = 0.5      # every read endpoint at >= 0.5x the raw-query baseline's requests/s
P99_MAX_MS = 100.0            # every endpoint's p99 at 32 connections
LIST_P50_GROWTH_MAX = 1.5     # list endpoints: p50 at the largest scale <= 1.5x p50 at the smallest
STATS_MAX_MS = 300.0          # a community's statistics at the largest scale (one request alone: p50, 1 connection)
NOTES_DIR = ROOT / "bench" / "notes"


@dataclass
class Verdict:
    target: str
    met: bool
    detail: str


def _ms(v: float) -> str:
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def baselines(run: ScaleRun) -> tuple[float, float]:
    bare = run.results.get("bare")
    raw = run.results.get("raw_query")
    return (bare.result.rps if bare and bare.result else 0.0, raw.result.rps if raw and raw.result else 0.0)


def verdicts(runs: list[ScaleRun]) -> list[Verdict]:
    """The issue's targets, checked on every scale (the growth and statistics targets on the largest)."""
    out: list[Verdict] = []
    for run in runs:
        bare, raw = baselines(run)
        done = [r for r in run.results.values() if r.result and r.kind != "baseline"]
        slow_reads = [f"{r.name} {r.result.rps / raw:.2f}×" for r in done if r.kind in ("read", "list") and raw
                      and r.result.rps < READ_MIN_RAW_RATIO * raw]
        out.append(Verdict(f"{run.label}: every read endpoint ≥ {READ_MIN_RAW_RATIO}× raw-query req/s "
                           f"(≥ {READ_MIN_RAW_RATIO * raw:.0f} req/s)", not slow_reads,
                           "missed by " + ", ".join(slow_reads) if slow_reads else "met"))
        slow_p99 = [f"{r.name} {_ms(r.result.p99_ms)} ms" for r in done if r.result.p99_ms > P99_MAX_MS]
        out.append(Verdict(f"{run.label}: every endpoint p99 ≤ {P99_MAX_MS:.0f} ms at "
                           f"{done[0].result.connections if done else 32} connections", not slow_p99,
                           "missed by " + ", ".join(slow_p99) if slow_p99 else "met"))
        errs = [f"{r.name} {r.result.errors} ({_status_text(r.result)})" for r in done + [
            x for x in run.results.values() if x.kind == "baseline" and x.result] if r.result.errors]
        out.append(Verdict(f"{run.label}: zero errors", not errs, "; ".join(errs) if errs else "met"))
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        grown = []
        checked = 0
        for name, r in large.results.items():
            s = small.results.get(name)
            if r.kind != "list" or not r.result or not s or not s.result:
                continue
            checked += 1
            g = r.result.p50_ms / s.result.p50_ms if s.result.p50_ms else 0
            if g > LIST_P50_GROWTH_MAX:
                grown.append(f"{name} {g:.2f}×")
        if checked:
            out.append(Verdict(f"list endpoints' p50 at {large.label} ≤ {LIST_P50_GROWTH_MAX}× p50 at {small.label}",
                               not grown, "missed by " + ", ".join(grown) if grown else "met"))
    large = runs[-1]
    stats = [r for r in large.results.values() if r.name.startswith("stats_") and r.single and r.single.requests]
    if stats:
        slow = [f"{r.name} {_ms(r.single.p50_ms)} ms" for r in stats if r.single.p50_ms > STATS_MAX_MS]
        out.append(Verdict(f"{large.label}: a community's statistics ≤ {STATS_MAX_MS:.0f} ms (one request alone)",
                           not slow, ("missed by " + ", ".join(slow)) if slow else
                           "met: " + ", ".join(f"{r.name} {_ms(r.single.p50_ms)} ms" for r in stats)))
    return out


def _status_text(r) -> str:
    parts = [f"{k}: {v}" for k, v in r.statuses.items() if not k.startswith("2")]
    parts += [f"socket {k}: {v}" for k, v in r.socket_errors.items()]
    return ", ".join(parts) or "–"


def scale_table(run: ScaleRun) -> list[str]:
    bare, raw = baselines(run)
    lines = ["| endpoint | req/s | p50 ms | p99 ms | errors | × bare | × raw query | items/page | cores: server / "
             "database / wrk / other |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in run.results.values():
        if r.skipped:
            lines.append(f"| {r.title} | – | – | – | – | – | – | – | {r.skipped} |")
            continue
        x = r.result
        cpu = r.cpu
        flag = ""
        if x.wrapped:
            flag = " (one-shot requests ran out: some were sent twice)"
        lines.append(
            f"| {r.title}{flag} | {x.rps:,.0f} | {_ms(x.p50_ms)} | {_ms(x.p99_ms)} | {x.errors} | "
            f"{_ratio(x.rps, bare)} | {_ratio(x.rps, raw)} | "
            f"{'' if r.items_per_page is None else f'{r.items_per_page:.1f}'} | "
            f"{cpu.get('server', 0):.2f} / {cpu.get('postgres', 0):.2f} / {cpu.get('wrk', 0):.2f} / "
            f"{cpu.get('other', 0):.2f} |")
    return lines


def single_table(runs: list[ScaleRun]) -> list[str]:
    rows = []
    for run in runs:
        for r in run.results.values():
            if r.single:
                rows.append(f"| {run.label} | {r.title} | {r.single.rps:,.1f} | {_ms(r.single.p50_ms)} | "
                            f"{_ms(r.single.p99_ms)} | {r.single.errors} |")
    if not rows:
        return []
    return ["| scale | endpoint | req/s | p50 ms | p99 ms | errors |", "|---|---|---:|---:|---:|---:|", *rows]


def growth_table(runs: list[ScaleRun]) -> list[str]:
    if len(runs) < 2:
        return []
    small, large = runs[0], runs[-1]
    lines = [f"| list endpoint | p50 at {small.label} (ms) | p50 at {large.label} (ms) | ratio | "
             f"target ≤ {LIST_P50_GROWTH_MAX}× | items/page at {small.label} → {large.label} |",
             "|---|---:|---:|---:|---|---|"]
    for name, r in large.results.items():
        s = small.results.get(name)
        if r.kind not in ("list",) or not r.result or not s or not s.result:
            continue
        g = r.result.p50_ms / s.result.p50_ms if s.result.p50_ms else 0
        ipp = (f"{s.items_per_page:.1f} → {r.items_per_page:.1f}" if s.items_per_page is not None
               and r.items_per_page is not None else "")
        lines.append(f"| {r.title} | {_ms(s.result.p50_ms)} | {_ms(r.result.p50_ms)} | {g:.2f}× | "
                     f"{'met' if g <= LIST_P50_GROWTH_MAX else 'missed'} | {ipp} |")
    return lines


def seed_lines(run: ScaleRun) -> list[str]:
    m = run.meta
    rows = m.get("rows", {})
    total = sum(rows.values())
    secs = m.get("seconds") or 0
    when = "seeded in this run" if run.seeded_now else "reused, seeded " + m.get("seeded_at", "?")
    head = (f"- **{run.label}** ({when}): {total:,} rows in {secs:.0f} s ({total / secs:,.0f} rows/s) — "
            if secs else f"- **{run.label}**: ")
    head += ", ".join(f"{k} {v:,}" for k, v in rows.items())
    phases = m.get("phases", {})
    if phases:
        head += "; phases (s): " + ", ".join(f"{k} {v}" for k, v in phases.items())
    return [head]


def sql_lines(run: ScaleRun) -> list[str]:
    if not run.captures:
        return []
    lines = [f"Statements per request at {run.label} (captured from the server, the second of two identical "
             "requests)" + (", and the time of each SELECT under `EXPLAIN (ANALYZE, BUFFERS)` (planning + execution)"
                            if run.kind == "postgresql" else "") + ":", "",
             "| endpoint | status | statements | SELECT time ms (each) | slowest |", "|---|---:|---:|---|---|"]
    for cap in run.captures.values():
        times = [f"{s.ms:.2f}" for s in cap.statements if s.ms is not None]
        slow = cap.slowest
        head = ""
        if slow:
            head = " ".join(slow.sql.split())[:90].replace("|", "\\|")
        lines.append(f"| {cap.scenario} | {cap.status} | {len(cap.statements)} | {', '.join(times) or '–'} | "
                     f"{('`' + head + '…`') if head else '–'} |")
    plans = [(cap, cap.slowest) for cap in run.captures.values() if cap.slowest and cap.slowest.ms >= 1.0]
    if plans:
        lines += ["", "<details><summary>Plans of the slowest statement of each endpoint (≥ 1 ms)</summary>", ""]
        for cap, st in sorted(plans, key=lambda x: -x[1].ms):
            sql = " ".join(st.sql.split())
            lines += [f"**{cap.scenario}** — {st.ms:.2f} ms", "", "```sql", sql[:1500], "```", "", "```",
                      (st.plan or "")[:4000], "```", ""]
        lines += ["</details>"]
    return lines


def profile_lines(run: ScaleRun) -> list[str]:
    out = []
    for name, s in run.profiles.items():
        if not s.samples:
            continue
        out += [f"**{name}** at {run.label}: {s.samples} samples (py-spy, 200 Hz, "
                f"`{run.profile_files.get(name, '')}`, collapsed stacks for speedscope.app).", "",
                "- self time by library: " + ", ".join(f"{k} {v:.0f}%" for k, v in s.by_library[:10]),
                "- top frames, inclusive (share of samples with the frame on the stack):"]
        out += [f"  - {v:4.1f}% `{k}`" for k, v in s.top_inclusive[:12]]
        out += ["- top frames, self:"]
        out += [f"  - {v:4.1f}% `{k}`" for k, v in s.top_self[:10]]
        if s.app_inclusive:
            out += ["- app/ frames, inclusive:"]
            out += [f"  - {v:4.1f}% `{k}`" for k, v in s.app_inclusive[:10]]
        out.append("")
    return out


def render(runs: list[ScaleRun], info: dict[str, Any], command: str) -> str:
    db = runs[0].kind if runs else "?"
    o = info["options"]
    m = info["machine"]
    lines = [f"# Benchmark: {db}, {', '.join(r.label for r in runs)} reports", "",
             f"`{command}` — {info['started']} → {info['finished']}, commit {info['commit']}"
             + (" (app/ or migrations/ modified in the working tree)" if info.get("dirty") else ""), "",
             f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}; {info['database']}; "
             f"{m['wrk']}",
             f"- server: `uvicorn bench.app:app --workers {o['workers']} --no-access-log`, WEILINLI_ENV=production, "
             "LOG_LEVEL=WARNING, default pool (DB_POOL_SIZE 20, DB_MAX_OVERFLOW 0), argon2id at the production cost",
             f"- load: wrk, {o['threads']} threads, {o['connections']} connections, {o['warmup_s']:.0f} s warm-up then "
             f"{o['duration_s']:.0f} s per endpoint, on the same machine; latencies are wrk's (`--latency`)",
             "- baselines on the same server process (bench/app.py, mounted only with WEILINLI_BENCH_BASELINES=1): "
             "`GET /bench/bare` returns a fixed small JSON; `GET /bench/raw-query` runs one single-row primary-key "
             "SELECT on `reports` with the driver (asyncpg pool / aiosqlite), no ORM",
             "- cores: average CPU cores used during the measured run by the server, the database, wrk, and every "
             "other process on the machine (other work on the machine shows there); the same code measured twice "
             "on this shared machine differs by up to ~15%, so smaller differences are noise",
             "- targets: the issue's; `× raw query` is the endpoint's req/s over the raw-query baseline's",
             ""]
    served = {(r.server.get("commit"), r.server.get("dirty")) for r in runs if r.server.get("commit")}
    if served and served != {(info["commit"], info.get("dirty"))}:
        lines += ["- app code served: " + "; ".join(
            f"{r.label}: commit {r.server.get('commit')}" + (" + working-tree changes" if r.server.get("dirty") else "")
            for r in runs), ""]
    lines += ["## Seeding", ""]
    for run in runs:
        lines += seed_lines(run)
    lines.append("")
    for run in runs:
        lines += [f"## {run.label} reports", ""] + scale_table(run) + [""]
    g = growth_table(runs)
    if g:
        lines += ["## List endpoints: p50 as the data grows", ""] + g + [""]
    st = single_table(runs)
    if st:
        lines += ["## Statistics, one request at a time (1 connection)", ""] + st + [""]
    if db == "postgresql" and o["workers"] == 1:
        lines += ["## Targets (PostgreSQL, 1 worker)", "", "| target | verdict |", "|---|---|"]
        for v in verdicts(runs):
            lines.append(f"| {v.target} | {'✅ ' if v.met else '❌ '}{v.detail} |")
        lines.append("")
    else:
        lines += ["## Targets", "", "The targets are defined for PostgreSQL with 1 worker; this run is for "
                  "comparison.", "", "| check | result |", "|---|---|"]
        for v in verdicts(runs):
            lines.append(f"| {v.target} | {'✅ ' if v.met else '❌ '}{v.detail} |")
        lines.append("")
    prof = [x for run in runs for x in profile_lines(run)]
    if prof:
        lines += ["## Profiles", ""] + prof
    for run in runs[::-1]:
        sl = sql_lines(run)
        if sl:
            lines += [f"## SQL per request ({run.label})", ""] + sl + [""]
    notes = NOTES_DIR / f"{db}.md"
    if notes.exists():
        lines += ["## Analysis", "", notes.read_text().strip(), ""]
    return "\n".join(lines) + "\n"


def write(runs: list[ScaleRun], info: dict[str, Any], command: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{info['started'][:10]}-{runs[0].kind}.md"
    path.write_text(render(runs, info, command))
    return path
