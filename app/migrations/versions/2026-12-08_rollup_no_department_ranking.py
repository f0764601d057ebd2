"""No ranking cells for reports no department handles (issue 20)

Revision ID: c4e6a8b0d2f1
Revises: b8d0f2a4c6e7
Create Date: 2026-12-08

The cut STREET_DEPT (4: a street's cells per handling department) is read only by the ranking of departments, which
leaves "no department" (department_id 0) out. Its department-0 cells were written by every step of an undispatched
report (submit, accept, reject, withdraw...) and never read: app/stats/rollup_math.cells no longer makes them.

Upgrade: those rows are deleted (the cut has no histograms). Downgrade: they are made again from the fine cut's
department-0 cells (cut 1, slot 0: the same reports, the fine cut is not spread), summed per street, grain and day
into slot 0; every read sums a cell's slots, so that equals what the steps had spread over slots.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c4e6a8b0d2f1'
down_revision: str | None = 'b8d0f2a4c6e7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINE, STREET_DEPT = 1, 4
DAY, MONTH = 1, 2
COUNTERS = ('n', 'st_submitted', 'st_accepted', 'st_rejected', 'st_withdrawn', 'st_dispatched', 'st_in_progress',
            'st_resolved', 'st_closed', 'st_merged', 'accepted', 'responded', 'on_time', 'resolved',
            'resolved_first_time', 'resolved_in_time', 'rated', 'satisfied', 'reopened', 'auto_closed', 'resolve_n',
            'accept_ms', 'resolve_ms', 'overdue', 'late_waiting')


def upgrade() -> None:
    remove(op.get_bind())


def downgrade() -> None:
    restore(op.get_bind())


def remove(conn: sa.Connection) -> None:
    conn.execute(sa.text('DELETE FROM report_rollups WHERE cut = :cut AND department_id = 0'), {'cut': STREET_DEPT})


def restore(conn: sa.Connection) -> None:
    columns = ', '.join(COUNTERS)
    sums = ', '.join(f'sum({c})' for c in COUNTERS)
    conn.execute(sa.text(
        f'INSERT INTO report_rollups (cut, street_id, community_id, grid_id, category_id, department_id, slot, grain, '
        f'day, {columns}) '
        f'SELECT :dept_cut, street_id, 0, 0, 0, 0, 0, grain, day, {sums} FROM report_rollups '
        f'WHERE cut = :fine AND department_id = 0 AND grain IN (:day, :month) GROUP BY street_id, grain, day'),
        {'dept_cut': STREET_DEPT, 'fine': FINE, 'day': DAY, 'month': MONTH})
