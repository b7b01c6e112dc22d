"""team placements: where a team was before a reorganization moved it to a new commune

The map as it was counted a month's teams by their commune today, so an old commune's report for
a month before the reform showed none. Built here from what exists: the audit events a
reorganization wrote for each team it moved (old commune, new commune, day); for a team in a
commune a reorganization made with no such event, the old commune that held most of its hamlets
the day before.

Revision ID: b5e81d3c7a42
Revises: b5e2d8a41c07
Create Date: 2026-12-02 03:00:00

"""
import json
from collections import Counter, defaultdict
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5e81d3c7a42'
down_revision = 'b5e2d8a41c07'
branch_labels = None
depends_on = None


def _day(value):
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moves_from_audit(conn) -> dict[int, list[tuple[date, int]]]:
    """{team id: [(day, old commune id)]} from the reorganization's "move team" events."""
    out = defaultdict(list)
    for team_id, changes in conn.execute(sa.text(
            "SELECT record_id, changes FROM audit_events WHERE action = 'move' AND record_type = 'team' "
            "ORDER BY id")):
        try:
            data = json.loads(changes or "{}")
            old = int(data["commune_id"]["before"])
            day = _day(data["on"]["after"])
        except (KeyError, TypeError, ValueError):
            continue
        if team_id is not None and day is not None:
            out[int(team_id)].append((day, old))
    return out


def _moves_from_hamlets(conn, known: set[int]) -> dict[int, list[tuple[date, int]]]:
    """For teams of a commune made by a reorganization, begun before it and with no audit event:
    the old commune that held most of the team's hamlets the day before the reform."""
    out = {}
    teams = conn.execute(sa.text(
        "SELECT t.id, u.valid_from, t.founded_on, t.decision_date, t.created_at FROM teams t "
        "JOIN admin_units u ON u.id = t.commune_id WHERE u.valid_from IS NOT NULL")).all()
    for team_id, valid_from, founded_on, decision_date, created_at in teams:
        if team_id in known:
            continue
        valid_from = _day(valid_from)
        began = _day(founded_on) or _day(decision_date) or _day(created_at)
        if began is None or began >= valid_from:
            continue
        parents = Counter(parent for (parent,) in conn.execute(sa.text(
            "SELECT p.parent_id FROM unit_placements p JOIN team_hamlets th ON th.hamlet_id = p.unit_id "
            "WHERE th.team_id = :team AND p.valid_to = :day"), {"team": team_id, "day": valid_from}))
        if parents:
            out[team_id] = [(valid_from, min(parents, key=lambda p: (-parents[p], p)))]
    return out


def upgrade():
    op.create_table('team_placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_units.id'], name=op.f('fk_team_placements_commune_id_admin_units')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_placements_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_placements'))
    )
    with op.batch_alter_table('team_placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_placements_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_placements_team_id'), ['team_id'], unique=False)

    conn = op.get_bind()
    moves = _moves_from_audit(conn)
    moves.update(_moves_from_hamlets(conn, set(moves)))
    existing = {i for (i,) in conn.execute(sa.text("SELECT id FROM teams"))}
    units = {i for (i,) in conn.execute(sa.text("SELECT id FROM admin_units"))}
    table = sa.table('team_placements', sa.column('team_id', sa.Integer), sa.column('commune_id', sa.Integer),
                     sa.column('valid_from', sa.Date), sa.column('valid_to', sa.Date))
    rows = []
    for team_id, steps in moves.items():
        if team_id not in existing:
            continue
        since = None
        for day, commune_id in sorted(steps):
            if commune_id in units:
                rows.append({"team_id": team_id, "commune_id": commune_id, "valid_from": since, "valid_to": day})
            since = day
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_table('team_placements')
