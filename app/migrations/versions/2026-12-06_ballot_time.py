"""deliberation: when each elector voted (a resident's data export shows which vote and when, never the choice)

Revision ID: e1b3d5f7a9c0
Revises: a7d9f1b3c5e6
Create Date: 2026-12-06 08:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'e1b3d5f7a9c0'
down_revision: str | None = 'a7d9f1b3c5e6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('vote_electors') as batch:
        batch.add_column(sa.Column('voted_at', app.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('vote_electors') as batch:
        batch.drop_column('voted_at')
