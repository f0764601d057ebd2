"""reports: a grid's open reports, newest first, for the overdue queue without a sort

Revision ID: b5d7e9f1a2c3
Revises: 9a4b2c6d8e10
Create Date: 2026-12-02 04:00:00.000000

The overdue queue (grid_id AND due_at < now, newest first) read every overdue report of the grid through
(grid_id, due_at) and sorted them for a page of 20: the work grew with a grid's backlog. This partial index holds
only open reports (due_at is set exactly while a report waits on a deadline), in the queue's order, with due_at as
its last key column so the filter is read from the index: a page costs the grid's newest open reports that are not
yet due, plus the page. It replaces (grid_id, due_at), which nothing else used.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5d7e9f1a2c3'
down_revision: str | None = '9a4b2c6d8e10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    open_only = sa.text('due_at IS NOT NULL')
    op.create_index('ix_reports_grid_open', 'reports', ['grid_id', 'created_at', 'id', 'due_at'], unique=False,
                    postgresql_where=open_only, sqlite_where=open_only)
    op.drop_index('ix_reports_grid_due', table_name='reports')


def downgrade() -> None:
    op.create_index('ix_reports_grid_due', 'reports', ['grid_id', 'due_at'], unique=False)
    op.drop_index('ix_reports_grid_open', table_name='reports')
