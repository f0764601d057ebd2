"""python -m bench: the benchmark harness of 微邻里.

    python -m bench run --db postgresql --reports 10000,1000000   # seed, serve, load, write bench/results/
    python -m bench run --db sqlite --reports 10000
    python -m bench seed --db postgresql --reports 1000000        # only create and seed the database
    python -m bench crash --db sqlite                             # SIGKILL during submissions, then check
    python -m bench burst --db sqlite --reports 10k               # activity-signup flash crowd (2,000 for 200)
    python -m bench drop --db postgresql --reports 10000,1000000  # remove the benchmark databases
    python -m bench streams --reports 10k --streams 2000 --tracked 200 [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from bench import db as dbs


def _scales(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1000
        elif part.endswith("m"):
            part, mult = part[:-1], 1_000_000
        out.append(int(float(part) * mult))
    return sorted(out)


def cmd_run(args: argparse.Namespace) -> None:
    from bench import report, runner

    opts = runner.Options(
        db=args.db, scales=args.reports, workers=args.workers, connections=args.connections, threads=args.threads,
        duration=args.duration, warmup=args.warmup, reuse=args.reuse,
        only=args.only.split(",") if args.only else None,
        profile=(None if args.profile == "auto" else [p for p in args.profile.split(",") if p and p != "none"]),
        pg_server=args.pg, db_prefix=args.db_prefix, out_dir=Path(args.out), quiet_wait=args.quiet_wait)
    started = time.monotonic()
    runs, info = runner.run(opts)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = report.write(runs, info, command, opts.out_dir)
    runner.save_json(runs, info, dbs.DATA_DIR / f"{path.stem}.json")
    print()
    print(path.read_text().split("## Profiles")[0].split("## SQL per request")[0])
    print(f"wrote {path} in {time.monotonic() - started:.0f}s")
    if not args.keep:
        for scale in opts.scales:
            dbs.drop(dbs.pg_target(args.pg, scale, args.db_prefix) if args.db == "postgresql"
                     else dbs.sqlite_target(scale))


def cmd_seed(args: argparse.Namespace) -> None:
    for scale in args.reports:
        t = dbs.pg_target(args.pg, scale, args.db_prefix) if args.db == "postgresql" else dbs.sqlite_target(scale)
        meta = dbs.create_and_seed(t)
        rows = sum(meta["rows"].values())
        print(f"{t.name}: {rows:,} rows in {meta['seconds']:.0f}s ({rows / meta['seconds']:,.0f} rows/s); "
              f"phases {meta['phases']}")


def cmd_drop(args: argparse.Namespace) -> None:
    for scale in args.reports:
        t = dbs.pg_target(args.pg, scale, args.db_prefix) if args.db == "postgresql" else dbs.sqlite_target(scale)
        dbs.drop(t)
        print(f"dropped {t.name}")


def cmd_crash(args: argparse.Namespace) -> None:
    from tests.support import crash

    url = None
    if args.db == "postgresql":
        url = args.pg.rstrip("/") + "/postgres"
    outcome = crash.run(args.db, admin_url=url, seconds=args.seconds)
    print(outcome.describe())
    sys.exit(0 if outcome.ok else 1)


def cmd_flash(args: argparse.Namespace) -> None:
    from bench import flash

    for scale in args.reports:
        path = flash.run(args.db, scale, args.pg, Path(args.out), connections=args.connections,
                         prefix=f"{args.db_prefix}_bookings", capture=args.capture,
                         profile=Path(args.profile) if args.profile else None, pool_size=args.pool_size,
                         admission=args.admission, warm=args.warm)
        print(path.read_text())
        print(f"wrote {path}")


def cmd_burst(args: argparse.Namespace) -> None:
    from bench import activities

    for scale in args.reports:
        path = activities.run(args.db, scale, args.pg, args.residents, args.places, args.concurrency, args.workers,
                              Path(args.out))
        print(path.read_text())
        print(f"wrote {path}")


def cmd_streams(args: argparse.Namespace) -> None:
    import json

    from bench import streams

    for redis_url in [None, *args.redis]:
        res, info = streams.run(args.pg, args.reports[-1], args.streams, args.tracked, redis_url or None,
                                args.seconds, dbs.DATA_DIR / "run-streams", args.db_prefix, args.wrk_connections,
                                args.quiet_wait)
        d = res.as_dict()
        print(f"{res.broker}: {res.streams} streams, pid {res.pid} ({res.child_processes} child processes); RSS "
              f"{res.rss_before_kib:,} → {res.rss_open_kib:,} (open) → {res.rss_heartbeat_kib:,} (after a heartbeat) "
              f"→ {res.rss_after_steps_kib:,} KiB (after the steps): {d['per_stream_kib']} KiB/stream; "
              f"arrived {res.arrived}/{res.tracked}, delay ms {d['delay_ms']}; tracked steps ms {d['step_ms']}, "
              f"{res.step_errors} not 200; wrk accept {res.load.rps if res.load else 0:.0f} req/s, "
              f"errors {res.load.errors if res.load else '?'}; cores idle {res.idle_cpu}, stepping {res.steps_cpu}")
        out = dbs.DATA_DIR / f"streams-{res.broker}-{time.strftime('%Y%m%dT%H%M%S')}.json"
        out.write_text(json.dumps({"result": d, "delays_ms": sorted(res.delays_ms), "info": info}, indent=1))
        print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def common(q: argparse.ArgumentParser, reports: str = "10000,1000000") -> None:
        q.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
        q.add_argument("--reports", type=_scales, default=_scales(reports),
                       help="scales, comma-separated (10k, 1m or plain numbers); default %(default)s")
        q.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432",
                       help="PostgreSQL server (no database name); databases <prefix>_<scale> are created")
        q.add_argument("--db-prefix", default="weilinli_bench", help="database name prefix (default %(default)s)")

    r = sub.add_parser("run", help="seed (or reuse), serve, drive with wrk, write bench/results/<date>-<db>.md")
    common(r)
    r.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    r.add_argument("--connections", type=int, default=32)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--duration", type=float, default=12.0, help="seconds per endpoint (default 12)")
    r.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per endpoint (default 3)")
    r.add_argument("--reuse", action="store_true", help="reuse a database seeded at the same scale (after removing "
                                                        "what earlier runs wrote)")
    r.add_argument("--keep", action=argparse.BooleanOptionalAction, default=True,
                   help="keep the databases afterwards (default; --no-keep drops them)")
    r.add_argument("--only", help="comma-separated scenario names (baselines always run)")
    r.add_argument("--profile", default="auto", help="scenarios to profile with py-spy, 'auto' (the slowest read "
                                                     "and the slowest write) or 'none'")
    r.add_argument("--quiet-wait", type=float, default=180.0,
                   help="seconds to wait for other processes to calm down before each measurement (default 180); "
                        "a measurement disturbed by them is taken again, twice at most")
    r.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("seed", help="create, migrate and seed the benchmark databases")
    common(s)
    s.set_defaults(func=cmd_seed)

    d = sub.add_parser("drop", help="drop the benchmark databases")
    common(d)
    d.set_defaults(func=cmd_drop)

    st = sub.add_parser("streams", help="idle SSE streams on one process: memory, and step → event delay under load")
    st.add_argument("--db", choices=("postgresql",), default="postgresql")
    st.add_argument("--reports", type=_scales, default=_scales("10k"), help="scale of the seeded database")
    st.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    st.add_argument("--db-prefix", default="weilinli_bench", help="database name prefix (default %(default)s)")
    st.add_argument("--streams", type=int, default=2000)
    st.add_argument("--tracked", type=int, default=200)
    st.add_argument("--seconds", type=float, default=15.0, help="wrk accept window (default 15)")
    st.add_argument("--wrk-connections", type=int, default=32,
                    help="wrk's connections accepting other reports meanwhile (0: only the tracked steps)")
    st.add_argument("--quiet-wait", type=float, default=120.0,
                    help="seconds to wait for other processes to calm down before measuring (default 120)")
    st.add_argument("--redis", action="append", default=[],
                    help="also run with this REDIS_URL (repeatable; the in-process broker always runs first)")
    st.set_defaults(func=cmd_streams)

    c = sub.add_parser("crash", help="crash safety: SIGKILL the server during a burst of submissions, then check")
    c.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")
    c.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    c.add_argument("--seconds", type=float, default=1.5, help="burst length before the kill")
    c.set_defaults(func=cmd_crash)

    f = sub.add_parser("flash", help="the booking flash crowd (issue 15): 2,000 residents, 200 places, at once; "
                                     "writes bench/results/<date>-bookings-<db>.md")
    common(f, reports="10000")
    f.add_argument("--connections", type=int, default=64)
    f.add_argument("--capture", action="store_true", help="write the SQL of one 201 and one 409 beside the result "
                   "(the 201 is sent before the burst, which then has one place less)")
    f.add_argument("--pool-size", type=int, help="the server's database pool size (default: the app's, 20)")
    f.add_argument("--admission", type=int, help="requests the server works on at once (MAX_CONCURRENT_REQUESTS; "
                   "default: the app's, 16; 0: no limit)")
    f.add_argument("--warm", type=int, default=200,
                   help="before the burst, this many bookings of another service (a server that has been serving, "
                        "its pool's connections open and its statements prepared); 0: a cold server")
    f.add_argument("--profile", help="py-spy the server during the burst into this file "
                   "(.svg: a flame graph; .txt: collapsed stacks)")
    f.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    f.set_defaults(func=cmd_flash)
    b = sub.add_parser("burst", help="activity-signup flash crowd: residents sign up for one activity at once")
    common(b, reports="10000")
    b.add_argument("--residents", type=int, default=2000)
    b.add_argument("--places", type=int, default=200)
    b.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    b.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    b.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    b.set_defaults(func=cmd_burst)

    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
