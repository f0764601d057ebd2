"""uploads: indexes for the per-user quota and the cleanup of old unattached uploads

Revision ID: 8b3f5c7d9e24
Revises: 6d2a8e4f0b13
Create Date: 2026-12-04 03:10:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '8b3f5c7d9e24'
down_revision: str | None = '6d2a8e4f0b13'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_uploads_owner_created', 'uploads', ['owner_id', 'created_at'], unique=False)
    op.create_index('ix_uploads_created_at', 'uploads', ['created_at'], unique=False)
    op.drop_index('ix_uploads_owner_id', table_name='uploads')


def downgrade() -> None:
    op.create_index('ix_uploads_owner_id', 'uploads', ['owner_id'], unique=False)
    op.drop_index('ix_uploads_created_at', table_name='uploads')
    op.drop_index('ix_uploads_owner_created', table_name='uploads')
