"""PostgreSQL: notify the API processes when what a principal is made of changes

Revision ID: 9a4b2c6d8e10
Revises: 7c3d9e1a5b20
Create Date: 2026-12-01 22:20:00.000000

Each API process remembers the principals it has loaded (app/auth/principal_cache.py) and forgets one when the
database says it changed. Triggers, not application code, send the notice, so no writer (an admin call, a
script, psql) can change a role, deactivate an account, change a password or a grid binding without every
process hearing of it at commit. SQLite has no NOTIFY: there the principal is read on every request.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '9a4b2c6d8e10'
down_revision: str | None = '7c3d9e1a5b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = 'weilinli_principals'
# the users columns a Principal is built from (app/auth/deps.py); other updates (a display name) stay quiet
USER_COLUMNS = 'role, is_active, building_id, community_id, department_id, scope_grid_id, password_changed_at'


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"""
        CREATE FUNCTION weilinli_notify_principal() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'grids' THEN
                PERFORM pg_notify('{CHANNEL}', '*');
            ELSIF TG_TABLE_NAME = 'users' THEN
                PERFORM pg_notify('{CHANNEL}', OLD.id::text);
            ELSIF TG_OP = 'INSERT' THEN
                PERFORM pg_notify('{CHANNEL}', NEW.user_id::text);
            ELSE
                PERFORM pg_notify('{CHANNEL}', OLD.user_id::text);
                IF TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id THEN
                    PERFORM pg_notify('{CHANNEL}', NEW.user_id::text);
                END IF;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER principal_users AFTER UPDATE OF {USER_COLUMNS} OR DELETE ON users "
               "FOR EACH ROW EXECUTE FUNCTION weilinli_notify_principal()")
    op.execute("CREATE TRIGGER principal_user_grids AFTER INSERT OR UPDATE OR DELETE ON user_grids "
               "FOR EACH ROW EXECUTE FUNCTION weilinli_notify_principal()")
    op.execute("CREATE TRIGGER principal_grids AFTER UPDATE OF path, level OR DELETE ON grids "
               "FOR EACH STATEMENT EXECUTE FUNCTION weilinli_notify_principal()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER principal_grids ON grids")
    op.execute("DROP TRIGGER principal_user_grids ON user_grids")
    op.execute("DROP TRIGGER principal_users ON users")
    op.execute("DROP FUNCTION weilinli_notify_principal()")
