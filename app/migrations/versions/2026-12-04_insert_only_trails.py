"""audit_entries and report_events are insert-only in the database (PostgreSQL)

Revision ID: 6d2a8e4f0b13
Revises: 4e0c1f7a9b21
Create Date: 2026-12-04 03:05:00.000000

The application has no update or delete path for the audit trail or the timeline; these triggers make that hold
for anything that connects with the application's role, too: UPDATE, DELETE and TRUNCATE raise. Maintenance that
must remove rows (the test suite's cleanup, the bench's reset) runs as a superuser with
`SET LOCAL session_replication_role = replica`, which ordinary triggers do not fire under. SQLite has no such
guard here (it is the single-user embedded default).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '6d2a8e4f0b13'
down_revision: str | None = '4e0c1f7a9b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_entries", "report_events")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION weilinli_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$""")
    for t in TABLES:
        op.execute(f"CREATE TRIGGER {t}_insert_only BEFORE UPDATE OR DELETE ON {t} "
                   f"FOR EACH ROW EXECUTE FUNCTION weilinli_insert_only()")
        op.execute(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION weilinli_insert_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for t in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute(f"DROP TRIGGER IF EXISTS {t}_insert_only ON {t}")
    op.execute("DROP FUNCTION IF EXISTS weilinli_insert_only()")
