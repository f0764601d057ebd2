"""The worker's pass: jobs drain in batches, and a stop ends the pass between batches (issue 13, item 4)."""

from __future__ import annotations

import asyncio

from app.worker import jobs, runner


async def test_stop_ends_the_pass_between_batches(app, settings, monkeypatch):
    stop = asyncio.Event()
    calls = {"first": 0, "second": 0}

    async def first(db, settings, now):
        calls["first"] += 1
        if calls["first"] == 2:
            stop.set()  # e.g. SIGTERM arrives while the second batch runs
        return 10  # always more to do: without the stop the pass would never end

    async def second(db, settings, now):
        calls["second"] += 1
        return 0

    monkeypatch.setattr(jobs, "JOBS", {"first": first, "second": second})
    monkeypatch.setattr(runner, "JOBS", jobs.JOBS)
    done = await asyncio.wait_for(runner.run_once(app.state.db, settings, stop=stop), timeout=10)
    assert done == {"first": 20, "second": 0} and calls == {"first": 2, "second": 0}


async def test_without_a_stop_every_job_drains(app, settings, monkeypatch):
    left = {"a": 3}

    async def a(db, settings, now):
        if left["a"] == 0:
            return 0
        left["a"] -= 1
        return 1

    monkeypatch.setattr(runner, "JOBS", {"a": a})
    assert await runner.run_once(app.state.db, settings) == {"a": 3}


async def test_only_runs_the_named_jobs(app, settings, monkeypatch):
    calls = {"a": 0, "b": 0}

    def counting(name):
        async def job(db, settings, now):
            calls[name] += 1
            return 0
        return job

    monkeypatch.setattr(runner, "JOBS", {"a": counting("a"), "b": counting("b")})
    assert await runner.run_once(app.state.db, settings, only=("b",)) == {"b": 0}
    assert calls == {"a": 0, "b": 1}
