"""webhooks: subscriber endpoints, the outbox of deliveries, and each attempt

Revision ID: c3f5a7b9d168
Revises: b2e4a6c8d057
Create Date: 2026-12-04 05:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = 'c3f5a7b9d168'
down_revision: str | None = 'b2e4a6c8d057'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = app.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'webhook_subscriptions',
        sa.Column('grid_id', ID, nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('previous_secret', sa.String(length=100), nullable=True),
        sa.Column('previous_secret_until', WHEN, nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=200), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by_id', ID, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=False),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.CheckConstraint('version >= 1', name=op.f('ck_webhook_subscriptions_version')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_webhook_subscriptions_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_webhook_subscriptions_grid_id_grids')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_index('ix_webhook_subscriptions_grid_id', 'webhook_subscriptions', ['grid_id'], unique=False)

    op.create_table(
        'webhook_deliveries',
        sa.Column('subscription_id', ID, nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('round_attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', WHEN, nullable=False),
        sa.Column('locked_until', WHEN, nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('finished_at', WHEN, nullable=True),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('pending','delivered','failed')", name=op.f('ck_webhook_deliveries_status')),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'],
                                name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('message_id', name=op.f('uq_webhook_deliveries_message_id')),
    )
    pending = sa.text("status = 'pending'")
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['next_attempt_at'], unique=False,
                    postgresql_where=pending, sqlite_where=pending)
    op.create_index('ix_webhook_deliveries_subscription_id_id', 'webhook_deliveries', ['subscription_id', 'id'],
                    unique=False)

    op.create_table(
        'webhook_attempts',
        sa.Column('delivery_id', ID, nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', WHEN, nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'],
                                name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    )
    op.create_index('ix_webhook_attempts_delivery_id_id', 'webhook_attempts', ['delivery_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_attempts_delivery_id_id', table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_subscription_id_id', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhook_subscriptions_grid_id', table_name='webhook_subscriptions')
    op.drop_table('webhook_subscriptions')
