"""ratings

Revision ID: d939ff70b282
Revises: 7fe228b4947a
Create Date: 2026-11-22 03:21:11.570556
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = 'd939ff70b282'
down_revision: str | None = '7fe228b4947a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_ratings',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rater_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_report_ratings_stars')),
    sa.ForeignKeyConstraint(['rater_id'], ['users.id'], name=op.f('fk_report_ratings_rater_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_ratings_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_ratings')),
    sa.UniqueConstraint('report_id', 'cycle', name='uq_report_ratings_report_id_cycle')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rated_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('auto_closed', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))
        batch_op.add_column(sa.Column('responded_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_reports_state_resolved_at', ['state', 'resolved_at'], unique=False)

    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.alter_column('actor_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)

    


def downgrade() -> None:
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.alter_column('actor_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_state_resolved_at')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('auto_closed')
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating')

    op.drop_table('report_ratings')
    
