"""adult targets: several milestones per indicator and province, one per date

As the service targets (b8e4c2a7d913): Hồ Chí Minh City's "80% of adults verified on VNeID in 2025,
100% in 2026" is two milestones of one indicator; a month is shown against the one in force at its end.

Revision ID: c9f5d3b8e024
Revises: b8e4c2a7d913
Create Date: 2026-12-05 10:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c9f5d3b8e024'
down_revision = 'b8e4c2a7d913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('adult_targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_adult_targets_province_indicator', type_='unique')
        batch_op.create_unique_constraint('uq_adult_targets_province_indicator_due',
                                          ['province_id', 'indicator', 'due_on'])


def downgrade():
    # Back to one target per indicator and province: the milestone in force today stays (the earliest
    # one not yet passed, else the latest), the others go.
    op.execute("""
        DELETE FROM adult_targets WHERE id NOT IN (
            SELECT COALESCE(
                (SELECT t2.id FROM adult_targets t2 WHERE t2.province_id = t.province_id
                   AND t2.indicator = t.indicator AND t2.due_on >= CURRENT_DATE ORDER BY t2.due_on LIMIT 1),
                (SELECT t3.id FROM adult_targets t3 WHERE t3.province_id = t.province_id
                   AND t3.indicator = t.indicator ORDER BY t3.due_on DESC LIMIT 1))
            FROM adult_targets t)
    """)
    with op.batch_alter_table('adult_targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_adult_targets_province_indicator_due', type_='unique')
        batch_op.create_unique_constraint('uq_adult_targets_province_indicator', ['province_id', 'indicator'])
