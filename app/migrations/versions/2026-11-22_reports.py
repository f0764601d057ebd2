"""reports

Revision ID: 7fe228b4947a
Revises: ccb6b8ab6518
Create Date: 2026-11-22 03:13:56.100267
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = '7fe228b4947a'
down_revision: str | None = 'ccb6b8ab6518'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('report_counters',
    sa.Column('street_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['grids.id'], name=op.f('fk_report_counters_street_id_grids')),
    sa.PrimaryKeyConstraint('street_id', 'day', name=op.f('pk_report_counters'))
    )
    op.create_table('reports',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('street_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grid_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('building_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('hide_reporter', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reporter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('handler_department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('handler_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('escalated_to_grid_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reopen_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('respond_by', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolve_by', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.Column('follower_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("source IN ('app','mini_program','patrol','hotline')", name=op.f('ck_reports_source')),
    sa.CheckConstraint("state IN ('submitted','accepted','rejected','withdrawn','dispatched','in_progress','resolved','closed','merged')", name=op.f('ck_reports_state')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_reports_version')),
    sa.ForeignKeyConstraint(['building_id'], ['grids.id'], name=op.f('fk_reports_building_id_grids')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_reports_category_id_categories')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_reports_community_id_grids')),
    sa.ForeignKeyConstraint(['escalated_to_grid_id'], ['grids.id'], name=op.f('fk_reports_escalated_to_grid_id_grids')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_reports_filed_by_id_users')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_reports_grid_id_grids')),
    sa.ForeignKeyConstraint(['handler_department_id'], ['departments.id'], name=op.f('fk_reports_handler_department_id_departments')),
    sa.ForeignKeyConstraint(['handler_user_id'], ['users.id'], name=op.f('fk_reports_handler_user_id_users')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['reports.id'], name=op.f('fk_reports_merged_into_id_reports')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['grids.id'], name=op.f('fk_reports_street_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('street_id', 'number', name='uq_reports_street_id_number')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_category_id', ['category_id'], unique=False)
        batch_op.create_index('ix_reports_community_created', ['community_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_department_created', ['handler_department_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_grid_created', ['grid_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_reporter_created', ['reporter_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_street_created', ['street_id', 'created_at', 'id'], unique=False)

    op.create_table('uploads',
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_uploads_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_uploads_storage_key'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_owner_id', ['owner_id'], unique=False)

    op.create_table('report_events',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('note_public', sa.Boolean(), nullable=False),
    sa.Column('photo_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_report_events_actor_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_events_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_events'))
    )
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.create_index('ix_report_events_report_id', ['report_id', 'id'], unique=False)

    op.create_table('report_followers',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_followers_report_id_reports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_followers_user_id_users')),
    sa.PrimaryKeyConstraint('report_id', 'user_id', name=op.f('pk_report_followers'))
    )
    with op.batch_alter_table('report_followers', schema=None) as batch_op:
        batch_op.create_index('ix_report_followers_user_id', ['user_id'], unique=False)

    op.create_table('report_photos',
    sa.Column('upload_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('hidden_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['report_events.id'], name=op.f('fk_report_photos_event_id_report_events')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_photos_report_id_reports')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_report_photos_upload_id_uploads')),
    sa.PrimaryKeyConstraint('upload_id', name=op.f('pk_report_photos'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index('ix_report_photos_report_id', ['report_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_report_photos_report_id')

    op.drop_table('report_photos')
    with op.batch_alter_table('report_followers', schema=None) as batch_op:
        batch_op.drop_index('ix_report_followers_user_id')

    op.drop_table('report_followers')
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.drop_index('ix_report_events_report_id')

    op.drop_table('report_events')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_uploads_owner_id')

    op.drop_table('uploads')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_street_created')
        batch_op.drop_index('ix_reports_reporter_created')
        batch_op.drop_index('ix_reports_grid_created')
        batch_op.drop_index('ix_reports_department_created')
        batch_op.drop_index('ix_reports_community_created')
        batch_op.drop_index('ix_reports_category_id')

    op.drop_table('reports')
    op.drop_table('report_counters')
    
