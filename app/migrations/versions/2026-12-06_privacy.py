"""privacy: consents to the privacy notice, the accepted version on users, purged uploads

Revision ID: d0a2c4e6f8b9
Revises: b4e6a8c0d2f3
Create Date: 2026-12-06 08:30:00.000000

Issue 21. Existing accounts get no consent row: nobody accepted a notice before there was one, so every resident
accepts the current notice on their next request (403 privacy_consent_required until then). On PostgreSQL the
principal trigger (9a4b2c6d8e10) also fires on users.privacy_version, so a cached principal learns of an
acceptance at commit.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = 'd0a2c4e6f8b9'
down_revision: str | None = 'b4e6a8c0d2f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_USER_COLUMNS = 'role, is_active, building_id, community_id, department_id, scope_grid_id, password_changed_at'
NEW_USER_COLUMNS = OLD_USER_COLUMNS + ', privacy_version'


def _user_trigger(columns: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER principal_users ON users")
    op.execute(f"CREATE TRIGGER principal_users AFTER UPDATE OF {columns} OR DELETE ON users "
               "FOR EACH ROW EXECUTE FUNCTION weilinli_notify_principal()")


def upgrade() -> None:
    op.create_table('privacy_consents',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('accepted_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("via IN ('register','sms','wechat','api','admin')", name=op.f('ck_privacy_consents_via')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_privacy_consents_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_consents'))
    )
    op.create_index('ix_privacy_consents_user_id', 'privacy_consents', ['user_id', 'accepted_at'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('privacy_version', sa.String(length=20), nullable=True))
    with op.batch_alter_table('uploads') as batch:
        batch.add_column(sa.Column('purged_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
    _user_trigger(NEW_USER_COLUMNS)


def downgrade() -> None:
    _user_trigger(OLD_USER_COLUMNS)
    with op.batch_alter_table('uploads') as batch:
        batch.drop_column('purged_at')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('privacy_version')
    op.drop_index('ix_privacy_consents_user_id', table_name='privacy_consents')
    op.drop_table('privacy_consents')
