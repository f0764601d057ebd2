"""The hand-computed fixture: March 2026 in China time, community 1, with every edge case in one table.

Times (acc = accepted, resp = responded, res = resolved) are hours after created_at; respond_by is created + 24 h
unless given. "now" is the real now (after 2026-11), so every March deadline is in the past unless it is FAR.

| name | created (UTC)        | China day | state       | acc | resp | res | stars | notes                     |
|------|----------------------|-----------|-------------|-----|------|-----|-------|---------------------------|
| R11  | 2026-02-28T16:00:00Z | 03-01 Sun | withdrawn   |     |      |     |       | exactly at `from`: in     |
| R1   | 2026-03-01T15:59:00Z | 03-01 Sun | closed      | 1   | 1    | 10  | 5     |                           |
| R2   | 2026-03-01T16:01:00Z | 03-02 Mon | rejected    |     | 24   |     |       | rejected at the deadline  |
| R3   | 2026-03-04T00:00:00Z | 03-04     | rejected    |     | 30   |     |       | late; category cat2       |
| R4   | 2026-03-05T00:00:00Z | 03-05     | closed      | 25  | 25   | 50  | 4     | late; reopened, resolved  |
| R5   | 2026-03-06T00:00:00Z | 03-06     | submitted   |     |      |     |       | past respond_by: overdue  |
| R6   | 2026-03-07T00:00:00Z | 03-07     | submitted   |     |      |     |       | respond_by FAR: not due   |
| R7   | 2026-03-08T00:00:00Z | 03-08 Sun | in_progress | 3   | 3    |     |       | resolve_by 03-10: overdue |
| R8   | 2026-03-09T00:00:00Z | 03-09 Mon | closed      | 2   | 2    | 20  |       | auto-closed, unrated      |
| R9   | 2026-03-10T00:00:00Z | 03-10     | closed      | 4   | 4    | 5   | 3     |                           |
| R10  | 2026-03-11T00:00:00Z | 03-11     | withdrawn   |     |      |     |       |                           |
| R16  | 2026-03-12T00:00:00Z | 03-12     | resolved    | 1   | 1    | 6   |       | awaiting a rating         |
| R17  | 2026-03-13T00:00:00Z | 03-13     | dispatched  | 5   | 5    |     |       | resolve_by FAR            |
| R14  | 2026-03-31T15:59:00Z | 03-31     | withdrawn   |     |      |     |       | last minute of March      |
| R12  | 2026-02-28T15:59:59Z | 02-28     | closed      | 1   | 1    | 2   | 1     | before `from`: out        |
| R13  | 2026-03-31T16:00:00Z | 04-01     | submitted   |     |      |     |       | exactly at `to`: out      |
| R15  | 2026-03-15T00:00:00Z | 03-15     | closed      | 1   | 1    | 2   | 5     | community 2               |

Handled by d1: R1, R4, R7, R8, R9, R16, R17 (and R12, R15).
"""

from __future__ import annotations

import pytest

from tests.stats.factories import FAR, add_category, put_report

MARCH = {"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00"}
HOUR = 3600.0


@pytest.fixture
async def march(app, world):
    cat2 = await add_category(app, world, "邻里纠纷", "disputes")
    d1 = world.d1
    c2 = (world.c2, world.g2, world.b3)
    specs = {
        "R11": dict(created="2026-02-28T16:00:00Z", state="withdrawn"),
        "R1": dict(created="2026-03-01T15:59:00Z", state="closed", accepted=1, resolved=10, closed=11, rating=5,
                   handler=d1),
        "R2": dict(created="2026-03-01T16:01:00Z", state="rejected", responded=24),
        "R3": dict(created="2026-03-04T00:00:00Z", state="rejected", responded=30, category=cat2),
        "R4": dict(created="2026-03-05T00:00:00Z", state="closed", accepted=25, resolved=50, closed=51, rating=4,
                   reopen_count=1, handler=d1),
        "R5": dict(created="2026-03-06T00:00:00Z", state="submitted"),
        "R6": dict(created="2026-03-07T00:00:00Z", state="submitted", respond_by=FAR),
        "R7": dict(created="2026-03-08T00:00:00Z", state="in_progress", accepted=3, resolve_by="2026-03-10T00:00:00Z",
                   handler=d1),
        "R8": dict(created="2026-03-09T00:00:00Z", state="closed", accepted=2, resolved=20, closed=20 + 7 * 24,
                   auto_closed=True, handler=d1),
        "R9": dict(created="2026-03-10T00:00:00Z", state="closed", accepted=4, resolved=5, closed=6, rating=3,
                   handler=d1),
        "R10": dict(created="2026-03-11T00:00:00Z", state="withdrawn"),
        "R16": dict(created="2026-03-12T00:00:00Z", state="resolved", accepted=1, resolved=6, handler=d1),
        "R17": dict(created="2026-03-13T00:00:00Z", state="dispatched", accepted=5, resolve_by=FAR, handler=d1),
        "R14": dict(created="2026-03-31T15:59:00Z", state="withdrawn"),
        "R12": dict(created="2026-02-28T15:59:59Z", state="closed", accepted=1, resolved=2, closed=3, rating=1,
                    handler=d1),
        "R13": dict(created="2026-03-31T16:00:00Z", state="submitted"),
        "R15": dict(created="2026-03-15T00:00:00Z", state="closed", accepted=1, resolved=2, closed=3, rating=5,
                    handler=d1, place=c2, reporter="resident_c"),
    }
    reports = {name: await put_report(app, world, **spec) for name, spec in specs.items()}
    reports["cat2"] = cat2
    return reports
