"""report roll-ups

Revision ID: c9f1b3d5e7a8
Revises: d0a2c4e6f8b9
Create Date: 2026-12-06 08:00:00

The figures' roll-ups (issue 20): counters per cell (report_rollups) and duration histograms per cell and bucket
(report_rollup_durations), see app/stats/rollup_math.py; partial indexes of a community's and a street's open
reports for the live part of the figures. The roll-ups of the existing reports are built by the last roll-up
migration (f3a5c7e9b1d4, rollup_histogram_chunks), with the same code as `weilinli rollups rebuild`
(app/stats/rebuild.py): that code writes the tables as they are at the head, which they are not here yet (slots,
the overdue counters, the histograms' rows of 16 buckets came later). It was built here until then.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c9f1b3d5e7a8'
down_revision: str | None = 'd0a2c4e6f8b9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN = sa.text('due_at IS NOT NULL')
OPEN_INCLUDE = ['state', 'respond_by', 'resolve_by', 'responded_at']


def upgrade() -> None:
    op.create_table('report_rollups',
    sa.Column('cut', sa.SmallInteger(), nullable=False),
    sa.Column('street_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=False),
    sa.Column('grid_id', ID, nullable=False),
    sa.Column('category_id', ID, nullable=False),
    sa.Column('department_id', ID, nullable=False),
    sa.Column('grain', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_submitted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_accepted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_rejected', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_withdrawn', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_dispatched', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_in_progress', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_resolved', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_closed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('st_merged', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('accepted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('responded', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('on_time', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('resolved', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('resolved_first_time', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('resolved_in_time', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('rated', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('satisfied', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('reopened', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('auto_closed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('resolve_n', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('accept_ms', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('resolve_ms', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('cut', 'community_id', 'grid_id', 'category_id', 'department_id', 'street_id', 'grain', 'day', name='pk_report_rollups')
    )
    op.create_table('report_rollup_durations',
    sa.Column('cut', sa.SmallInteger(), nullable=False),
    sa.Column('street_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=False),
    sa.Column('grid_id', ID, nullable=False),
    sa.Column('category_id', ID, nullable=False),
    sa.Column('department_id', ID, nullable=False),
    sa.Column('grain', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('metric', sa.SmallInteger(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('cut', 'community_id', 'grid_id', 'category_id', 'department_id', 'street_id', 'grain', 'day', 'metric', 'bucket', name='pk_report_rollup_durations')
    )
    op.create_index('ix_reports_community_open', 'reports', ['community_id', 'created_at'], unique=False,
                    postgresql_include=OPEN_INCLUDE, postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_reports_street_open', 'reports', ['street_id', 'created_at'], unique=False,
                    postgresql_include=OPEN_INCLUDE, postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_reports_street_open', table_name='reports', postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_index('ix_reports_community_open', table_name='reports', postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_table('report_rollup_durations')
    op.drop_table('report_rollups')
