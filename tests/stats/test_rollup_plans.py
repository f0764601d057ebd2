"""The figures' one read is planned once per connection, for any values (reader.Prepared.generic: PostgreSQL's
generic plan on the generic pool). Such a plan cannot see how long the period is, so every part of the statement
must have one right plan whatever the values: these tests show PostgreSQL's generic plan of the one read, as the
generic pool's connections make it, and check that each part is an index range (no sequential scan, no parallel
workers), and that the live part reads a partial index of unannounced reports rather than every report of the
period (which a generic plan did at first: 50k reports for a community's year)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from app.db.reader import Prepared
from app.stats import queries, rollup_queries
from tests.stats.factories import FAR, put_report


class _Kept:
    """Rows that keep the statements they run (and run them on the app's Reader)."""

    def __init__(self, app):
        self.reader = app.state.db.reader
        self.dialect_name = self.reader.dialect_name
        self.kept: list[tuple[Any, dict[str, Any]]] = []

    async def all(self, stmt, params=None):
        self.kept.append((stmt, dict(params or {})))
        return await self.reader.all(stmt, params)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value.isoformat() if hasattr(value, "isoformat") else value).replace("'", "''") + "'"


async def _generic_plan(app, stmt: Prepared, params: dict[str, Any]) -> str:
    """EXPLAIN of the statement's generic plan, prepared as the app prepares it, on a generic pool connection.
    (Tiny tables: sequential scans are switched off for this transaction, so the plan shows the indexes.)"""
    compiled = stmt.stmt.compile(dialect=asyncpg_dialect())
    args = ", ".join(_literal(params[name]) for name in compiled.positiontup)
    async with app.state.db.generic_engine.connect() as conn:
        assert (await conn.execute(text("SELECT current_setting('plan_cache_mode')"))).scalar() == "force_generic_plan"
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        await conn.exec_driver_sql(f"PREPARE figure_plan AS {compiled.string}")
        try:
            rows = (await conn.exec_driver_sql(f"EXPLAIN EXECUTE figure_plan({args})")).all()
        finally:
            await conn.exec_driver_sql("DEALLOCATE figure_plan")
            await conn.rollback()
    return "\n".join(r[0] for r in rows)


async def _seed(app, world) -> None:
    now = datetime.now(UTC)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    for days in (400, 200, 40, 20, 3):
        await put_report(app, world, created=ago(days), state="closed", accepted=1.0, resolved=5.0, closed=6.0,
                         rating=4, handler=world.d1)
    await put_report(app, world, created=ago(9), state="submitted")  # past respond_by, not announced
    await put_report(app, world, created=ago(2), state="submitted", respond_by=FAR)
    async with app.state.db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


@pytest.mark.parametrize(("scope", "days", "grain"), [("community", 30, None), ("community", 365, None),
                                                      ("community", 30, "week"), ("street", 365, "month")])
async def test_the_generic_plan_of_the_one_read_is_index_ranges(app, world, settings, scope, days, grain):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("generic plans are PostgreSQL's; SQLite plans every statement when it is prepared")
    await _seed(app, world)
    now = datetime.now(UTC)
    start = now - timedelta(days=days) + timedelta(minutes=7)  # partial first and last days: both slices bound
    rs = (queries.street_set(world.street.id, start, now) if scope == "street"
          else queries.community_set(world.c1.id, start, now, world.street.id))
    kept = _Kept(app)
    got = await rollup_queries.rolled(kept, rs, now, group="day" if grain else None, grain=grain or "day",
                                      histogram=grain is None or scope == "street")
    assert got is not None
    (stmt, params), = kept.kept
    assert isinstance(stmt, Prepared) and stmt.generic
    plan = await _generic_plan(app, stmt, params)
    assert "$1" in plan, plan  # a generic plan: the values are parameters
    assert "Seq Scan" not in plan and "Gather" not in plan, plan
    for table in ("report_rollups", "report_rollup_histograms"):
        scans = [line for line in plan.splitlines() if f" on {table} " in line or line.endswith(f" on {table}")]
        assert scans or table == "report_rollup_histograms", plan
        assert all(f"Index Scan using pk_{table}" in line for line in scans), plan
    # the live part's scan: a partial index of open reports with a deadline, by due_at (at scale the scope's
    # ix_reports_<scope>_unannounced; on these tiny tables the planner may take the street's, ix_reports_due_at or
    # ix_reports_grid_open, the reports with a deadline, by due_at: seen in CI's full run), never a scope's
    # created_at index (every report of the scope, or of the period)
    live = " ".join(line for line in plan.split("CTE live", 1)[1].splitlines()[1:7] if "Scan" in line)
    partial = ("ix_reports_community_unannounced", "ix_reports_street_unannounced", "ix_reports_due_at",
               "ix_reports_grid_open")
    assert "_created" not in live and any(f" {index} " in live for index in partial), plan

