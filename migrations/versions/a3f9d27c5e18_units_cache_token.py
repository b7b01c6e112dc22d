"""coverage: the household roll-up's token also follows the units (names, dates, successions, placements)

A coverage page read every child of its unit (a city's 168 communes, to show 20) and, for a unit a
reorganization made, its "before 07/2025" note, on every request. Both change only when the units do,
so workers keep them under the household roll-up's token, which these triggers now replace on any
change to admin_units (a rename or a date, not only its place in the tree), unit_successions and
unit_placements (app/coverage/rollup.py, app/units/history.py).

Revision ID: a3f9d27c5e18
Revises: f7c3a9e2d4b6
Create Date: 2026-12-03 09:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3f9d27c5e18'
down_revision = 'f7c3a9e2d4b6'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.coverage.store built it at this revision.
    for sql in REMOVE[conn.dialect.name] + INSTALL[conn.dialect.name] + NEW_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name] + RESTORE[conn.dialect.name]:
        conn.exec_driver_sql(sql)


# --- Frozen SQL: app/coverage/store.py's output when this revision was written; do not edit ---

_SQLITE_TOKEN = ("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', random()) ON CONFLICT (name) "
                 "DO UPDATE SET token = excluded.token;")

REMOVE = {
    "postgresql": ["DROP TRIGGER IF EXISTS cov_token_units ON admin_units"],
    "sqlite": ["DROP TRIGGER IF EXISTS cov_token_units_upd"],
}

INSTALL = {
    "postgresql": [
        ('CREATE TRIGGER cov_token_units AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON admin_units FOR EACH '
         'STATEMENT EXECUTE FUNCTION cov_token_bump()'),
        ('CREATE TRIGGER cov_token_successions AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_successions '
         'FOR EACH STATEMENT EXECUTE FUNCTION cov_token_bump()'),
        ('CREATE TRIGGER cov_token_placements AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_placements '
         'FOR EACH STATEMENT EXECUTE FUNCTION cov_token_bump()'),
    ],
    "sqlite": [
        f"CREATE TRIGGER cov_token_units_upd AFTER UPDATE ON admin_units BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_successions_ins AFTER INSERT ON unit_successions BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_successions_upd AFTER UPDATE ON unit_successions BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_successions_del AFTER DELETE ON unit_successions BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_placements_ins AFTER INSERT ON unit_placements BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_placements_upd AFTER UPDATE ON unit_placements BEGIN {_SQLITE_TOKEN} END",
        f"CREATE TRIGGER cov_token_placements_del AFTER DELETE ON unit_placements BEGIN {_SQLITE_TOKEN} END",
    ],
}

# What a worker kept before the upgrade was kept under the old rule: a new token.
NEW_TOKEN = {
    "postgresql": [("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', (random() * 9.2e18)::bigint) "
                    "ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;")],
    "sqlite": [_SQLITE_TOKEN],
}

UNINSTALL = {
    "postgresql": ["DROP TRIGGER IF EXISTS cov_token_units ON admin_units",
                   "DROP TRIGGER IF EXISTS cov_token_successions ON unit_successions",
                   "DROP TRIGGER IF EXISTS cov_token_placements ON unit_placements"],
    "sqlite": ["DROP TRIGGER IF EXISTS cov_token_units_upd"] + [
        f"DROP TRIGGER IF EXISTS cov_token_{table}_{event}"
        for table in ("successions", "placements") for event in ("ins", "upd", "del")],
}

# The trigger as revision e03734509469 made it.
RESTORE = {
    "postgresql": [('CREATE TRIGGER cov_token_units AFTER INSERT OR DELETE OR UPDATE OF parent_id, path OR TRUNCATE '
                    'ON admin_units FOR EACH STATEMENT EXECUTE FUNCTION cov_token_bump()')],
    "sqlite": [f"CREATE TRIGGER cov_token_units_upd AFTER UPDATE OF parent_id, path ON admin_units BEGIN {_SQLITE_TOKEN} "
               "END"],
}
