"""coverage: cache token for the adult roll-up

Every coverage page and trend reads the adult counts of every leaf under its units (at province
scale ~2,200 units and their counts loaded into Python per request). Counts change a few times a
year, so workers keep the roll-up in memory under a token that triggers replace, in the same
transaction, whenever an adult count or the tree's shape (a unit added, moved or deleted) changes:
the same events as the household token, on adult_counts instead of household_counts, and any
change to unit_ancestors, which the roll-up joins (`flask coverage rebuild` rewrites it).

The triggers are named adult_token_*, not cov_*: they are not coverage tallies, and `flask coverage
verify` compares the cov_* triggers with app/coverage/store.py.

Revision ID: a7d2c5e91b04
Revises: b5e81d3c7a42
Create Date: 2026-12-02 02:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d2c5e91b04'
down_revision = 'b5e81d3c7a42'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.coverage.rollup built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM cache_tokens WHERE name = 'adult_counts'")


# --- Frozen SQL: app/coverage/rollup.py's output when this revision was written; do not edit ---

INSTALL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION adult_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO cache_tokens (name, token) VALUES ('adult_counts', (random() * 9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
      RETURN NULL;
    END $$""",
        ('CREATE TRIGGER adult_token_counts AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON adult_counts FOR '
         'EACH STATEMENT EXECUTE FUNCTION adult_token_bump()'),
        ('CREATE TRIGGER adult_token_units AFTER INSERT OR DELETE OR UPDATE OF parent_id, path OR TRUNCATE ON '
         'admin_units FOR EACH STATEMENT EXECUTE FUNCTION adult_token_bump()'),
        ('CREATE TRIGGER adult_token_ancestors AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_ancestors FOR '
         'EACH STATEMENT EXECUTE FUNCTION adult_token_bump()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER adult_token_counts_ins AFTER INSERT ON adult_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_counts_upd AFTER UPDATE ON adult_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_counts_del AFTER DELETE ON adult_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_units_ins AFTER INSERT ON admin_units BEGIN INSERT INTO cache_tokens (name, '
         "token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_units_upd AFTER UPDATE OF parent_id, path ON admin_units BEGIN INSERT INTO '
         "cache_tokens (name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET "
         'token = excluded.token; END'),
        ('CREATE TRIGGER adult_token_units_del AFTER DELETE ON admin_units BEGIN INSERT INTO cache_tokens (name, '
         "token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_ancestors_ins AFTER INSERT ON unit_ancestors BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_ancestors_upd AFTER UPDATE ON unit_ancestors BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER adult_token_ancestors_del AFTER DELETE ON unit_ancestors BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
    ],
}

FIRST_TOKEN = {
    "postgresql": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('adult_counts', (random() * 9.2e18)::bigint) ON "
         'CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'),
    ],
    "sqlite": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('adult_counts', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token;'),
    ],
}

UNINSTALL = {
    "postgresql": [
        'DROP TRIGGER IF EXISTS adult_token_counts ON adult_counts',
        'DROP TRIGGER IF EXISTS adult_token_units ON admin_units',
        'DROP TRIGGER IF EXISTS adult_token_ancestors ON unit_ancestors',
        'DROP FUNCTION IF EXISTS adult_token_bump()',
    ],
    "sqlite": [
        'DROP TRIGGER IF EXISTS adult_token_counts_ins',
        'DROP TRIGGER IF EXISTS adult_token_counts_upd',
        'DROP TRIGGER IF EXISTS adult_token_counts_del',
        'DROP TRIGGER IF EXISTS adult_token_units_ins',
        'DROP TRIGGER IF EXISTS adult_token_units_upd',
        'DROP TRIGGER IF EXISTS adult_token_units_del',
        'DROP TRIGGER IF EXISTS adult_token_ancestors_ins',
        'DROP TRIGGER IF EXISTS adult_token_ancestors_upd',
        'DROP TRIGGER IF EXISTS adult_token_ancestors_del',
    ],
}
