"""visits: one index on (team_id, visited_on) instead of team_id alone

Every visit form puts the services its team recorded most in the last 90 days first
(`catalogue.by_team_use`): the team's recent visits. With an index on the team and another on the
day, PostgreSQL combined the two, reading every visit of the province's last 90 days from the day's
index (249,113 entries for a team's 260 visits on the province-scale seed): 15 ms of server CPU on
each visit form, 23 of the 25 s PostgreSQL spent on the saturation bench's mix. On (team, day) it
reads the team's latest entries only, and with the visit's id in the index (PostgreSQL's INCLUDE;
SQLite's index entries hold it anyway) not the visits themselves. The new index serves every lookup
by team as the old one did.

Building it reads the visits once: PostgreSQL lets nobody write visits meanwhile (2.3 s on a
province's 3 M visits, 15-17 s on a city's 30 M).

Revision ID: f7c3a9e2d4b6
Revises: e5b1c9d7a3f2
Create Date: 2026-12-03 03:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7c3a9e2d4b6'
down_revision = 'e5b1c9d7a3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_visits_team_id_visited_on", "visits", ["team_id", "visited_on"], postgresql_include=["id"])
    op.drop_index("ix_visits_team_id", table_name="visits")


def downgrade():
    op.create_index("ix_visits_team_id", "visits", ["team_id"])
    op.drop_index("ix_visits_team_id_visited_on", table_name="visits")
