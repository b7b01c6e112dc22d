"""household erasure, active members' phones

Revision ID: 42422035ad56
Revises: 45f28e4b5059
Create Date: 2026-11-23 17:12:10.446872

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '42422035ad56'
down_revision = '45f28e4b5059'
branch_labels = None
depends_on = None


# Plain ALTER TABLE only: a SQLite batch rebuild of households or members would drop tables that
# visits, memberships and the coverage triggers refer to.
def upgrade():
    op.add_column('households', sa.Column('erased_by_id', sa.Integer(), nullable=True))
    op.add_column('members', sa.Column('active_phone', sa.String(length=16), nullable=True))
    # Members in a team now carry their phone in active_phone; should two of a province already share
    # one (saved at the same moment before this index), the earliest registered keeps it.
    op.execute(
        "UPDATE members SET active_phone = phone WHERE phone <> '' "
        "AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.member_id = members.id AND ms.left_on IS NULL) "
        "AND id = (SELECT min(m2.id) FROM members m2 JOIN memberships ms2 ON ms2.member_id = m2.id "
        "AND ms2.left_on IS NULL WHERE m2.phone = members.phone AND m2.province_id = members.province_id)")
    op.create_index('uq_members_province_active_phone', 'members', ['province_id', 'active_phone'], unique=True)


def downgrade():
    op.drop_index('uq_members_province_active_phone', table_name='members')
    op.drop_column('members', 'active_phone')
    op.drop_column('households', 'erased_by_id')
