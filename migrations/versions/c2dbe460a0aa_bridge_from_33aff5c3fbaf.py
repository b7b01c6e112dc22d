"""merge the 33aff5c3fbaf bridge: add what a database made at that revision lacks

Revision ID: c2dbe460a0aa
Revises: e03734509469, 33aff5c3fbaf
Create Date: 2026-12-01 21:10:00.000000

A database stamped 33aff5c3fbaf never ran 42422035ad56: it has households.erased_by_id (with a foreign
key the model no longer has) but not members.active_phone and its unique index. Every other database
already has both, and this does nothing to it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2dbe460a0aa'
down_revision = ('e03734509469', '33aff5c3fbaf')
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if 'active_phone' in {c['name'] for c in inspector.get_columns('members')}:
        return
    # As 42422035ad56 does it (plain ALTER TABLE: no SQLite rebuild of tables the triggers name).
    op.add_column('members', sa.Column('active_phone', sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE members SET active_phone = phone WHERE phone <> '' "
        "AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.member_id = members.id AND ms.left_on IS NULL) "
        "AND id = (SELECT min(m2.id) FROM members m2 JOIN memberships ms2 ON ms2.member_id = m2.id "
        "AND ms2.left_on IS NULL WHERE m2.phone = members.phone AND m2.province_id = members.province_id)")
    op.create_index('uq_members_province_active_phone', 'members', ['province_id', 'active_phone'], unique=True)
    if bind.dialect.name == 'postgresql':
        # The old revision's foreign key. SQLite keeps it: removing it means rebuilding households.
        op.execute('ALTER TABLE households DROP CONSTRAINT IF EXISTS fk_households_erased_by_id_users')


def downgrade():
    pass
