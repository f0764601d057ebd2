"""Roll-up cells of the community and street cuts spread over slots (issue 20): `slot` joins both primary keys.

Revision ID: d1e3f5a7b9c2
Revises: c9f1b3d5e7a8
Create Date: 2026-12-06

Existing rows keep slot 0 (reads sum over the slots, so they stay right); new contributions of those cuts go to
slot = report id % 8 (app/stats/rollup_math.SLOTS). A rebuild moves old rows to their slots.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd1e3f5a7b9c2'
down_revision: str | None = 'c9f1b3d5e7a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ['cut', 'community_id', 'grid_id', 'category_id', 'department_id', 'street_id', 'grain', 'day']
TABLES = {'report_rollups': ('pk_report_rollups', []),
          'report_rollup_durations': ('pk_report_rollup_durations', ['metric', 'bucket'])}


def _rekey(with_slot: bool) -> None:
    for table, (pk, tail) in TABLES.items():
        with op.batch_alter_table(table) as batch:
            if with_slot:
                batch.add_column(sa.Column('slot', sa.SmallInteger(), server_default=sa.text('0'), nullable=False))
            batch.drop_constraint(pk, type_='primary')
            batch.create_primary_key(pk, [*OLD, *(['slot'] if with_slot else []), *tail])
            if not with_slot:
                batch.drop_column('slot')


def upgrade() -> None:
    _rekey(True)


def downgrade() -> None:
    # slots folded back into slot 0 first: the old key holds one row per cell
    for table, (_, tail) in TABLES.items():
        key = [*OLD, *tail]
        sums = [c.name for c in sa.Table(table, sa.MetaData(), autoload_with=op.get_bind()).columns
                if c.name not in (*key, 'slot')]
        cols = ", ".join(key)
        agg = ", ".join(f"sum({c}) AS {c}" for c in sums)
        op.execute(f"CREATE TEMPORARY TABLE folded AS SELECT {cols}, {agg} FROM {table} GROUP BY {cols}")
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} ({cols}, {', '.join(sums)}, slot) SELECT *, 0 FROM folded")
        op.execute("DROP TABLE folded")
    _rekey(False)
