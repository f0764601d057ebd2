"""points: the day up to which each account's expiry was applied

Revision ID: a7d9f1b3c5e6
Revises: f6c8e0a2b49b
Create Date: 2026-12-04 06:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'a7d9f1b3c5e6'
down_revision: str | None = 'f6c8e0a2b49b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('point_accounts') as batch:
        batch.add_column(sa.Column('expiry_checked_at', app.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('point_accounts') as batch:
        batch.drop_column('expiry_checked_at')
