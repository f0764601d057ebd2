"""A proposal's timeline and a project's milestones are insert-only in the database on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.deliberation.helpers import raise_proposal


@pytest.mark.parametrize(("table", "statement"), [
    ("proposal_events", "UPDATE {t} SET id = id"), ("proposal_events", "DELETE FROM {t}"),
    ("proposal_events", "TRUNCATE {t} CASCADE"), ("project_milestones", "TRUNCATE {t} CASCADE"),
])  # row triggers need a row: milestones (none here) are covered by the statement trigger
async def test_trails_refuse_update_delete_and_truncate(app, client, world, settings, table, statement):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite, the embedded single-user default, has no database-level guard")
    await raise_proposal(client, world)
    with pytest.raises(DBAPIError, match="insert-only"):
        async with app.state.db.engine.begin() as conn:
            await conn.execute(text(statement.format(t=table)))
