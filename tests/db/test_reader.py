"""The Reader gives the rows the session gives, for every kind of parameter: on PostgreSQL it sends SQLAlchemy's
compiled SQL straight to asyncpg (cached per statement shape), so a shape met again with other values must be
bound to those values."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    Column,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.db.reader import Prepared, Reader, SessionRows, carrying
from app.reports.models import Report, ReportEvent
from app.reports.queries import SUMMARY_COLUMNS
from tests.reports.factories import make_report


async def _both(app, stmt, params=None):
    """SQLAlchemy's own execution is the reference for the Reader and for SessionRows (both of which skip it on
    PostgreSQL)."""
    async with app.state.db.session(write=False) as s:
        expected = [dict(r) for r in (await s.execute(stmt, params)).mappings().all()]
        in_session = [dict(r) for r in await SessionRows(s).all(stmt, params)]
    got = [dict(r) for r in await app.state.db.reader.all(stmt, params)]
    assert got == expected and in_session == expected
    return got


async def test_same_rows_as_the_session_for_every_kind_of_parameter(app, world):
    reports = [await make_report(app, world, state=st) for st in ("submitted", "accepted", "resolved")]
    ids = [r.id for r in reports]
    late = datetime.now(UTC) + timedelta(days=1)
    cases = [
        select(*SUMMARY_COLUMNS).where(Report.id.in_(ids)).order_by(Report.id),            # IN list, subquery
        select(*SUMMARY_COLUMNS).where(Report.id.in_(ids[:1])),                            # same shape, 1 value
        select(*SUMMARY_COLUMNS).where(Report.id.in_(ids[1:])).order_by(Report.id.desc()),  # 2 values
        select(Report.id).where(Report.created_at < late, Report.resolve_by.is_(None)),     # aware datetime, NULL
        select(Report.id).where(tuple_(Report.created_at, Report.id) < tuple_(reports[-1].created_at, ids[-1])),
        select(Report.id).where(Report.title.ilike("%杂物%")),                              # LIKE
        select(ReportEvent.data, ReportEvent.photo_ids, ReportEvent.created_at)             # JSON, datetimes
        .where(ReportEvent.report_id == ids[-1]).order_by(ReportEvent.id),
        select(Report.id).where(Report.id.in_([])),                                          # empty IN
    ]
    results = [await _both(app, stmt) for stmt in cases]
    assert [r["id"] for r in results[0]] == sorted(ids)
    assert [r["id"] for r in results[1]] == ids[:1] and [r["id"] for r in results[2]] == sorted(ids[1:])[::-1]
    assert len(results[3]) == 1 and len(results[4]) == 2 and len(results[5]) == 3 and results[7] == []
    assert all(r["created_at"].tzinfo is not None for r in results[6])
    assert isinstance(results[6][0]["data"], dict) and isinstance(results[6][0]["photo_ids"], list)


async def test_a_cached_shape_takes_the_values_of_each_statement(app, world):
    a = await make_report(app, world, reporter="resident_a")
    b = await make_report(app, world, reporter="resident_b")
    for rid in (a.id, b.id, a.id):
        rows = await _both(app, select(Report.id, Report.reporter_id).where(Report.id == rid))
        assert [r["id"] for r in rows] == [rid]
    named = select(Report.id).where(Report.reporter_id == bindparam("who"))
    for who, expected in ((world.users["resident_a"].id, a.id), (world.users["resident_b"].id, b.id)):
        assert [r["id"] for r in await _both(app, named, {"who": who})] == [expected]


async def test_session_rows_see_the_transaction_s_own_writes(app, world):
    report = await make_report(app, world)
    async with app.state.db.session(write=True) as s:
        await s.execute(update(Report).where(Report.id == report.id).values(title="改过的标题"))
        rows = await SessionRows(s).all(select(Report.title).where(Report.id == report.id))
        assert rows[0]["title"] == "改过的标题"
        await s.rollback()
    after = await app.state.db.reader.all(select(Report.title).where(Report.id == report.id))
    assert after[0]["title"] != "改过的标题"


async def test_session_rows_writes_are_in_the_unit_of_work(app, world):
    """A write through SessionRows as the first statement of a unit of work is part of its transaction."""
    report = await make_report(app, world)
    stmt = update(Report).where(Report.id == report.id).values(title="未提交的标题", updated_at=report.updated_at)
    async with app.state.db.session(write=True) as s:
        assert len(await SessionRows(s).all(stmt.returning(Report.id))) == 1
        await s.rollback()
    after = await app.state.db.reader.all(select(Report.title).where(Report.id == report.id))
    assert after[0]["title"] == report.title


async def test_a_write_through_session_rows_gets_python_side_defaults(app, world):
    """SessionRows executes through SQLAlchemy, so onupdate (updated_at) is computed, never left NULL."""
    report = await make_report(app, world)
    async with app.state.db.session(write=True) as s:
        await SessionRows(s).all(update(Report).where(Report.id == report.id).values(title="x").returning(Report.id))
    after = await app.state.db.reader.all(select(Report.updated_at).where(Report.id == report.id))
    assert after[0]["updated_at"] is not None and after[0]["updated_at"] >= report.updated_at


def test_app_uses_no_private_attribute_of_another_object():
    """Only public APIs of our dependencies (issue 13, item 19): no `obj._name` in app/ except on self/cls."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    found = []
    for path in root.rglob("*.py"):
        if "versions" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {ast.unparse(node)}")
    assert found == []


