"""adult counts (aged 15 and over, per unit, from a date) and the province's adult indicator targets

Revision ID: a4d1e7c3b910
Revises: db9efc4d5e93
Create Date: 2026-12-01 23:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4d1e7c3b910'
down_revision = 'db9efc4d5e93'
branch_labels = None
depends_on = None

# Frozen here as app.rules has it at this revision.
ADULTS_MAX = 100_000_000


def upgrade():
    op.create_table('adult_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f'adults >= 0 AND adults <= {ADULTS_MAX}', name=op.f('ck_adult_counts_adults_range')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_adult_counts_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_adult_counts_unit_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adult_counts')),
    sa.UniqueConstraint('unit_id', 'effective_on', name='uq_adult_counts_unit_date')
    )
    with op.batch_alter_table('adult_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adult_counts_unit_id'), ['unit_id'], unique=False)

    op.create_table('adult_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=32), nullable=False),
    sa.Column('share', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.CheckConstraint('share > 0 AND share <= 1', name=op.f('ck_adult_targets_share_range')),
    sa.ForeignKeyConstraint(['province_id'], ['admin_units.id'], name=op.f('fk_adult_targets_province_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adult_targets')),
    sa.UniqueConstraint('province_id', 'indicator', name='uq_adult_targets_province_indicator')
    )


def downgrade():
    op.drop_table('adult_targets')
    with op.batch_alter_table('adult_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adult_counts_unit_id'))
    op.drop_table('adult_counts')
