"""The histograms' rows of CHUNK buckets (issue 20): bucket deltas become row deltas and back without a count lost
or moved, the migration moves the rows of one bucket each into rows of CHUNK buckets and back, exactly, and the
percentiles read a chunk at a time are the nearest ranks' buckets."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import MetaData, Table, delete, func, select

from app.reports.models import Report
from app.stats import queries, rollup_queries
from app.stats import rollup_math as rm
from app.stats.models import report_rollup_histograms
from tests.stats.factories import put_report
from tests.stats.rollup_helpers import drift, stored, stored_rows
from tests.stats.rollup_helpers import migration as rollup_migration

CELL = (2, 1, 2, 0, 0, 0, 3, rm.DAY, date(2026, 3, 1))


def test_bucket_deltas_become_one_row_per_cell_metric_and_chunk():
    hist = [((*CELL, rm.ACCEPT, 5), 2), ((*CELL, rm.ACCEPT, 17), 1), ((*CELL, rm.ACCEPT, 31), -1),
            ((*CELL, rm.RESOLVE, 5), 1), ((*CELL, rm.RESOLVE, 6), -1), ((*CELL, rm.RESOLVE, 6), 1)]
    rows = rm.chunked(hist)
    accept_0 = [0] * rm.CHUNK
    accept_0[5] = 2
    accept_1 = [0] * rm.CHUNK
    accept_1[1], accept_1[15] = 1, -1
    resolve_0 = [0] * rm.CHUNK
    resolve_0[5] = 1
    assert rows == [((*CELL, rm.ACCEPT, 0), accept_0), ((*CELL, rm.ACCEPT, 1), accept_1),
                    ((*CELL, rm.RESOLVE, 0), resolve_0)]
    assert rm.unchunked(1, accept_1) == [(17, 1), (31, -1)]


def test_a_delta_that_cancels_out_writes_no_row():
    assert rm.chunked([((*CELL, rm.ACCEPT, 40), 1), ((*CELL, rm.ACCEPT, 40), -1)]) == []


def test_chunks_keep_every_bucket_of_a_random_histogram():
    rnd = random.Random(20)
    hist: dict = {}
    for _ in range(500):
        hc = (*CELL[:6], rnd.randrange(8), rm.MONTH, CELL[8], rnd.choice((rm.ACCEPT, rm.RESOLVE)),
              rm.bucket_of(int(rnd.lognormvariate(12, 3))))
        hist[hc] = hist.get(hc, 0) + rnd.choice((1, 1, -1))
    rows = rm.chunked(sorted(hist.items()))
    back = {(*key[:-1], bucket): n for key, counts in rows for bucket, n in rm.unchunked(key[-1], counts)}
    assert back == {hc: n for hc, n in hist.items() if n}
    assert [key for key, _ in rows] == sorted({(*hc[:-1], hc[-1] // rm.CHUNK) for hc in back})


def test_percentiles_from_the_chunks_holding_the_ranks_are_the_nearest_ranks_buckets():
    """The one read returns only the chunks holding a percentile's rank, with the count before each:
    percentiles_in_chunks must find the same buckets as percentile_bucket over the whole histogram, given those
    chunks in any order, or every chunk."""
    rnd = random.Random(11)
    for trial in range(300):
        size = rnd.choice([1, 2, 3, 17, 200])
        histogram: dict[int, int] = {}
        for _ in range(size):
            bucket = max(0, min(400, int(rnd.gauss(rnd.choice([0, 15, 16, 31, 160]), 30 if trial % 2 else 2))))
            histogram[bucket] = histogram.get(bucket, 0) + 1
        total = sum(histogram.values())
        rows = [(key[-1], counts) for key, counts in rm.chunked([((0,) * 9 + (rm.ACCEPT, b), n)
                                                                  for b, n in histogram.items()])]
        chunks, before = [], 0
        for chunk, counts in sorted(rows):
            chunks.append((chunk, before, counts))
            before += sum(counts)
        want = tuple(rm.percentile_bucket(histogram, p) for p in rm.PERCENTILES)
        ranks = [(total * p + 99) // 100 for p in rm.PERCENTILES]
        holding = [c for c in chunks if any(c[1] < r <= c[1] + sum(c[2]) for r in ranks)]
        rnd.shuffle(holding)
        assert rm.percentiles_in_chunks(total, holding) == want, (histogram, holding)
        assert rm.percentiles_in_chunks(total, chunks) == want
    assert rm.percentiles_in_chunks(5, []) == (None, None)


async def test_the_migration_moves_one_bucket_rows_into_chunks_and_back(app, world):
    now = datetime.now(UTC)
    # durations from seconds to weeks: buckets in many chunks, several in one chunk, some reports sharing buckets
    for i, hours in enumerate((0.0001, 0.002, 0.05, 0.05, 0.5, 3.0, 3.1, 20.0, 70.0, 300.0)):
        created = (now - timedelta(days=40 - 3 * i)).isoformat()
        await put_report(app, world, created=created, state="closed", accepted=hours / 3, resolved=hours,
                         closed=hours + 1, rating=5, handler=world.d1)
    kept = await stored(app)
    _, buckets = await stored_rows(app)
    migration = rollup_migration("rollup_histogram_chunks")
    # the roll-ups as the previous migration left them: report_rollup_durations, one row per bucket
    durations = Table("report_rollup_durations", MetaData(), *migration.durations_columns())
    async with app.state.db.engine.begin() as conn:
        await conn.run_sync(durations.create)
        try:
            await conn.run_sync(migration.to_buckets)
            assert (await conn.execute(select(func.count()).select_from(durations))).scalar_one() == len(buckets)
            await conn.execute(delete(report_rollup_histograms))
            await conn.run_sync(migration.to_chunks)
            rows = (await conn.execute(select(func.count()).select_from(report_rollup_histograms))).scalar_one()
        finally:
            await conn.run_sync(durations.drop)
    assert rows < len(buckets)  # fewer rows than buckets: several buckets share a chunk
    _, after = await stored_rows(app)
    assert after == buckets
    assert await stored(app) == kept
    assert await drift(app) == ([], [])


async def test_the_percentiles_read_by_chunk_are_the_nearest_ranks_buckets(app, world):
    """The one read (PostgreSQL) finds the percentiles chunk by chunk, over month cells, day cells taken away and
    signed partial days; they must be exactly the buckets rollup_math.percentile_bucket finds in the period's
    reports' histogram (SQLite's path computes it in Python)."""
    rnd = random.Random(7)
    now = datetime.now(UTC)
    for _ in range(400):
        created = now - timedelta(hours=rnd.uniform(1, 24 * 120))
        hours = rnd.lognormvariate(1, 2.5)
        await put_report(app, world, created=created.isoformat(), state="resolved", accepted=hours / rnd.uniform(2, 9),
                         resolved=hours, place=rnd.choice([(world.c1, world.g1, world.b1),
                                                           (world.c2, world.g2, world.b3)]))
    t = Report.__table__
    for days_from, days_to in ((100.3, 0), (61.7, 2.4), (45.2, 13.9), (30, 0), (9.6, 1.1)):
        start, end = now - timedelta(days=days_from), now - timedelta(days=days_to)
        async with app.state.db.engine.connect() as conn:
            reports = (await conn.execute(select(*(t.c[f] for f in rm.FIELDS)).where(
                t.c.community_id == world.c1.id, t.c.created_at >= start, t.c.created_at < end))).mappings().all()
        want: dict[int, dict[int, int]] = {}
        for r in reports:
            for metric, bucket in rm.durations(r):
                want.setdefault(metric, {}).setdefault(bucket, 0)
                want[metric][bucket] += 1
        assert len(want.get(rm.RESOLVE, {})) > 5  # several buckets, in several chunks
        got = await rollup_queries.rolled(app.state.db.reader, queries.community_set(world.c1.id, start, end,
                                                                                     world.street.id),
                                          now, histogram=True)
        assert got is not None
        assert got.percentiles == {m: tuple(rm.percentile_bucket(h, p) for p in rm.PERCENTILES)
                                   for m, h in want.items()}, (days_from, days_to)
