"""hamlet changes: merges, splits and renames of hamlets, each from a date

Revision ID: c4e8a1f2d6b9
Revises: c4e8a1f27d90
Create Date: 2026-12-01 23:55:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8a1f2d6b9'
down_revision = 'c4e8a1f27d90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'hamlet_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('commune_id', sa.Integer(), nullable=False),
        sa.Column('from_unit_id', sa.Integer(), nullable=False),
        sa.Column('to_unit_id', sa.Integer(), nullable=False),
        sa.Column('from_name', sa.String(length=200), nullable=False),
        sa.Column('to_name', sa.String(length=200), nullable=False),
        sa.Column('households_moved', sa.Integer(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['commune_id'], ['admin_units.id'], name=op.f('fk_hamlet_changes_commune_id_admin_units')),
        sa.ForeignKeyConstraint(['from_unit_id'], ['admin_units.id'], name=op.f('fk_hamlet_changes_from_unit_id_admin_units')),
        sa.ForeignKeyConstraint(['to_unit_id'], ['admin_units.id'], name=op.f('fk_hamlet_changes_to_unit_id_admin_units')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_hamlet_changes_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hamlet_changes')),
    )
    with op.batch_alter_table('hamlet_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hamlet_changes_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hamlet_changes_from_unit_id'), ['from_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hamlet_changes_to_unit_id'), ['to_unit_id'], unique=False)


def downgrade():
    op.drop_table('hamlet_changes')
