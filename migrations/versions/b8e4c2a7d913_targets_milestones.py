"""targets: several milestones per service and province, one per date

A province's target for a service is a path of milestones (e-payment accounts: 50% by 2025, 80% by
2030, DOMAIN.md): a month is shown against the milestone in force then, the earliest one not yet
passed at its end. One target per service and province becomes one per service, province and date.

Revision ID: b8e4c2a7d913
Revises: a3f9d27c5e18
Create Date: 2026-12-05 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8e4c2a7d913'
down_revision = 'a3f9d27c5e18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_targets_service_province', type_='unique')
        batch_op.create_unique_constraint('uq_targets_service_province_due', ['service_id', 'province_id', 'due_on'])


def downgrade():
    # Back to one target per service and province: the milestone in force today stays (the earliest
    # one not yet passed, else the latest), the others go.
    op.execute("""
        DELETE FROM targets WHERE id NOT IN (
            SELECT COALESCE(
                (SELECT t2.id FROM targets t2 WHERE t2.service_id = t.service_id AND t2.province_id = t.province_id
                   AND t2.due_on >= CURRENT_DATE ORDER BY t2.due_on LIMIT 1),
                (SELECT t3.id FROM targets t3 WHERE t3.service_id = t.service_id AND t3.province_id = t.province_id
                   ORDER BY t3.due_on DESC LIMIT 1))
            FROM targets t)
    """)
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_targets_service_province_due', type_='unique')
        batch_op.create_unique_constraint('uq_targets_service_province', ['service_id', 'province_id'])
