"""The overdue reports the worker has announced, rolled up (issue 20)

Revision ID: e2f4a6b8c0d1
Revises: d1e3f5a7b9c2
Create Date: 2026-12-06

Two counters in report_rollups (app/stats/rollup_math.py): `overdue` (open, and the current deadline announced
past by the worker's overdue sweep: overdue_notified_for = due_at) and `late_waiting` (the same, still submitted
and unanswered). The live part of the figures then reads only the open reports whose passed deadline is not
announced yet: the partial indexes of a community's and a street's open reports by created_at are replaced by
partial indexes of the unannounced ones by deadline.

The new counters of the existing reports: only open reports with overdue_notified_for = due_at contribute, each
its delta from the same row with overdue_notified_for unset, added (in batches, through the upserts the steps and
the rebuild use) to slot 0 of its cells (reads sum over the slots; the rebuild corrects slot 0 too).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'e2f4a6b8c0d1'
down_revision: str | None = 'd1e3f5a7b9c2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ('overdue', 'late_waiting')
OPEN = sa.text('due_at IS NOT NULL')
OPEN_INCLUDE = ['state', 'respond_by', 'resolve_by', 'responded_at']
UNANNOUNCED_PG = sa.text('due_at IS NOT NULL AND overdue_notified_for IS DISTINCT FROM due_at')
UNANNOUNCED_SQLITE = sa.text('due_at IS NOT NULL AND overdue_notified_for IS NOT due_at')
UNANNOUNCED_INCLUDE = ['created_at', 'state', 'responded_at', 'respond_by']
SCOPES = ('community', 'street')
BATCH = 2000  # reports per read and upsert batch


def fill(conn: sa.engine.Connection) -> int:
    """Add the announced open reports' contributions to the new counters; the number of reports."""
    from app.reports.models import Report
    from app.stats import rollup_math, rollups

    t = Report.__table__
    slot = rollup_math.KEY.index('slot')
    announced = sa.select(*(t.c[f] for f in rollup_math.FIELDS)).where(
        t.c.due_at.is_not(None), t.c.overdue_notified_for == t.c.due_at, t.c.id > sa.bindparam('after')
    ).order_by(t.c.id).limit(BATCH)
    after, seen = 0, 0
    while True:
        reports = conn.execute(announced, {'after': after}).mappings().all()
        if not reports:
            return seen
        changed, hist = rollup_math.delta_many([({**r, 'overdue_notified_for': None}, r) for r in reports])
        assert not hist  # an announcement moves no duration
        into_base: dict[Any, dict[str, int]] = {}  # each cell's base slot (the code's cells: HOUR ones too)
        for cell, values in changed:
            into = into_base.setdefault((*cell[:slot], rollup_math.base_slot(cell[slot]), *cell[slot + 1:]),
                                        dict.fromkeys(rollup_math.COUNTERS, 0))
            for name, v in values.items():
                into[name] += v
        rollups.apply_sync(conn, sorted(into_base.items()), [])
        after, seen = reports[-1]['id'], seen + len(reports)


def upgrade() -> None:
    with op.batch_alter_table('report_rollups') as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), server_default=sa.text('0'), nullable=False))
    fill(op.get_bind())
    for scope in SCOPES:
        op.drop_index(f'ix_reports_{scope}_open', table_name='reports', postgresql_where=OPEN, sqlite_where=OPEN)
        op.create_index(f'ix_reports_{scope}_unannounced', 'reports', [f'{scope}_id', 'due_at'], unique=False,
                        postgresql_include=UNANNOUNCED_INCLUDE, postgresql_where=UNANNOUNCED_PG,
                        sqlite_where=UNANNOUNCED_SQLITE)


def downgrade() -> None:
    for scope in SCOPES:
        op.drop_index(f'ix_reports_{scope}_unannounced', table_name='reports', postgresql_where=UNANNOUNCED_PG,
                      sqlite_where=UNANNOUNCED_SQLITE)
        op.create_index(f'ix_reports_{scope}_open', 'reports', [f'{scope}_id', 'created_at'], unique=False,
                        postgresql_include=OPEN_INCLUDE, postgresql_where=OPEN, sqlite_where=OPEN)
    with op.batch_alter_table('report_rollups') as batch:
        for name in reversed(COUNTERS):
            batch.drop_column(name)
