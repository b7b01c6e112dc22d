"""perf: covering index for coverage tallies

A coverage page sums a few units' tallies up to a month; with this index PostgreSQL reads them from
the index alone instead of ~2,400 scattered table pages at province scale. Created directly (no
batch mode), so SQLite does not rebuild the table and lose its coverage triggers.

Revision ID: 5bc56afce846
Revises: 42422035ad56
Create Date: 2026-11-23 17:25:58.297557

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5bc56afce846'
down_revision = '42422035ad56'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_coverage_tallies_covering', 'coverage_tallies',
                    ['unit_id', 'service_id', 'month', 'households'], unique=False)


def downgrade():
    op.drop_index('ix_coverage_tallies_covering', table_name='coverage_tallies')
