"""household erasure (bridge for databases made at this revision)

Revision ID: 33aff5c3fbaf
Revises: 42422035ad56
Create Date: 2026-11-23 16:57:29.211422

A migration with this id was released (households.erased_by_id, with a foreign key) and then replaced
by 42422035ad56, which adds the same column and members.active_phone. A database stamped
33aff5c3fbaf has the column but not active_phone. Placed after 42422035ad56, this revision lets Alembic
find such a database in the history; c2dbe460a0aa, which merges it back, adds what it lacks.
A database that came through 42422035ad56 passes here without a change.
"""


# revision identifiers, used by Alembic.
revision = '33aff5c3fbaf'
down_revision = '42422035ad56'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
