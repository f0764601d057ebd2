"""signin (issue 18): SMS codes, the provider outbox, WeChat bindings and subscription-message quotas

Revision ID: a3d5f7b9c1e2
Revises: f2c4e6a8b0d1
Create Date: 2026-12-06 08:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'a3d5f7b9c1e2'
down_revision: str | None = 'f2c4e6a8b0d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = app.db.base.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'sms_codes',
        sa.Column('phone', sa.String(length=11), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('used_at', UTC, nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("purpose IN ('login','register','reset_password','bind','erase')",
                           name=op.f('ck_sms_codes_purpose')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_sms_codes_attempts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes')),
    )
    op.create_index('ix_sms_codes_phone_purpose_id', 'sms_codes', ['phone', 'purpose', 'id'])
    op.create_index('ix_sms_codes_expires_at', 'sms_codes', ['expires_at'])
    op.create_table(
        'provider_messages',
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=128), nullable=False),
        sa.Column('appid', sa.String(length=64), nullable=True),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.Column('locked_until', UTC, nullable=True),
        sa.Column('expires_at', UTC, nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('finished_at', UTC, nullable=True),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("channel IN ('sms','wechat_subscribe')", name=op.f('ck_provider_messages_channel')),
        sa.CheckConstraint("status IN ('pending','delivered','failed','expired')",
                           name=op.f('ck_provider_messages_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_provider_messages_message_id')),
    )
    op.create_index('ix_provider_messages_due', 'provider_messages', ['channel', 'next_attempt_at'],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_table(
        'wechat_bindings',
        sa.Column('user_id', ID, nullable=False),
        sa.Column('appid', sa.String(length=64), nullable=False),
        sa.Column('openid', sa.String(length=128), nullable=False),
        sa.Column('unionid', sa.String(length=128), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_bindings_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bindings')),
        sa.UniqueConstraint('appid', 'openid', name='uq_wechat_bindings_appid_openid'),
        sa.UniqueConstraint('user_id', 'appid', name='uq_wechat_bindings_user_id_appid'),
    )
    op.create_table(
        'wechat_subscriptions',
        sa.Column('user_id', ID, nullable=False),
        sa.Column('appid', sa.String(length=64), nullable=False),
        sa.Column('notification_type', sa.String(length=64), nullable=False),
        sa.Column('template_id', sa.String(length=128), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.CheckConstraint('remaining >= 0', name=op.f('ck_wechat_subscriptions_remaining')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_subscriptions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'appid', 'notification_type', name=op.f('pk_wechat_subscriptions')),
    )


def downgrade() -> None:
    op.drop_table('wechat_subscriptions')
    op.drop_table('wechat_bindings')
    op.drop_index('ix_provider_messages_due', table_name='provider_messages')
    op.drop_table('provider_messages')
    op.drop_index('ix_sms_codes_expires_at', table_name='sms_codes')
    op.drop_index('ix_sms_codes_phone_purpose_id', table_name='sms_codes')
    op.drop_table('sms_codes')
