"""api_clients: registered third-party apps (issue 18)

Revision ID: f2c4e6a8b0d1
Revises: a7d9f1b3c5e6
Create Date: 2026-12-06 08:30:00.000000

On PostgreSQL a statement trigger tells every API process to forget its cached principal rows when an app's status
or scopes change (channel of app/auth/principal_cache.py, payload '*'): an access token of a suspended app is
refused on its next request, in every process.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = 'f2c4e6a8b0d1'
down_revision: str | None = 'a7d9f1b3c5e6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = app.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
CHANNEL = 'weilinli_principals'


def upgrade() -> None:
    op.create_table(
        'api_clients',
        sa.Column('client_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('origins', JSON, nullable=False),
        sa.Column('scopes', JSON, nullable=False),
        sa.Column('wechat_appid', sa.String(length=40), nullable=True),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('grid_id', ID, nullable=False),
        sa.Column('created_by', ID, nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=False),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.CheckConstraint('version >= 1', name=op.f('ck_api_clients_version')),
        sa.CheckConstraint("kind IN ('mini_program','web','server')", name=op.f('ck_api_clients_kind')),
        sa.CheckConstraint("status IN ('active','suspended')", name=op.f('ck_api_clients_status')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_clients_created_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_api_clients_grid_id_grids')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
        sa.UniqueConstraint('client_id', name=op.f('uq_api_clients_client_id')),
        sa.UniqueConstraint('wechat_appid', name=op.f('uq_api_clients_wechat_appid')),
    )
    op.create_index('ix_api_clients_grid_id', 'api_clients', ['grid_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION weilinli_notify_clients() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', '*');
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER principal_api_clients AFTER UPDATE OF status, scopes OR DELETE ON api_clients "
                   "FOR EACH STATEMENT EXECUTE FUNCTION weilinli_notify_clients()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS principal_api_clients ON api_clients")
        op.execute("DROP FUNCTION IF EXISTS weilinli_notify_clients()")
    op.drop_index('ix_api_clients_grid_id', table_name='api_clients')
    op.drop_table('api_clients')