async def test_sqlite_connections_keep_their_transaction_handling_after_the_reader(app, settings):
    """pysqlite's own transaction handling stays off (isolation_level None: the app emits BEGIN itself). Using
    SQLAlchemy's AUTOCOMMIT level for the Reader switched it back on when a connection went back to the pool."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("pysqlite's transaction handling")
    for _ in range(10):
        await app.state.db.reader.all(select(Report.id).limit(1))
    conns = [await app.state.db.engine.connect() for _ in range(5)]
    try:
        for conn in conns:
            assert (await conn.get_raw_connection()).driver_connection.isolation_level is None
    finally:
        for conn in conns:
            await conn.close()


async def test_the_reader_runs_a_generic_statement_on_the_generic_pool(app, settings):
    """Prepared(generic=True) runs where statements are planned once (PostgreSQL); others keep the main pool's
    custom plans. On SQLite both run on the one engine."""
    setting = select(text("current_setting('plan_cache_mode') AS mode"))
    if settings.database_url.startswith("sqlite"):
        same = select(text("1 AS one"))
        assert [dict(r) for r in await app.state.db.reader.all(Prepared(same, generic=True))] == [{"one": 1}]
        assert app.state.db.generic_engine is None
        return
    assert (await app.state.db.reader.all(Prepared(setting, generic=True)))[0]["mode"] == "force_generic_plan"
    assert (await app.state.db.reader.all(Prepared(setting)))[0]["mode"] == "auto"
    workers = select(text("current_setting('max_parallel_workers_per_gather') AS n"))
    assert (await app.state.db.reader.all(Prepared(workers, generic=True)))[0]["n"] == "0"


async def test_a_carried_write_runs_after_the_read_the_last_defined_first(app, world, settings):
    """reader.carrying: the read's rows, then its data-modifying CTEs, the last one defined first. The roll-ups'
    lock order (counters before histograms, rollups._carried) rests on that order: this fails if PostgreSQL's
    changes. A write carried by a read that finds nothing still runs (the caller rolls back: report_detail)."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("carried writes are PostgreSQL's (SQLite runs its statements one by one, no round trips)")
    report = await make_report(app, world)
    log = Table("carried_log", MetaData(), Column("n", Integer, Identity(), primary_key=True), Column("tag", String),
                prefixes=["TEMPORARY"])
    first = insert(log).values(tag=bindparam("first_tag")).cte("first")
    last = insert(log).values(tag=bindparam("last_tag")).cte("last")
    read = select(Report.title).where(Report.id == bindparam("report_id"))
    async with app.state.db.session(write=True) as s:
        await (await s.connection()).run_sync(log.create)
        got = await SessionRows(s).all(carrying(read, (first, last)),
                                       {"report_id": report.id, "first_tag": "a", "last_tag": "b"})
        assert [dict(r) for r in got] == [{"title": report.title}]
        order = await SessionRows(s).all(select(log.c.tag).order_by(log.c.n))
        assert [r["tag"] for r in order] == ["b", "a"]
        await s.rollback()
    assert carrying(read, ()).stmt is read  # nothing carried: the read itself


