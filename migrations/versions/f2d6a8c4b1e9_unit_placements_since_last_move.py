"""unit placements: a hamlet a second plan moved hung under its first new commune from the first plan's day

A reorganization records where each hamlet it moves hung until its day. It dated that placement from the hamlet's
own beginning, so a hamlet moved by two plans (a later plan ends every commune it names) hung, by its placements,
under its old commune and under the commune of the first plan at once on every day before the first plan: the
map of such a day lost the hamlet from its old commune (whose page no one could then read, its last day holding
nothing). Each placement now starts where the hamlet's placement before it ended, as the reorganization records
it from now on.

Revision ID: f2d6a8c4b1e9
Revises: e7c2b9f4a1d3
Create Date: 2026-12-08 03:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2d6a8c4b1e9'
down_revision = 'e7c2b9f4a1d3'
branch_labels = None
depends_on = None

# The end of the same hamlet's placement before this one (the latest that ended before it), if any.
BEFORE = ("(SELECT max(p.valid_to) FROM unit_placements p WHERE p.unit_id = unit_placements.unit_id "
          "AND p.valid_to < unit_placements.valid_to)")


def upgrade():
    op.execute(f"UPDATE unit_placements SET valid_from = {BEFORE} "
               f"WHERE {BEFORE} IS NOT NULL AND (valid_from IS NULL OR valid_from < {BEFORE})")


def downgrade():
    # The overlapping dates were the mistake; nothing reads the placements differently at the revision before.
    pass
