"""Roll-ups of the report figures, in pure Python: what one report adds to them, how a step changes that, the
duration histograms' buckets, and percentiles read back from a histogram. No I/O (the statements are in
app/stats/rollups.py).

**What is counted.** A report adds its *contribution* to the cells of the day it was created on (China time) and
of that day's month (a street's also to the cell of that hour): one report, its current state, whether it was
accepted, responded on time, resolved (first time, in time), rated, satisfied, reopened, auto-closed, and its time
to accept and to resolve in a histogram.
The cells are keyed by the report's place, category and current handling department at several cuts (below).
A step replaces the report's contribution: `delta(old row, new row)` subtracts the old one and adds the new,
so a step that changes the key (a dispatch to another department, a return, a rating that sends the report
back to intake) decrements the old key's cells and increments the new key's; a step that changes nothing
counted (hide, supervise, a note) writes nothing. So at every commit the roll-ups equal the sum of the
contributions of the reports as they are: exactly what the figures over `created_at in [from, to)` count,
and what a rebuild recomputes.

**The clock.** Overdue now, and a report still waiting past respond_by counting as due, depend on the clock, not
on a step. What the roll-ups hold of them is what the worker has *announced*: its overdue sweep
(reports.service.announce_overdue) sets `overdue_notified_for = due_at` once a report's deadline has passed, and
applies that change of the report's contribution in the same transaction. A report counts in `overdue` while it
is open and its current deadline (its `due`: respond_by while submitted, resolve_by while accepted, dispatched or
in progress, none otherwise; the column reports.due_at) is the one announced, and in `late_waiting` when, besides,
it is still submitted and unanswered. An announcement happens only once the deadline is past and time only moves
forward, so `overdue_notified_for == due` implies `due < now`; a step that changes the deadline (a response, an
extension, a resolution) changes `due`, so the report leaves `overdue` in that step's own delta. What the worker has
not announced yet (deadlines passed since its last run) is read live from the set's open reports with
`overdue_notified_for IS DISTINCT FROM due_at` and `due_at < now`, through small partial indexes
(rollup_queries; decisions.md, issue 20).

**Histograms.** Durations in milliseconds go into fixed log-spaced buckets: bucket 0 is [0, 1 s); bucket k >= 1
is [1.04^(k-1), 1.04^k) seconds. A bucket is reported as its geometric midpoint 1.04^(k-1/2) s, within
sqrt(1.04) - 1 < 1.98 % of every duration in it, so a percentile read from the histogram (the midpoint of the
bucket holding the nearest-rank value) is within 1.98 % of the exact nearest-rank percentile. Durations under
one second are reported as 0.5 s. The buckets are stored CHUNK to a row (`chunked`): the computations here are
per bucket, the rows only how they are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, NamedTuple

RATIO = 1.04
MAX_RELATIVE_ERROR = math.sqrt(RATIO) - 1  # 0.0198: a bucket's midpoint against any value in it
_LOG_RATIO = math.log(RATIO)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

# time grains of a cell: a China day, the calendar month starting on `day`, or an hour of the China day `day` (its
# slot is hour * SLOTS + the spread: HOUR_CUTS, below)
DAY, MONTH, HOUR = 1, 2, 3
# cuts: which of the key's columns a cell keeps (the others are 0)
FINE = 1         # street, community, grid, category, department: filters, grids, communities' departments
COMMUNITY = 2    # street, community: a community's figures and series
STREET = 3       # street: a street's figures and series
STREET_DEPT = 4  # street, department: a street's ranking of departments (a report no department handles has none)
CUTS = (FINE, COMMUNITY, STREET, STREET_DEPT)
HISTOGRAM_CUTS = (FINE, COMMUNITY, STREET)  # the ranking has no durations
# Cuts with HOUR cells too: a street's partial days (the first day of "the 365 days up to now", and today when `to`
# is a moment before now) are read as hour cells and at most an hour of its reports instead of up to a day of them
# (read_plan; decisions.md, issue 20, seventh pass). A community's day is ~50x smaller: its partial days stay with
# its reports.
HOUR_CUTS = (STREET,)
NO_DEPARTMENT = 0  # a report no department handles (the key columns are never NULL: they are upsert targets)

ACCEPT, RESOLVE = 1, 2  # the histograms' metric: time to accept, time to resolve (from created_at)

STATES = ("submitted", "accepted", "rejected", "withdrawn", "dispatched", "in_progress", "resolved", "closed",
          "merged")
DONE = ("resolved", "closed")
SATISFIED_FROM = 4

COUNTERS = (
    "n",                    # reports
    *(f"st_{s}" for s in STATES),  # reports per current state
    "accepted",             # accepted_at set
    "responded",            # responded_at set (accepted or rejected)
    "on_time",              # responded_at <= respond_by
    "resolved",             # state resolved or closed
    "resolved_first_time",  # accepted_at set, resolved or closed, reopen_count = 0
    "resolved_in_time",     # resolved or closed, resolved_at <= resolve_by
    "rated",                # rating set
    "satisfied",            # rating >= 4
    "reopened",             # reopen_count > 0
    "auto_closed",          # closed automatically
    "resolve_n",            # resolved_at set (the time-to-resolve histogram's count)
    "accept_ms",            # sum of accepted_at - created_at, milliseconds
    "resolve_ms",           # sum of resolved_at - created_at, milliseconds
    "overdue",              # open, and its current deadline announced past (overdue_notified_for == due)
    "late_waiting",         # overdue, still submitted and unanswered (responded_at not set)
)
KEY = ("cut", "street_id", "community_id", "grid_id", "category_id", "department_id", "slot", "grain", "day")
HISTOGRAM_KEY = (*KEY, "metric", "bucket")
# the primary keys' column order: a cut's constant columns first (the "every" zeros and the community), so a read
# of one community's or one street's cells is one index range on (grain, day)
PRIMARY_KEY = ("cut", "community_id", "grid_id", "category_id", "department_id", "street_id", "grain", "day", "slot")
# A community's and a street's cells of today are shared by every step of their reports: concurrent steps would queue
# on those few rows until COMMIT. Those cuts are spread over SLOTS rows (the report id modulo SLOTS: fixed for the
# report's life), which every read sums; the fine cut is spread thin by its own key and keeps slot 0.
SLOTS = 8
# the report columns a contribution is made of
FIELDS = ("id", "street_id", "community_id", "grid_id", "category_id", "handler_department_id", "created_at", "state",
          "accepted_at", "responded_at", "respond_by", "resolved_at", "resolve_by", "rating", "reopen_count",
          "auto_closed", "overdue_notified_for")
# the FIELDS a report's cells are made of (cells())
CELL_FIELDS = ("id", "street_id", "community_id", "grid_id", "category_id", "handler_department_id", "created_at")
OPEN_RESOLVING = ("accepted", "dispatched", "in_progress")  # states whose deadline is resolve_by (reports.due_at)

Cell = tuple[int, int, int, int, int, int, int, int, date]   # KEY's values
HistCell = tuple[int, int, int, int, int, int, int, int, date, int, int]  # HISTOGRAM_KEY's: a cell, metric, bucket
# A histogram is stored CHUNK buckets to a row: (cell, metric, chunk) with the counts of buckets chunk * CHUNK + k
# in the columns BUCKETS[k]. A year's figures read ~8x fewer rows than with a row per bucket (decisions.md, issue 20,
# sixth pass); a step still writes one row per cell and metric.
CHUNK = 16
BUCKETS = tuple(f"b{k}" for k in range(CHUNK))
CHUNK_KEY = (*KEY, "metric", "chunk")
ChunkCell = tuple[int, int, int, int, int, int, int, int, date, int, int]  # CHUNK_KEY's values


# ---- days ------------------------------------------------------------------------------------------------------


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """The UTC moment a China day starts."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ---- histograms ------------------------------------------------------------------------------------------------


