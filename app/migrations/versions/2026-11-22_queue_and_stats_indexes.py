"""queue and statistics indexes

Revision ID: 5e1f0c2b7a41
Revises: a92dfa485b23
Create Date: 2026-11-22 05:30:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '5e1f0c2b7a41'
down_revision: str | None = 'a92dfa485b23'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATS_COLUMNS = ['state', 'accepted_at', 'responded_at', 'respond_by', 'resolved_at', 'resolve_by', 'rating',
                 'reopen_count', 'auto_closed']


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_community_created')
        batch_op.create_index('ix_reports_community_created', ['community_id', 'created_at', 'id'], unique=False,
                              postgresql_include=STATS_COLUMNS)
        batch_op.create_index('ix_reports_grid_state_category', ['grid_id', 'state', 'category_id', 'created_at',
                                                                 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_grid_state_category')
        batch_op.drop_index('ix_reports_community_created')
        batch_op.create_index('ix_reports_community_created', ['community_id', 'created_at', 'id'], unique=False)
