"""known_login_addresses: where an account has signed in before (its correct password is not locked out there)

Revision ID: 9c4e6a8b0d35
Revises: 8b3f5c7d9e24
Create Date: 2026-12-04 03:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = '9c4e6a8b0d35'
down_revision: str | None = '8b3f5c7d9e24'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'known_login_addresses',
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('last_seen', app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_known_login_addresses_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'address', name=op.f('pk_known_login_addresses')),
    )


def downgrade() -> None:
    op.drop_table('known_login_addresses')
