"""report foreign key indexes

Revision ID: a92dfa485b23
Revises: d939ff70b282
Create Date: 2026-11-22 04:37:01.753046
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'a92dfa485b23'
down_revision: str | None = 'd939ff70b282'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_handler_user_id', ['handler_user_id'], unique=False)
        batch_op.create_index('ix_reports_merged_into_id', ['merged_into_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_merged_into_id')
        batch_op.drop_index('ix_reports_handler_user_id')

    
