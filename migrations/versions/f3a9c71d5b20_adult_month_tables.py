"""perf: adult figures kept by month: named learners by first-class month, class and shift sums

"Distinct named learners up to a month's end" counted every named learner of the subtree since the
first class (a province page read ~400,000 rows). This table holds how many learners had their first
class each month, per commune and per hamlet (with the class's commune); the class operations keep it
(app/coverage/named_learners.py). Built here from the learners already recorded. And
activity_months: the classes' learners, services working and shifts' online dossiers summed per
commune (and hamlet held in) and month (app/coverage/activity_months.py).

Revision ID: f3a9c71d5b20
Revises: c4e8a1f2d6b9
Create Date: 2026-12-02 01:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3a9c71d5b20'
down_revision = 'c4e8a1f2d6b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('named_learner_months',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'commune_id', 'month', name=op.f('pk_named_learner_months'))
    )
    # Frozen as app.coverage.named_learners.expected() built it at this revision.
    month = ("CAST(strftime('%Y%m', c.held_on) AS INTEGER)" if op.get_bind().dialect.name == "sqlite"
             else "CAST(to_char(c.held_on, 'YYYYMM') AS INTEGER)")
    op.execute(f"""
        INSERT INTO named_learner_months (unit_id, commune_id, month, learners)
        SELECT commune_id, commune_id, month, count(*) FROM (
            SELECT c.commune_id, l.person_key, min({month}) AS month
            FROM class_learners l JOIN classes c ON c.id = l.class_id
            GROUP BY c.commune_id, l.person_key) f
        GROUP BY commune_id, month
        UNION ALL
        SELECT home, commune_id, month, count(*) FROM (
            SELECT coalesce(l.hamlet_id, c.place_hamlet_id) AS home, c.commune_id, l.person_key,
                   min({month}) AS month
            FROM class_learners l JOIN classes c ON c.id = l.class_id
            WHERE coalesce(l.hamlet_id, c.place_hamlet_id) IS NOT NULL
            GROUP BY coalesce(l.hamlet_id, c.place_hamlet_id), c.commune_id, l.person_key) h
        GROUP BY home, commune_id, month
    """)

    op.create_table('activity_months',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('measure', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'commune_id', 'month', 'measure', name=op.f('pk_activity_months'))
    )
    # Frozen as app.coverage.activity_months.expected() built it at this revision: measure 0 the
    # classes' learners, a service's id those with it working, -1 the shifts' online dossiers.
    shift_month = month.replace("c.held_on", "s.held_on")
    op.execute(f"""
        INSERT INTO activity_months (unit_id, commune_id, month, measure, n)
        SELECT unit_id, commune_id, month, measure, sum(n) FROM (
            SELECT c.commune_id AS unit_id, c.commune_id, {month} AS month, 0 AS measure, c.learners_total AS n
            FROM classes c
            UNION ALL
            SELECT c.place_hamlet_id, c.commune_id, {month}, 0, c.learners_total
            FROM classes c WHERE c.place_hamlet_id IS NOT NULL
            UNION ALL
            SELECT c.commune_id, c.commune_id, {month}, r.service_id, r.learners
            FROM classes c JOIN class_results r ON r.class_id = c.id
            UNION ALL
            SELECT c.place_hamlet_id, c.commune_id, {month}, r.service_id, r.learners
            FROM classes c JOIN class_results r ON r.class_id = c.id WHERE c.place_hamlet_id IS NOT NULL
            UNION ALL
            SELECT s.commune_id, s.commune_id, {shift_month}, -1, d.dossiers
            FROM centre_shifts s JOIN shift_dossiers d ON d.shift_id = s.id) a
        GROUP BY unit_id, commune_id, month, measure
        HAVING sum(n) <> 0
    """)


def downgrade():
    op.drop_table('activity_months')
    op.drop_table('named_learner_months')
