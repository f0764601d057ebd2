"""Crash safety: the server is SIGKILLed during a burst of report submissions; afterwards every submission that
was answered 201 is in the database with `submit` as its first timeline event, and no report exists without its
submit event (the report and its event are one transaction).

The server is the real one (uvicorn, production settings) in its own process, on a scratch database of the kind
TEST_DATABASE_URL names (a SQLite file by default; with PostgreSQL, a database created on the same server and
dropped afterwards), migrated with Alembic. The work is in tests/support/crash.py (also `python -m bench crash`).
No timing is asserted: the burst lasts about a second and every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os

from tests.support import crash


async def test_sigkill_during_submissions_keeps_every_acknowledged_report(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or ""
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    outcome = await asyncio.to_thread(crash.run, kind, admin_url=url or None, seconds=1.0, workdir=tmp_path)
    report = outcome.describe()
    assert len(outcome.accepted) >= crash.MIN_ACCEPTED, report
    assert outcome.in_flight_at_kill > 0 and outcome.cut_off > 0, "the kill must land mid-burst\n" + report
    assert not outcome.other_failures, report
    assert outcome.missing == [], report
    assert outcome.first_event_not_submit == [], report
    assert outcome.without_event == [] and outcome.without_submit == [], report
    assert outcome.reports_in_db >= len(outcome.accepted), report
