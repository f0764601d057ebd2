"""The `weilinli` console script: serve, migrate, demo, create-admin, worker, rollups rebuild, openapi."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from app.core.config import get_settings


def proxy_options(settings) -> dict:
    """uvicorn's own X-Forwarded-For handling stays off: the app applies it (BEHIND_PROXY, from FORWARDED_ALLOW_IPS
    only; app/core/ratelimit.install), so the rule holds however it is served. Without it the client address is the
    peer's (rate limits, login throttling and the access log use it)."""
    return {"proxy_headers": False}


def _serve(host: str, port: int, workers: int | None) -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run("app.main:app", host=host, port=port, workers=workers or settings.web_concurrency,
                **proxy_options(settings), log_config=None)


def cmd_migrate(_: argparse.Namespace) -> None:
    from app.db.migrate import upgrade

    upgrade()
    print("database migrated to head")


def cmd_serve(args: argparse.Namespace) -> None:
    _serve(args.host, args.port, args.workers)


async def _seed_demo() -> tuple[list, bool]:
    """The demo accounts, and whether they were created now (False: the database already had its data)."""
    from app.db.session import Database
    from app.demo import existing_accounts, seed

    settings = get_settings()
    db = Database(settings)
    try:
        async with db.session(write=True) as session:
            accounts = await seed(session, settings)
            if accounts is not None:
                return accounts, True
            return await existing_accounts(session), False
    finally:
        await db.dispose()


async def _serve_with_worker(host: str, port: int) -> None:
    """uvicorn and the worker in one process and one event loop: a signal that stops the server stops the worker
    with it, so nothing is left behind (uvicorn re-raises the signal once it has shut down)."""
    import uvicorn

    from app.main import app  # the app uvicorn serves (built once): the worker wakes its live streams
    from app.worker.runner import run_forever

    settings = get_settings()
    server = uvicorn.Server(uvicorn.Config("app.main:app", host=host, port=port, **proxy_options(settings),
                                           log_config=None))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_forever(settings, stop=stop, broker=app.state.broker))
    try:
        await server.serve()
    finally:
        stop.set()
        await worker


def cmd_demo(args: argparse.Namespace) -> None:
    from app.db.migrate import upgrade

    settings = get_settings()
    print(f"database: {settings.database_url}")
    upgrade()
    accounts, created = asyncio.run(_seed_demo())
    if created:
        print("demo community loaded. Accounts (role, phone, password, where):")
    elif accounts:
        print("demo: the database already has its data; the demo accounts (unless their passwords were changed):")
    else:
        print("demo: the database has data but none of the demo accounts; log in with the accounts you created "
              "(`weilinli create-admin` makes an admin)")
    for a in accounts:
        print(f"  {a.role:<12} {a.phone}  {a.password:<16} {a.name} — {a.where}")
    print(f"serving on http://{args.host}:{args.port}  (interactive docs: http://{args.host}:{args.port}/docs)")
    asyncio.run(_serve_with_worker(args.host, args.port))


async def _create_admin(args: argparse.Namespace, password: str) -> int:
    from app.db.session import Database
    from app.org import service as org_service
    from app.org.models import GridLevel
    from app.users import service as users_service
    from app.users.models import Role

    settings = get_settings()
    db = Database(settings)
    try:
        async with db.session(write=True) as session:
            scope_id = args.scope_grid_id
            if scope_id is None:
                street = await org_service.add_node(session, parent=None, level=GridLevel.street, name=args.new_street)
                scope_id = street.id
            user = await users_service.create_user(session, settings, phone=args.phone, password=password,
                                                   display_name=args.name, role=Role.admin, scope_grid_id=scope_id)
            return user.id
    finally:
        await db.dispose()


def cmd_create_admin(args: argparse.Namespace) -> None:
    from pydantic import TypeAdapter, ValidationError

    from app.core.errors import AppError
    from app.core.validators import Password, Phone

    password = os.environ.get("WEILINLI_ADMIN_PASSWORD") or getpass.getpass("password: ")
    try:
        TypeAdapter(Phone).validate_python(args.phone)
        TypeAdapter(Password).validate_python(password)
    except ValidationError as exc:
        sys.exit(f"create-admin: {exc.errors()[0]['msg']}")
    try:
        user_id = asyncio.run(_create_admin(args, password))
    except AppError as exc:
        sys.exit(f"create-admin: {exc.code} {exc.details or ''}")
    print(f"admin created: id={user_id} phone={args.phone}")


def cmd_worker(args: argparse.Namespace) -> None:
    from app.core.logging import configure_logging
    from app.worker.runner import run_forever

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_forever(settings, once=args.once))


def cmd_openapi(args: argparse.Namespace) -> None:
    from app.openapi import write_openapi

    path = write_openapi(Path(args.output))
    print(f"wrote {path}")


async def _rebuild_rollups(since: Any) -> Any:
    from app.db.session import make_engine
    from app.stats.rebuild import rebuild

    engine = make_engine(get_settings())
    try:
        return await rebuild(engine, since)
    finally:
        await engine.dispose()


def cmd_rollups_rebuild(args: argparse.Namespace) -> None:
    """Correct the figures' roll-ups from the reports (issue 20): idempotent, a month at a time, safe while the
    service runs."""
    from datetime import date

    since = date.fromisoformat(args.from_) if args.from_ else None
    out = asyncio.run(_rebuild_rollups(since))
    print(f"roll-ups rebuilt: {out.months} months, {out.reports} reports read, {out.cells_corrected} cells and "
          f"{out.buckets_corrected} histogram buckets corrected, {out.rows_compacted} slot rows compacted")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weilinli", description="微邻里 (Weilinli) service")
    sub = parser.add_subparsers(dest="command", required=True)

    def host_port(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("serve", help="serve the API with uvicorn")
    host_port(p)
    p.add_argument("--workers", type=int, default=None, help="default: WEB_CONCURRENCY")
    p.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply the database migrations").set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="migrate, load the demo community if empty, and serve")
    host_port(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("create-admin", help="create an admin (password from WEILINLI_ADMIN_PASSWORD or a prompt)")
    p.add_argument("--phone", required=True)
    p.add_argument("--name", required=True)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--scope-grid-id", type=int, help="the node of the grid tree the admin is scoped to")
    scope.add_argument("--new-street", help="create a new street (top of a tree) and scope the admin to it")
    p.set_defaults(func=cmd_create_admin)

    p = sub.add_parser("worker", help="run timed jobs (auto-close unrated reports ...); safe to run twice")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.set_defaults(func=cmd_worker)

    rollups = sub.add_parser("rollups", help="the figures' roll-ups").add_subparsers(dest="rollups", required=True)
    p = rollups.add_parser("rebuild", help="recompute the roll-ups from the reports (idempotent, in batches of a "
                                           "month, safe while the service runs)")
    p.add_argument("--from", dest="from_", metavar="DATE", help="first China day (YYYY-MM-DD) to rebuild; its "
                                                                  "whole month is rebuilt (default: everything)")
    p.set_defaults(func=cmd_rollups_rebuild)

    p = sub.add_parser("openapi", help="write the OpenAPI document")
    p.add_argument("--output", default="openapi/openapi.json")
    p.set_defaults(func=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