def bucket_of(ms: int) -> int:
    """The histogram bucket of a duration in milliseconds (negative ones, which a clock skew could make, in 0)."""
    if ms < 1000:
        return 0
    return 1 + math.floor(math.log(ms / 1000) / _LOG_RATIO)


def bucket_value(bucket: int) -> float:
    """The seconds a bucket stands for: its geometric midpoint (0.5 s for bucket 0)."""
    if bucket <= 0:
        return 0.5
    return float(RATIO ** (bucket - 0.5))


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """[low, high) in seconds."""
    if bucket <= 0:
        return 0.0, 1.0
    return float(RATIO ** (bucket - 1)), float(RATIO ** bucket)


PERCENTILES = (50, 90)  # the published ones: median and p90


def nearest_rank(n: int, percent: int) -> int:
    """ceil(percent/100 · n) in integer arithmetic: the nearest rank of a percentile among n values."""
    return (n * percent + 99) // 100


def percentile_bucket(histogram: Mapping[int, int], percent: int) -> int | None:
    """The bucket holding the nearest-rank percentile (the value at rank ceil(percent/100 · n), ascending); None
    for an empty histogram. rollup_queries' one read finds the chunks holding the ranks in SQL (a running sum over
    the chunks), percentiles_in_chunks the buckets in them."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = nearest_rank(n, percent)
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return max(histogram)  # not reached with non-negative counts


def percentiles_in_chunks(total: int, chunks: Iterable[tuple[int, int, Sequence[int]]]) -> tuple[int | None, ...]:
    """percentile_bucket for each of PERCENTILES, from a histogram of `total` durations given only by the chunks
    holding the ranks: (chunk, the count of the buckets before the chunk, its CHUNK buckets' counts), any order
    (rollup_queries' one read finds them in SQL). The first chunk whose running sum reaches the rank holds it;
    in it, the first bucket whose running sum does. None where no chunk given holds the rank."""
    ordered = sorted((chunk, before, before + sum(counts), counts) for chunk, before, counts in chunks)
    out: list[int | None] = []
    for percent in PERCENTILES:
        rank = nearest_rank(total, percent)
        out.append(next((_bucket_in(chunk, before, counts, rank) for chunk, before, running, counts in ordered
                         if before < rank <= running), None))
    return tuple(out)


def _bucket_in(chunk: int, before: int, counts: Sequence[int], rank: int) -> int:
    """The bucket of a chunk where the running sum from `before` reaches `rank` (its last one if none does)."""
    seen = before
    for k, n in enumerate(counts):
        seen += n
        if seen >= rank:
            return chunk * CHUNK + k
    return chunk * CHUNK + len(counts) - 1


def percentile(histogram: Mapping[int, int], percent: int) -> float | None:
    """The nearest-rank percentile as its bucket's midpoint, in seconds; None for an empty histogram."""
    bucket = percentile_bucket(histogram, percent)
    return None if bucket is None else bucket_value(bucket)


def millis(end: datetime, begin: datetime) -> int:
    return round((end - begin).total_seconds() * 1000)


# ---- one report's contribution ---------------------------------------------------------------------------------


def due(r: Mapping[str, Any]) -> datetime | None:
    """The deadline the report waits on (reports.due_at): respond_by while submitted, resolve_by while accepted,
    dispatched or in progress, None otherwise (not open)."""
    state = r["state"]
    if state == "submitted":
        return r["respond_by"]  # type: ignore[no-any-return]
    if state in OPEN_RESOLVING:
        return r["resolve_by"]  # type: ignore[no-any-return]
    return None


def counters(r: Mapping[str, Any]) -> dict[str, int]:
    """What one report (a mapping of FIELDS) adds to its cells."""
    state = r["state"]
    done = state in DONE
    accepted = r["accepted_at"] is not None
    rating = r["rating"]
    out = dict.fromkeys(COUNTERS, 0)
    out["n"] = 1
    out[f"st_{state}"] = 1
    out["accepted"] = int(accepted)
    out["responded"] = int(r["responded_at"] is not None)
    out["on_time"] = int(r["responded_at"] is not None and r["responded_at"] <= r["respond_by"])
    out["resolved"] = int(done)
    out["resolved_first_time"] = int(accepted and done and r["reopen_count"] == 0)
    out["resolved_in_time"] = int(done and r["resolved_at"] is not None and r["resolve_by"] is not None
                                  and r["resolved_at"] <= r["resolve_by"])
    out["rated"] = int(rating is not None)
    out["satisfied"] = int(rating is not None and rating >= SATISFIED_FROM)
    out["reopened"] = int(r["reopen_count"] > 0)
    out["auto_closed"] = int(bool(r["auto_closed"]))
    deadline = due(r)
    if deadline is not None and r["overdue_notified_for"] == deadline:  # announced past (module docstring)
        out["overdue"] = 1
        out["late_waiting"] = int(state == "submitted" and r["responded_at"] is None)
    if accepted:
        out["accept_ms"] = millis(r["accepted_at"], r["created_at"])
    if r["resolved_at"] is not None:
        out["resolve_n"] = 1
        out["resolve_ms"] = millis(r["resolved_at"], r["created_at"])
    return out


def durations(r: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(metric, bucket) of the report's time to accept and to resolve, where it has them."""
    out = []
    if r["accepted_at"] is not None:
        out.append((ACCEPT, bucket_of(millis(r["accepted_at"], r["created_at"]))))
    if r["resolved_at"] is not None:
        out.append((RESOLVE, bucket_of(millis(r["resolved_at"], r["created_at"]))))
    return out


def cells(r: Mapping[str, Any], cuts: Iterable[int] = CUTS) -> list[Cell]:
    """The cells a report counts in: each cut, for its China day and that day's month, and the HOUR_CUTS for the
    hour of that day too (slot hour * SLOTS + spread). No STREET_DEPT cells for a report no department handles:
    the only read of that cut, the ranking of departments, leaves "no department" out, so those rows were written
    by every step of an undispatched report and never read (decisions.md, issue 20, twelfth pass)."""
    s, c, g, k = r["street_id"], r["community_id"], r["grid_id"], r["category_id"]
    d = r["handler_department_id"] or NO_DEPARTMENT
    keys = {FINE: (s, c, g, k, d), COMMUNITY: (s, c, 0, 0, 0), STREET: (s, 0, 0, 0, 0),
            STREET_DEPT: (s, 0, 0, 0, d)}
    moment = r["created_at"].astimezone(CHINA)
    day = moment.date()
    spread = r["id"] % SLOTS
    out: list[Cell] = []
    for cut in cuts:
        if cut == STREET_DEPT and d == NO_DEPARTMENT:
            continue
        slot = 0 if cut == FINE else spread
        out += [(cut, *keys[cut], slot, DAY, day), (cut, *keys[cut], slot, MONTH, month_of(day))]
        if cut in HOUR_CUTS:
            out.append((cut, *keys[cut], moment.hour * SLOTS + slot, HOUR, day))
    return out


def base_slot(slot: int) -> int:
    """The slot a cell's spread rows are compacted into: 0 for a day's or a month's cell, hour * SLOTS for an
    hour's (app/stats/compaction.py)."""
    return slot - slot % SLOTS


def add(totals: dict[Cell, dict[str, int]], hist: dict[HistCell, int], r: Mapping[str, Any], sign: int = 1) -> None:
    """Add (sign 1) or take away (sign -1) a report's contribution."""
    values = counters(r)
    for cell in cells(r):
        into = totals.setdefault(cell, dict.fromkeys(COUNTERS, 0))
        for name, v in values.items():
            if v:
                into[name] += sign * v
    spans = durations(r)
    for cell in cells(r, HISTOGRAM_CUTS):
        for metric, bucket in spans:
            hc = (*cell, metric, bucket)
            hist[hc] = hist.get(hc, 0) + sign


def delta(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) \
        -> tuple[list[tuple[Cell, dict[str, int]]], list[tuple[HistCell, int]]]:
    """What a change of one report (None: it did not exist / does not any more) does to the roll-ups: the
    counter deltas per cell and the histogram deltas per bucket, zeros left out, sorted by cell (every writer
    locks the rows in the same order)."""
    shared = shared_delta(old, new) if old is not None and new is not None else None
    return delta_many([(old, new)]) if shared is None else expanded(shared)


def delta_many(changes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]) \
        -> tuple[list[tuple[Cell, dict[str, int]]], list[tuple[HistCell, int]]]:
    """delta() of several reports' changes at once, summed per cell, sorted by cell: a writer changing many
    reports in one transaction (the worker's overdue sweep) locks each cell once, in the same order as every step."""
    totals: dict[Cell, dict[str, int]] = {}
    hist: dict[HistCell, int] = {}
    for old, new in changes:
        if old is not None:
            add(totals, hist, old, -1)
        if new is not None:
            add(totals, hist, new, 1)
    changed = sorted((cell, v) for cell, v in totals.items() if any(v.values()))
    return changed, sorted((hc, n) for hc, n in hist.items() if n)


class SharedDelta(NamedTuple):
    """A step that keeps the report's cells (most steps: only a dispatch or a return moves them): the same counter
    deltas in each of its cells, and the same bucket deltas in each of its HISTOGRAM_CUTS cells."""

    cells: list[Cell]                       # sorted (the order every writer locks them in)
    diff: dict[str, int]                    # per COUNTERS; all zero: no counter changes
    spans: list[tuple[int, int, int]]       # (metric, bucket, n), n != 0, sorted


def shared_delta(old: Mapping[str, Any], new: Mapping[str, Any]) -> SharedDelta | None:
    """The change's deltas when the step keeps the report's cells, computed once for all of them; None when the
    cells differ (the fields they are made of, CELL_FIELDS, differ)."""
    if any(old[f] != new[f] for f in CELL_FIELDS):
        return None
    before, after = counters(old), counters(new)
    spans: dict[tuple[int, int], int] = {}
    for span in durations(old):
        spans[span] = spans.get(span, 0) - 1
    for span in durations(new):
        spans[span] = spans.get(span, 0) + 1
    return SharedDelta(sorted(cells(old)), {name: after[name] - before[name] for name in COUNTERS},
                       sorted((metric, bucket, n) for (metric, bucket), n in spans.items() if n))


def expanded(shared: SharedDelta) -> tuple[list[tuple[Cell, dict[str, int]]], list[tuple[HistCell, int]]]:
    """delta() from a shared_delta: the shared deltas put in each cell."""
    changed = [(cell, dict(shared.diff)) for cell in shared.cells] if any(shared.diff.values()) else []
    hist = [((*cell, metric, bucket), n) for cell in shared.cells if cell[0] in HISTOGRAM_CUTS
            for metric, bucket, n in shared.spans]
    return changed, hist


def chunked_spans(spans: Iterable[tuple[int, int, int]]) -> list[tuple[tuple[int, int], list[int]]]:
    """A SharedDelta's bucket deltas as one cell's stored rows' deltas: ((metric, chunk), CHUNK counts), rows of
    zeros left out, sorted (chunked() for one cell)."""
    return _chunk_rows(((metric, bucket), n) for metric, bucket, n in spans)


def stepped(old: Mapping[str, Any], state: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The report's FIELDS after a step to `state` with `changes` (columns outside FIELDS are ignored)."""
    new = {f: old[f] for f in FIELDS}
    new.update({k: v for k, v in changes.items() if k in new})
    new["state"] = state
    return new


def chunked(hist: Iterable[tuple[HistCell, int]]) -> list[tuple[ChunkCell, list[int]]]:
    """Bucket deltas as the stored rows' deltas: per (cell, metric, chunk), the CHUNK buckets' counts, rows of
    zeros left out, sorted (so every writer locks them in the same order: a cell's rows in HistCell order)."""
    return _chunk_rows(hist)


def _chunk_rows(hist: Iterable[tuple[Any, int]]) -> list[tuple[Any, list[int]]]:
    """chunked() for keys of any length ending with the bucket."""
    rows: dict[Any, list[int]] = {}
    for hc, n in hist:
        key = (*hc[:-1], hc[-1] // CHUNK)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0] * CHUNK
        row[hc[-1] % CHUNK] += n
    return sorted((key, row) for key, row in rows.items() if any(row))


def unchunked(chunk: int, counts: Iterable[int]) -> list[tuple[int, int]]:
    """A stored row's non-zero (bucket, n), from its chunk and its BUCKETS' counts."""
    return [(chunk * CHUNK + k, int(n)) for k, n in enumerate(counts) if n]


# ---- reading back: which cells cover a period ------------------------------------------------------------------


def segments(first: date, last: date, months: bool = True) -> list[tuple[int, date, date]]:
    """The cells covering the China days [first, last) (last excluded): (grain, from, to) ranges of `day`,
    whole calendar months as MONTH cells (when `months`), the days before and after them as DAY cells. Three
    ranges, some possibly empty (from == to), so a statement has one shape."""
    if first >= last:
        return [(DAY, first, first), (MONTH, first, first), (DAY, first, first)]
    if not months:
        return [(DAY, first, last), (MONTH, first, first), (DAY, last, last)]
    m_first = first if first.day == 1 else next_month(first)
    m_last = month_of(last)
    if m_first >= m_last:  # no whole month inside
        return [(DAY, first, last), (MONTH, first, first), (DAY, last, last)]
    return [(DAY, first, m_first), (MONTH, m_first, m_last), (DAY, m_last, last)]


def sum_counters(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for name in COUNTERS:
            out[name] += int(row[name] or 0)
    return out


def whole_days(start: datetime, end: datetime, now: datetime) \
        -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """How a period [start, end) splits into whole China days [first, last) read from the roll-ups and the
    slices of time left over (a partial first or last day), read from the reports. A day is whole when the period
    holds all of it, or all of it up to now (so a period ending now reads today from the roll-ups: they hold
    every report committed so far)."""
    s_day = china_day(start)
    first = s_day if start == day_start(s_day) else s_day + timedelta(days=1)
    tail: tuple[datetime, datetime] | None = None
    if end >= now:
        last = china_day(now) + timedelta(days=1)
    else:
        last = china_day(end)
        if end > day_start(last):
            tail = (day_start(last), end)
    if first >= last:
        return first, first, [(start, end)]
    head = (start, day_start(first)) if start < day_start(first) else None
    return first, last, [x for x in (head, tail) if x is not None]


Slice = tuple[datetime, datetime, int]        # reports created in [from, to), added (1) or taken away (-1)
HourRange = tuple[date, int, int, int]         # a day's HOUR cells of hours [from, to), added or taken away


_AN_HOUR = timedelta(hours=1)


class ReadPlan(NamedTuple):
    first: date                 # the whole China days [first, last), read from DAY and MONTH cells
    last: date
    hours: list[HourRange]      # HOUR cells (with `hours` only)
    slices: list[Slice]         # the reports read as they are


def read_plan(start: datetime, end: datetime, now: datetime, hours: bool = False,
              snapshot: bool = False) -> ReadPlan:
    """whole_days, each slice signed: +1 for reports added, -1 for reports taken away. A partial first day, and a
    partial last day before today, are read as the day's cell minus the reports of the day outside the period
    when that part of the day is the shorter one: "the 365 days up to now" asked at 01:00 reads the first day's
    cell and one hour of its reports instead of 23 hours of them (a street's day is ~2.7k reports at the bench's
    scale). With `hours` (a cut of HOUR_CUTS), such a day is read from its hour cells and at most half an hour of
    its reports instead (_by_hours), and today's part (a period ending a moment before now, as a client's `to`
    does) from today's past hours and the reports of the current one. A day before today gets no new reports, so
    its cells and its reports agree even when a read takes them in several statements (SQLite); today's part is
    taken away only by a read of one `snapshot` (one PostgreSQL statement: cells and reports as of one moment):
    across several statements a report committed between two of them could be missed by both or, taken away,
    counted -1. With `snapshot`, today up to a moment before now is today's cell minus the reports created since
    the end, when those are fewer than the part's (and, with `hours`, at most an hour of them): "the 365 days up to
    a second ago" then reads the current month's cell as it is, whatever the hour, instead of today's hour cells
    (~160 histogram rows of a street at 22:00) or its reports."""
    first, last, slices = whole_days(start, end, now)
    if first >= last:
        return ReadPlan(first, last, [], [(lo, hi, 1) for lo, hi in slices])
    out: list[Slice] = []
    by_hour: list[HourRange] = []
    today = china_day(now)
    for lo, hi in slices:
        head = hi == day_start(first)  # the partial first day, [lo, its end); else the last, [its start, hi)
        since = now - hi  # today's reports after the end (to a snapshot, those committed by then)
        if snapshot and not head and last == today and since < (min(hi - lo, _AN_HOUR) if hours else hi - lo):
            out.append((hi, day_start(today + timedelta(days=1)), -1))  # today's cell minus them
            last = today + timedelta(days=1)
            continue
        if hours and not head and last == today:  # today's hours so far, and the reports of the hour not over
            _, hour_range, part = _by_hours(last, lo, hi, today=True)
            by_hour.append(hour_range)
            out += part
            continue
        if head or last < today:
            day = first - timedelta(days=1) if head else last
            if hours:
                whole, hour_range, part = _by_hours(day, lo, hi)
                by_hour.append(hour_range)
                out += part
            else:
                outside = (day_start(day), lo) if head else (hi, day_start(day + timedelta(days=1)))
                whole = outside[1] - outside[0] < hi - lo
                out.append((*outside, -1) if whole else (lo, hi, 1))
            if whole:
                first, last = (day, last) if head else (first, last + timedelta(days=1))
            continue
        out.append((lo, hi, 1))
    return ReadPlan(first, last, by_hour, out)


def _by_hours(day: date, lo: datetime, hi: datetime, today: bool = False) -> tuple[bool, HourRange, list[Slice]]:
    """A partial day's part [lo, hi) (one end on the day's edge) as hour cells and at most half an hour of
    reports. The part's inner end moved to the nearest hour gives whole hours: read as their hour cells, or as the
    whole day (True) minus the other hours' cells, whichever are fewer; the reports between the inner end and that
    hour are added (the part holds them) or taken away (the hours do). `today` (its start to hi): the hours before
    hi's and the reports of hi's hour, only added (nothing of today is taken away: read_plan)."""
    start = day_start(day)
    from_start = lo == start
    inner = hi if from_start else lo
    seconds = (inner - start).total_seconds()
    hour = int(seconds // 3600) if today else int((seconds + 1800) // 3600)  # the hour before, or the nearest: 0..24
    part, rest = ((0, hour), (hour, 24)) if from_start else ((hour, 24), (0, hour))
    whole = not today and rest[1] - rest[0] < part[1] - part[0]
    hour_range = (day, *rest, -1) if whole else (day, *part, 1)
    edge = start + timedelta(hours=hour)
    if inner == edge:
        return whole, hour_range, []
    inside = (inner > edge) if from_start else (inner < edge)  # [inner, edge) or [edge, inner) in the part
    return whole, hour_range, [(min(inner, edge), max(inner, edge), 1 if inside else -1)]
