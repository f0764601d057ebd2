"""refresh_tokens: revoking a session tells every API process to forget the principal rows it cached for it

Revision ID: a1d3f5b7c946
Revises: 9c4e6a8b0d35
Create Date: 2026-12-04 03:25:00.000000

Access tokens carry their sign-in session (`sid`, the refresh family); a request's principal rows say whether that
session is live, and PostgreSQL processes cache them (app/auth/principal_cache.py). Logout, refresh-token reuse,
password change and disabling set revoked_at: this trigger (the principal notice function of 9a4b2c6d8e10, which
sends the row's user id) makes the caches drop the user's entries at commit, so the access tokens stop at once.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a1d3f5b7c946'
down_revision: str | None = '9c4e6a8b0d35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE TRIGGER principal_sessions AFTER UPDATE OF revoked_at ON refresh_tokens "
               "FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) "
               "EXECUTE FUNCTION weilinli_notify_principal()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS principal_sessions ON refresh_tokens")
