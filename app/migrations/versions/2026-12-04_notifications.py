"""notifications: each user's inbox

Revision ID: 4e0c1f7a9b21
Revises: b5d7e9f1a2c3
Create Date: 2026-12-04 01:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = '4e0c1f7a9b21'
down_revision: str | None = 'b5d7e9f1a2c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notifications',
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('object_type', sa.String(length=32), nullable=False),
        sa.Column('object_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('link', sa.String(length=200), nullable=False),
        sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index('ix_notifications_user_id_id', 'notifications', ['user_id', 'id'], unique=False)
    unread = sa.text('read_at IS NULL')
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'id'], unique=False,
                    postgresql_where=unread, sqlite_where=unread)


def downgrade() -> None:
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_index('ix_notifications_user_id_id', table_name='notifications')
    op.drop_table('notifications')
