"""bookings: services, slots, bookings, their events, per-resident holds; users.birth_date

Revision ID: d4a6c8e0f279
Revises: c3f5a7b9d168
Create Date: 2026-12-05 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = 'd4a6c8e0f279'
down_revision: str | None = 'c3f5a7b9d168'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('booking_services',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('provider_kind', sa.String(length=16), nullable=False),
    sa.Column('provider_department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('provider_name', sa.String(length=100), nullable=True),
    sa.Column('opens_days_ahead', sa.Integer(), nullable=False),
    sa.Column('closes_minutes_before', sa.Integer(), nullable=False),
    sa.Column('cancel_minutes_before', sa.Integer(), nullable=False),
    sa.Column('max_active_per_resident', sa.Integer(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('eligible_grid_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('waitlist', sa.Boolean(), nullable=False),
    sa.Column('no_show_limit', sa.Integer(), nullable=False),
    sa.Column('no_show_block_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("kind IN ('appointment','venue','meal','class','errand')", name=op.f('ck_booking_services_kind')),
    sa.CheckConstraint("provider_kind IN ('department','grid_workers','partner')", name=op.f('ck_booking_services_provider_kind')),
    sa.CheckConstraint("status IN ('active','paused','retired')", name=op.f('ck_booking_services_status')),
    sa.CheckConstraint('opens_days_ahead >= 0 AND closes_minutes_before >= 0 AND cancel_minutes_before >= 0 AND max_active_per_resident >= 1 AND no_show_limit >= 0 AND no_show_block_days >= 0', name=op.f('ck_booking_services_rules')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_booking_services_community_id_grids')),
    sa.ForeignKeyConstraint(['provider_department_id'], ['departments.id'], name=op.f('fk_booking_services_provider_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_services'))
    )
    with op.batch_alter_table('booking_services', schema=None) as batch_op:
        batch_op.create_index('ix_booking_services_community_id', ['community_id', 'id'], unique=False)
        batch_op.create_index('ix_booking_services_provider_department_id', ['provider_department_id'], unique=False)

    op.create_table('booking_holds',
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bookings', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_booking_holds_resident_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['booking_services.id'], name=op.f('fk_booking_holds_service_id_booking_services')),
    sa.PrimaryKeyConstraint('service_id', 'resident_id', name=op.f('pk_booking_holds'))
    )
    op.create_table('booking_slots',
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('starts_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("status IN ('open','cancelled')", name=op.f('ck_booking_slots_status')),
    sa.CheckConstraint('capacity >= 1 AND booked >= 0 AND booked <= capacity', name=op.f('ck_booking_slots_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_booking_slots_times')),
    sa.ForeignKeyConstraint(['service_id'], ['booking_services.id'], name=op.f('fk_booking_slots_service_id_booking_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_slots')),
    sa.UniqueConstraint('service_id', 'starts_at', name='uq_booking_slots_service_id_starts_at')
    )
    op.create_table('bookings',
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grid_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('starts_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('for_family_member', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('preferred_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.String(length=500), nullable=True),
    sa.Column('rated_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("status IN ('booked','waitlisted','cancelled','attended','no_show','received','processing','done','cannot_do')", name=op.f('ck_bookings_status')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_bookings_rating')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_bookings_community_id_grids')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_bookings_grid_id_grids')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_bookings_resident_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['booking_services.id'], name=op.f('fk_bookings_service_id_booking_services')),
    sa.ForeignKeyConstraint(['slot_id'], ['booking_slots.id'], name=op.f('fk_bookings_slot_id_booking_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_grid_created', ['grid_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_bookings_remind', ['starts_at'], unique=False, postgresql_where=sa.text("status = 'booked' AND reminded_at IS NULL"), sqlite_where=sa.text("status = 'booked' AND reminded_at IS NULL"))
        batch_op.create_index('ix_bookings_resident_starts', ['resident_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index('ix_bookings_service_resident', ['service_id', 'resident_id', 'status'], unique=False)
        batch_op.create_index('ix_bookings_service_starts', ['service_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index('ix_bookings_slot_status', ['slot_id', 'status', 'id'], unique=False)
        batch_op.create_index('uq_bookings_slot_resident_active', ['slot_id', 'resident_id'], unique=True, postgresql_where=sa.text("status IN ('booked','waitlisted','received','processing')"), sqlite_where=sa.text("status IN ('booked','waitlisted','received','processing')"))

    op.create_table('booking_events',
    sa.Column('booking_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_booking_events_actor_id_users')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_events_booking_id_bookings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_events'))
    )
    with op.batch_alter_table('booking_events', schema=None) as batch_op:
        batch_op.create_index('ix_booking_events_booking_id', ['booking_id', 'id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('birth_date')
    op.drop_table('booking_events')  # a table's indexes go with it
    op.drop_table('bookings')
    op.drop_table('booking_slots')
    op.drop_table('booking_holds')
    op.drop_table('booking_services')
