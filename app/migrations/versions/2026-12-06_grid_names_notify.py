"""PostgreSQL: a grid node's new name is announced too

Revision ID: a7c9e1b3d5f6
Revises: f3a5c7e9b1d4
Create Date: 2026-12-06

Each API process now remembers the grid nodes the figures ask about (their name, level and path: the scope checks
and the place names of app/stats, app/auth/principal_cache.py), beside the principals. The grids trigger announced
a change of path or level (what a principal's scope is made of); a node's name is shown by the figures, so its
change is announced as well. SQLite has no NOTIFY: there every node is read when asked for.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a7c9e1b3d5f6'
down_revision: str | None = 'f3a5c7e9b1d4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _trigger(columns: str) -> None:
    op.execute("DROP TRIGGER principal_grids ON grids")
    op.execute(f"CREATE TRIGGER principal_grids AFTER UPDATE OF {columns} OR DELETE ON grids "
               "FOR EACH STATEMENT EXECUTE FUNCTION weilinli_notify_principal()")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _trigger('path, level, name')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _trigger('path, level')
