"""The duration histograms stored 16 buckets to a row (issue 20)

Revision ID: f3a5c7e9b1d4
Revises: e2f4a6b8c0d1
Create Date: 2026-12-06

report_rollup_durations kept a row per (cell, metric, bucket); a street's year of figures added up ~4.6k of them.
report_rollup_histograms keeps a row per (cell, metric, chunk) with the counts of buckets chunk * 16 + k in
columns b0..b15 (app/stats/rollup_math.py: CHUNK, chunked). The existing rows are moved over in SQL (a GROUP BY of
bucket / 16), and back on downgrade.

Then the roll-ups are built (app/stats/rebuild.build_sync, idempotent: where they already equal what the reports
make it writes nothing). The first roll-up migration built them too, but through the current code, which reads and
writes the tables as they are at the head: that build runs here now, once the tables have their final shape.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f3a5c7e9b1d4'
down_revision: str | None = 'e2f4a6b8c0d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 16
BUCKETS = [f'b{k}' for k in range(CHUNK)]
CELL = ['cut', 'community_id', 'grid_id', 'category_id', 'department_id', 'street_id', 'grain', 'day', 'slot']
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _key_columns() -> list[sa.Column]:
    return [sa.Column('cut', sa.SmallInteger(), nullable=False), sa.Column('street_id', ID, nullable=False),
            sa.Column('community_id', ID, nullable=False), sa.Column('grid_id', ID, nullable=False),
            sa.Column('category_id', ID, nullable=False), sa.Column('department_id', ID, nullable=False),
            sa.Column('slot', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
            sa.Column('grain', sa.SmallInteger(), nullable=False), sa.Column('day', sa.Date(), nullable=False),
            sa.Column('metric', sa.SmallInteger(), nullable=False)]


def to_chunks(conn: sa.Connection) -> None:
    """report_rollup_durations' rows summed into report_rollup_histograms' (which must have none of them yet)."""
    cols = ', '.join([*CELL, 'metric'])
    sums = ', '.join(f'sum(CASE WHEN bucket % {CHUNK} = {k} THEN n ELSE 0 END)' for k in range(CHUNK))
    conn.execute(sa.text(f"INSERT INTO report_rollup_histograms ({cols}, chunk, {', '.join(BUCKETS)}) "
                         f"SELECT {cols}, bucket / {CHUNK}, {sums} FROM report_rollup_durations "
                         f"GROUP BY {cols}, bucket / {CHUNK}"))


def to_buckets(conn: sa.Connection) -> None:
    """report_rollup_histograms' non-zero buckets into report_rollup_durations (which must have none of them)."""
    cols = ', '.join([*CELL, 'metric'])
    for k, b in enumerate(BUCKETS):
        conn.execute(sa.text(f"INSERT INTO report_rollup_durations ({cols}, bucket, n) "
                             f"SELECT {cols}, chunk * {CHUNK} + {k}, {b} FROM report_rollup_histograms "
                             f"WHERE {b} <> 0"))


def histograms_columns() -> list[sa.Column | sa.PrimaryKeyConstraint]:
    return [*_key_columns(), sa.Column('chunk', sa.SmallInteger(), nullable=False),
            *(sa.Column(b, sa.Integer(), server_default=sa.text('0'), nullable=False) for b in BUCKETS),
            sa.PrimaryKeyConstraint(*CELL, 'metric', 'chunk', name='pk_report_rollup_histograms')]


def durations_columns() -> list[sa.Column | sa.PrimaryKeyConstraint]:
    return [*_key_columns(), sa.Column('bucket', sa.SmallInteger(), nullable=False),
            sa.Column('n', sa.Integer(), server_default=sa.text('0'), nullable=False),
            sa.PrimaryKeyConstraint(*CELL, 'metric', 'bucket', name='pk_report_rollup_durations')]


def upgrade() -> None:
    op.create_table('report_rollup_histograms', *histograms_columns())
    to_chunks(op.get_bind())
    op.drop_table('report_rollup_durations')
    from app.stats.rebuild import build_sync  # the same code as the CLI's rebuild
    build_sync(op.get_bind())


def downgrade() -> None:
    op.create_table('report_rollup_durations', *durations_columns())
    to_buckets(op.get_bind())
    op.drop_table('report_rollup_histograms')
