"""The audit trail and the timeline are insert-only in the database on PostgreSQL (issue 13, item 17)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import service as audit
from tests.reports.factories import make_report


@pytest.mark.parametrize("table", ["audit_entries", "report_events"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}", "TRUNCATE {t} CASCADE"])
async def test_trails_refuse_update_delete_and_truncate(app, world, settings, table, statement):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite, the embedded single-user default, has no database-level guard")
    await make_report(app, world, state="accepted")
    async with app.state.db.session(write=True) as s:
        audit.record(s, None, "test.entry", "report", 1)
    with pytest.raises(DBAPIError, match="insert-only"):
        async with app.state.db.engine.begin() as conn:
            await conn.execute(text(statement.format(t=table)))
    async with app.state.db.engine.connect() as conn:
        assert (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() >= 1
