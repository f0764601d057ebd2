"""The hot reads run a fixed number of statements, whatever the data size (ARCHITECTURE.md, performance habits):
counted through SQLAlchemy's cursor events (every statement goes through SQLAlchemy Core)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.reports.factories import make_report


class Counter:
    def __init__(self, app):
        self.n = 0
        self.engine = app.state.db.engine.sync_engine

    def _cursor(self, *_args) -> None:
        self.n += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._cursor)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._cursor)


async def _count(app, client, headers, url) -> int:
    with Counter(app) as c:
        resp = await client.get(url, headers=headers)
    assert resp.status_code == 200, resp.text
    return c.n


@pytest.mark.parametrize("who, url, expected", [
    ("resident_a", "/api/v1/reports", 2),            # principal, page
    ("worker_in", "/api/v1/reports?state=submitted&state=accepted&overdue=false", 2),
    ("worker_in", "/api/v1/reports/counts", 2),      # principal, counts
    ("worker_in", "/api/v1/reports/{id}", 2),        # principal, report with its photos
    ("resident_a", "/api/v1/reports/{id}/timeline", 2),  # principal, facts with the events
])
async def test_hot_reads_run_a_fixed_number_of_statements(client, app, world, who, url, expected):
    first = await make_report(app, world, state="resolved", photo_ids=[])  # photos: tests/reports/test_photos*.py
    counts = []
    for _ in range(2):
        counts.append(await _count(app, client, world.headers(who), url.format(id=first.id)))
        for _ in range(5):  # five more reports, each with a timeline of four steps
            await make_report(app, world, state="in_progress")
    assert counts == [expected, expected]