class _Held:
    """A stand-in engine for the Reader's generic pool: records the order reads get a connection and holds each
    until the test lets it go (no database: the order is the Reader's own)."""

    class dialect:  # noqa: N801 - the engine's attribute
        name = "postgresql"

    def __init__(self):
        self.order: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.inside = 0
        self.most = 0

    def execution_options(self, **_kw):
        return self

    def connect(self):
        engine = self

        class _Conn:
            async def __aenter__(self):
                engine.inside += 1
                engine.most = max(engine.most, engine.inside)
                return self

            async def __aexit__(self, *exc):
                engine.inside -= 1

            async def execute(self, _stmt, params):
                engine.order.append(params["who"])
                await engine.release.setdefault(params["who"], asyncio.Event()).wait()

                class _Result:
                    def mappings(self):
                        return self

                    def all(self):
                        return [{"who": params["who"]}]
                return _Result()
        return _Conn()


async def test_generic_reads_take_the_pool_s_connections_in_arrival_order():
    """The generic pool's waiters are served first come, first served: a read arriving as a connection comes back
    does not go before those already waiting. (SQLAlchemy's async pool hands a returned connection to whoever asks
    first, and a woken waiter that lost it waits again at the back: the street's year waited up to twice its
    median under load, docs/decisions.md, thirteenth pass.)"""
    engine = _Held()
    reader = Reader(engine, engine, generic_slots=2)  # type: ignore[arg-type]
    stmt = Prepared(select(text("1")), generic=True)

    def read(who: str) -> asyncio.Task:
        engine.release.setdefault(who, asyncio.Event())
        return asyncio.create_task(reader.all(stmt, {"who": who}))

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    tasks = [read("a"), read("b"), read("c"), read("d")]
    await settle()
    assert engine.order == ["a", "b"] and engine.inside == 2
    engine.release["a"].set()
    tasks.append(read("late"))  # arrives while c, d wait and a's connection comes back
    await settle()
    for who in ("b", "c", "d", "late"):
        engine.release[who].set()
        await settle()
    assert [r[0]["who"] for r in await asyncio.gather(*tasks)] == ["a", "b", "c", "d", "late"]
    assert engine.order == ["a", "b", "c", "d", "late"]
    assert engine.most == 2


async def test_a_generic_read_waits_for_its_turn_no_longer_than_for_the_pool():
    """A read that finds every turn taken fails after `generic_wait` with the pool's own error, as it did when it
    waited for the pool; the turn it never got is not lost: the next read runs once the first is done."""
    engine = _Held()
    reader = Reader(engine, engine, generic_slots=1, generic_wait=0.05)  # type: ignore[arg-type]
    stmt = Prepared(select(text("1")), generic=True)
    first = asyncio.create_task(reader.all(stmt, {"who": "first"}))
    for _ in range(5):
        await asyncio.sleep(0)
    with pytest.raises(PoolTimeout):
        await reader.all(stmt, {"who": "late"})
    engine.release["first"].set()
    assert (await first)[0]["who"] == "first"
    engine.release["next"] = asyncio.Event()
    engine.release["next"].set()
    assert (await asyncio.wait_for(reader.all(stmt, {"who": "next"}), 1))[0]["who"] == "next"
    assert engine.order == ["first", "next"] and engine.most == 1
