"""households: a partial index of the merged ones

The monthly report's counts leave merged households out with `household_id NOT IN (SELECT id FROM
households WHERE merged_into_id IS NOT NULL)`. With no index to find those few rows, PostgreSQL read
the whole households table for each count (a hashed subplan over a sequential scan: 43 of a statement's
116 ms on the province-scale seed, and ten times that on a city's 5 M households). This index holds
only the merged households, so finding them reads a handful of index entries.

Revision ID: d2f6b8a4c1e5
Revises: c4e7a1f93d62
Create Date: 2026-12-02 10:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd2f6b8a4c1e5'
down_revision = 'c4e7a1f93d62'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_households_merged", "households", ["id"],
                    sqlite_where=sa.text("merged_into_id IS NOT NULL"),
                    postgresql_where=sa.text("merged_into_id IS NOT NULL"))


def downgrade():
    op.drop_index("ix_households_merged", table_name="households")
