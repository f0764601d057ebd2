"""deliberation: proposals, supports, comments, votes and their roll, budgets, 民生微实事 projects, announcements

Revision ID: f6c8e0a2b49b
Revises: e5b7d9f1a38a
Create Date: 2026-12-05 05:05:51.211096

The timeline (proposal_events) and project milestones are insert-only on PostgreSQL, like report_events.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = 'f6c8e0a2b49b'
down_revision: str | None = 'e5b7d9f1a38a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSERT_ONLY = ("proposal_events", "project_milestones")


def upgrade() -> None:
    op.create_table('budgets',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('reserved >= 0 AND reserved <= amount', name=op.f('ck_budgets_within_amount')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_budgets_year')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_budgets_community_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets')),
    sa.UniqueConstraint('community_id', 'year', name='uq_budgets_community_id_year')
    )
    op.create_table('deliberation_settings',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('support_threshold', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('support_threshold >= 1', name=op.f('ck_deliberation_settings_support_threshold')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_deliberation_settings_community_id_grids')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_deliberation_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('community_id', name=op.f('pk_deliberation_settings'))
    )
    op.create_table('proposals',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_path', sa.String(length=255), nullable=False),
    sa.Column('proposer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('estimated_cost', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('support_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('declined_reason', sa.Text(), nullable=True),
    sa.Column('plan_text', sa.Text(), nullable=True),
    sa.Column('cost', sa.Integer(), nullable=True),
    sa.Column('notice_starts_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notice_ends_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('budget_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reserved_amount', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('decided_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('adopted','not_adopted')", name=op.f('ck_proposals_outcome')),
    sa.CheckConstraint("state IN ('open','on_agenda','in_notice','voting','decided','declined','withdrawn')", name=op.f('ck_proposals_state')),
    sa.CheckConstraint('version >= 1 AND support_count >= 0', name=op.f('ck_proposals_counters')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_proposals_budget_id_budgets')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_proposals_community_id_grids')),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_proposals_proposer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_budget_id', ['budget_id'], unique=False)
        batch_op.create_index('ix_proposals_community_created', ['community_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_proposals_path_created', ['community_path', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_proposals_proposer_id', ['proposer_id'], unique=False)

    op.create_table('announcements',
    sa.Column('grid_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('expires_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('withdrawn_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_announcements_author_id_users')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_announcements_grid_id_grids')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_announcements_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index('ix_announcements_author_id', ['author_id'], unique=False)
        batch_op.create_index('ix_announcements_grid_feed', ['grid_id', 'pinned', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_announcements_grid_path', ['grid_path'], unique=False)
        batch_op.create_index('ix_announcements_proposal_id', ['proposal_id'], unique=False)

    op.create_table('micro_projects',
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_path', sa.String(length=255), nullable=False),
    sa.Column('budget_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('spent', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('follower_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("state IN ('planned','in_progress','completed')", name=op.f('ck_micro_projects_state')),
    sa.CheckConstraint('cost >= 0 AND spent >= 0', name=op.f('ck_micro_projects_money')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_micro_projects_budget_id_budgets')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_micro_projects_community_id_grids')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_micro_projects_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_micro_projects')),
    sa.UniqueConstraint('proposal_id', name='uq_micro_projects_proposal_id')
    )
    with op.batch_alter_table('micro_projects', schema=None) as batch_op:
        batch_op.create_index('ix_micro_projects_budget_id', ['budget_id'], unique=False)
        batch_op.create_index('ix_micro_projects_community_created', ['community_id', 'created_at', 'id'], unique=False)

    op.create_table('proposal_comments',
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('hidden_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.Column('hidden_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposal_comments_author_id_users')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_proposal_comments_hidden_by_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['proposal_comments.id'], name=op.f('fk_proposal_comments_parent_id_proposal_comments')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_comments_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_comments'))
    )
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_comments_author_id', ['author_id'], unique=False)
        batch_op.create_index('ix_proposal_comments_parent_id', ['parent_id'], unique=False)
        batch_op.create_index('ix_proposal_comments_thread', ['proposal_id', 'parent_id', 'created_at', 'id'], unique=False)

    op.create_table('proposal_events',
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_proposal_events_actor_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_events_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_events'))
    )
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_events_proposal_id', ['proposal_id', 'id'], unique=False)

    op.create_table('proposal_supports',
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_supports_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_proposal_supports_user_id_users')),
    sa.PrimaryKeyConstraint('proposal_id', 'user_id', name=op.f('pk_proposal_supports'))
    )
    with op.batch_alter_table('proposal_supports', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_supports_user_id', ['user_id'], unique=False)

    op.create_table('votes',
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('electorate_grid_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('electorate_path', sa.String(length=255), nullable=False),
    sa.Column('ballot_kind', sa.String(length=16), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('rule_kind', sa.String(length=24), nullable=False),
    sa.Column('share_num', sa.Integer(), nullable=False),
    sa.Column('share_den', sa.Integer(), nullable=False),
    sa.Column('quorum_num', sa.Integer(), nullable=False),
    sa.Column('quorum_den', sa.Integer(), nullable=False),
    sa.Column('opens_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('electorate_size', sa.Integer(), nullable=False),
    sa.Column('ballots_cast', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('tallied_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('result_reason', sa.String(length=24), nullable=True),
    sa.Column('winner_key', sa.String(length=16), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("ballot_kind IN ('yes_no','choices')", name=op.f('ck_votes_ballot_kind')),
    sa.CheckConstraint("rule_kind IN ('simple_majority','electorate_share')", name=op.f('ck_votes_rule_kind')),
    sa.CheckConstraint('ballots_cast >= 0 AND ballots_cast <= electorate_size', name=op.f('ck_votes_turnout')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_votes_window')),
    sa.CheckConstraint('share_num >= 0 AND share_den >= 1 AND share_num <= share_den AND quorum_num >= 0 AND quorum_den >= 1 AND quorum_num <= quorum_den', name=op.f('ck_votes_fractions')),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name=op.f('fk_votes_community_id_grids')),
    sa.ForeignKeyConstraint(['electorate_grid_id'], ['grids.id'], name=op.f('fk_votes_electorate_grid_id_grids')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_votes_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('proposal_id', name='uq_votes_proposal_id')
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_due', ['closes_at'], unique=False, postgresql_where=sa.text('tallied_at IS NULL'), sqlite_where=sa.text('tallied_at IS NULL'))
        batch_op.create_index('ix_votes_electorate_grid_id', ['electorate_grid_id'], unique=False)

    op.create_table('project_followers',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['micro_projects.id'], name=op.f('fk_project_followers_project_id_micro_projects')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_project_followers_user_id_users')),
    sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_project_followers'))
    )
    with op.batch_alter_table('project_followers', schema=None) as batch_op:
        batch_op.create_index('ix_project_followers_user_id', ['user_id'], unique=False)

    op.create_table('project_milestones',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('amount_spent', sa.Integer(), nullable=False),
    sa.Column('completes', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('amount_spent >= 0', name=op.f('ck_project_milestones_amount_spent')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_project_milestones_author_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['micro_projects.id'], name=op.f('fk_project_milestones_project_id_micro_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_milestones'))
    )
    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.create_index('ix_project_milestones_project_id', ['project_id', 'id'], unique=False)

    op.create_table('vote_options',
    sa.Column('vote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('ballots', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('ballots >= 0', name=op.f('ck_vote_options_ballots')),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_options_vote_id_votes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_options')),
    sa.UniqueConstraint('vote_id', 'key', name='uq_vote_options_vote_id_key')
    )
    op.create_table('deliberation_photos',
    sa.Column('upload_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('milestone_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('(proposal_id IS NULL) <> (milestone_id IS NULL)', name=op.f('ck_deliberation_photos_one_owner')),
    sa.ForeignKeyConstraint(['milestone_id'], ['project_milestones.id'], name=op.f('fk_deliberation_photos_milestone_id_project_milestones')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_deliberation_photos_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_deliberation_photos_upload_id_uploads')),
    sa.PrimaryKeyConstraint('upload_id', name=op.f('pk_deliberation_photos'))
    )
    with op.batch_alter_table('deliberation_photos', schema=None) as batch_op:
        batch_op.create_index('ix_deliberation_photos_milestone_id', ['milestone_id'], unique=False)
        batch_op.create_index('ix_deliberation_photos_proposal_id', ['proposal_id'], unique=False)

    op.create_table('vote_electors',
    sa.Column('vote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('voted', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('option_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['option_id'], ['vote_options.id'], name=op.f('fk_vote_electors_option_id_vote_options')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_vote_electors_user_id_users')),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_electors_vote_id_votes')),
    sa.PrimaryKeyConstraint('vote_id', 'user_id', name=op.f('pk_vote_electors'))
    )
    with op.batch_alter_table('vote_electors', schema=None) as batch_op:
        batch_op.create_index('ix_vote_electors_user_id', ['user_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # weilinli_insert_only() comes from 6d2a8e4f0b13
        for t in INSERT_ONLY:
            op.execute(f"CREATE TRIGGER {t}_insert_only BEFORE UPDATE OR DELETE ON {t} "
                       f"FOR EACH ROW EXECUTE FUNCTION weilinli_insert_only()")
            op.execute(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION weilinli_insert_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in INSERT_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
            op.execute(f"DROP TRIGGER IF EXISTS {t}_insert_only ON {t}")
    with op.batch_alter_table('vote_electors', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_electors_user_id')

    op.drop_table('vote_electors')
    with op.batch_alter_table('deliberation_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_deliberation_photos_proposal_id')
        batch_op.drop_index('ix_deliberation_photos_milestone_id')

    op.drop_table('deliberation_photos')
    op.drop_table('vote_options')
    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_project_milestones_project_id')

    op.drop_table('project_milestones')
    with op.batch_alter_table('project_followers', schema=None) as batch_op:
        batch_op.drop_index('ix_project_followers_user_id')

    op.drop_table('project_followers')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_electorate_grid_id')
        batch_op.drop_index('ix_votes_due', postgresql_where=sa.text('tallied_at IS NULL'), sqlite_where=sa.text('tallied_at IS NULL'))

    op.drop_table('votes')
    with op.batch_alter_table('proposal_supports', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_supports_user_id')

    op.drop_table('proposal_supports')
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_events_proposal_id')

    op.drop_table('proposal_events')
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_comments_thread')
        batch_op.drop_index('ix_proposal_comments_parent_id')
        batch_op.drop_index('ix_proposal_comments_author_id')

    op.drop_table('proposal_comments')
    with op.batch_alter_table('micro_projects', schema=None) as batch_op:
        batch_op.drop_index('ix_micro_projects_community_created')
        batch_op.drop_index('ix_micro_projects_budget_id')

    op.drop_table('micro_projects')
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.drop_index('ix_announcements_proposal_id')
        batch_op.drop_index('ix_announcements_grid_path')
        batch_op.drop_index('ix_announcements_grid_feed')
        batch_op.drop_index('ix_announcements_author_id')

    op.drop_table('announcements')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_proposer_id')
        batch_op.drop_index('ix_proposals_path_created')
        batch_op.drop_index('ix_proposals_community_created')
        batch_op.drop_index('ix_proposals_budget_id')

    op.drop_table('proposals')
    op.drop_table('deliberation_settings')
    op.drop_table('budgets')
