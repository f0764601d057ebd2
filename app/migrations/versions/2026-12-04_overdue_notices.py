"""reports: remember which deadline's passing was announced, and index open reports by deadline

Revision ID: b2e4a6c8d057
Revises: a1d3f5b7c946
Create Date: 2026-12-04 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'b2e4a6c8d057'
down_revision: str | None = 'a1d3f5b7c946'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('overdue_notified_for', app.db.base.UTCDateTime(timezone=True), nullable=True))
    open_only = sa.text('due_at IS NOT NULL')
    op.create_index('ix_reports_due_at', 'reports', ['due_at'], unique=False, postgresql_where=open_only,
                    sqlite_where=open_only)


def downgrade() -> None:
    op.drop_index('ix_reports_due_at', table_name='reports')
    # not batch mode on SQLite: rebuilding the table would copy into its generated column due_at
    op.execute('ALTER TABLE reports DROP COLUMN overdue_notified_for')
