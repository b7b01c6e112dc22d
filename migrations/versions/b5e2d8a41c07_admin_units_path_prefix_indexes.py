"""perf: admin_units path indexes a prefix match can use on PostgreSQL (all units, the retired ones); counts by date

`AdminUnit.within` is `path LIKE '/1/7/%'`. PostgreSQL uses a btree for LIKE only under the C
collation, or with the pattern operator class: in a database created in C.UTF-8 (or vi_VN) every
subtree filter scanned all units. And "is any unit of this subtree retired", asked on every
coverage page, read every unit; over the retired units alone it reads those under the page.
On SQLite these are plain indexes (its LIKE is case-insensitive and uses neither). And
household_counts.effective_on, so the first month with data (a past month's page) is one index
entry instead of a scan of every count.

Revision ID: b5e2d8a41c07
Revises: f3a9c71d5b20
Create Date: 2026-12-02 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5e2d8a41c07'
down_revision = 'f3a9c71d5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_admin_units_path_prefix', 'admin_units', ['path'], unique=False,
                    postgresql_ops={'path': 'varchar_pattern_ops'})
    op.create_index('ix_admin_units_retired_path', 'admin_units', ['path'], unique=False,
                    postgresql_ops={'path': 'varchar_pattern_ops'},
                    sqlite_where=sa.text('retired_on IS NOT NULL'),
                    postgresql_where=sa.text('retired_on IS NOT NULL'))
    op.create_index('ix_household_counts_effective_on', 'household_counts', ['effective_on'], unique=False)


def downgrade():
    op.drop_index('ix_household_counts_effective_on', table_name='household_counts')
    op.drop_index('ix_admin_units_retired_path', table_name='admin_units')
    op.drop_index('ix_admin_units_path_prefix', table_name='admin_units')
