"""A street's roll-ups kept per hour too (issue 20)

Revision ID: b8d0f2a4c6e7
Revises: a7c9e1b3d5f6
Create Date: 2026-12-07

A street's cells (cut STREET) gain HOUR cells: grain 3, `day` the China day, `slot` hour * 8 + the report id
modulo 8 (app/stats/rollup_math.py: HOUR, HOUR_CUTS, cells). No column changes: the primary key's (grain, day,
slot) makes a day's hours one range of it. A street's partial first day (the 365 days up to now) is read from them
and at most half an hour of its reports.

Upgrade: the roll-ups are built (app/stats/rebuild.build_sync, idempotent: where they already equal what the
reports make it writes nothing, so it adds only the hour cells). Downgrade: the hour cells are deleted.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b8d0f2a4c6e7'
down_revision: str | None = 'a7c9e1b3d5f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUR = 3


def upgrade() -> None:
    from app.stats.rebuild import build_sync  # the same code as the CLI's rebuild
    build_sync(op.get_bind())


def downgrade() -> None:
    for table in ('report_rollup_histograms', 'report_rollups'):
        op.get_bind().execute(sa.text(f'DELETE FROM {table} WHERE grain = :hour'), {'hour': HOUR})
