"""perf: named learners by the month of their first class, per commune and per hamlet

"Distinct named learners up to a month's end" counted every named learner of the subtree since the
first class (a province page read ~400,000 rows). This table holds how many learners had their first
class each month, per commune and per hamlet (with the class's commune); the class operations keep it
(app/coverage/named_learners.py). Built here from the learners already recorded.

Revision ID: f3a9c71d5b20
Revises: c4e8a1f2d6b9
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


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


def downgrade():
    op.drop_table('named_learner_months')
