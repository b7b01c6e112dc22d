"""perf: coverage totals (each unit's tallies over all months), kept by the same triggers

A current-month coverage page read four years of monthly tallies per unit and service and summed
them (~2 ms of a district page at province scale, on SQLite and PostgreSQL alike); it now reads one
running total per unit and service, minus any months after the one shown. The triggers are
replaced by ones that keep both tables; the totals start from the tallies already stored.

Revision ID: a880f591097b
Revises: 5bc56afce846
Create Date: 2026-11-23 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a880f591097b'
down_revision = '5bc56afce846'
branch_labels = None
depends_on = None


def upgrade():
    from app.coverage import store
    conn = op.get_bind()
    op.create_table('coverage_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_coverage_totals_unit_id_admin_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'service_id', name=op.f('pk_coverage_totals'))
    )
    store.uninstall(conn)
    conn.exec_driver_sql("INSERT INTO coverage_totals (unit_id, service_id, households) "
                         + store.expected_totals_sql("SELECT unit_id, service_id, households FROM coverage_tallies"))
    store.install(conn)
    op.drop_index('ix_coverage_tallies_covering', table_name='coverage_tallies')
    op.create_index('ix_coverage_tallies_unit_month', 'coverage_tallies',
                    ['unit_id', 'month', 'service_id', 'households'], unique=False)


def downgrade():
    from app.coverage import store
    conn = op.get_bind()
    store.uninstall(conn)
    op.drop_table('coverage_totals')
    store.install(conn, totals=False)
    op.drop_index('ix_coverage_tallies_unit_month', table_name='coverage_tallies')
    op.create_index('ix_coverage_tallies_covering', 'coverage_tallies',
                    ['unit_id', 'service_id', 'month', 'households'], unique=False)
