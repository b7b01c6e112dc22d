"""teams: founded_on, the day a team really began work

Visits are accepted from this day. Existing teams get their decision date, or else the day they were
registered in the app (in Vietnam), which is what visits were checked against until now.

Revision ID: 49c5cf0a1898
Revises: 91d31081335c
Create Date: 2026-11-24 10:30:00

"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '49c5cf0a1898'
down_revision = '91d31081335c'
branch_labels = None
depends_on = None

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('founded_on', sa.Date(), nullable=True))

    fill_founded_on(op.get_bind())


def fill_founded_on(conn) -> None:
    """Teams without a founding day get their decision date, else their registration day."""
    teams = sa.table("teams", sa.column("id", sa.Integer), sa.column("decision_date", sa.Date),
                     sa.column("created_at", sa.DateTime(timezone=True)), sa.column("founded_on", sa.Date))
    rows = conn.execute(sa.select(teams.c.id, teams.c.decision_date, teams.c.created_at)
                        .where(teams.c.founded_on.is_(None))).all()
    for row in rows:
        founded = row.decision_date
        if founded is None and row.created_at is not None:
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
            founded = created.astimezone(VN).date()
        if founded is not None:
            conn.execute(teams.update().where(teams.c.id == row.id).values(founded_on=founded))


def downgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('founded_on')
