"""coverage: cache token for the household roll-up

Every coverage page and trend reads the household counts' history of every leaf under the unit
(~3 ms for a province on PostgreSQL). Counts change a few times a year, so workers keep the result
in memory under a token that triggers replace, in the same transaction, whenever a household count
or the tree's shape (a unit added, moved or deleted) changes.

Revision ID: e03734509469
Revises: a880f591097b
Create Date: 2026-11-23 23:00:35.876480

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e03734509469'
down_revision = 'a880f591097b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cache_tokens',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_tokens'))
    )
    conn = op.get_bind()
    # The SQL below is frozen as app.coverage.store built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    op.drop_table('cache_tokens')


# --- Frozen SQL: app/coverage/store.py's output when this revision was written; do not edit ---

INSTALL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION cov_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO cache_tokens (name, token) VALUES ('household_counts', (random() * 9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
      RETURN NULL;
    END $$""",
        ('CREATE TRIGGER cov_token_counts AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON household_counts FOR '
         'EACH STATEMENT EXECUTE FUNCTION cov_token_bump()'),
        ('CREATE TRIGGER cov_token_units AFTER INSERT OR DELETE OR UPDATE OF parent_id, path OR TRUNCATE ON '
         'admin_units FOR EACH STATEMENT EXECUTE FUNCTION cov_token_bump()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER cov_token_counts_ins AFTER INSERT ON household_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER cov_token_counts_upd AFTER UPDATE ON household_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER cov_token_counts_del AFTER DELETE ON household_counts BEGIN INSERT INTO cache_tokens '
         "(name, token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER cov_token_units_ins AFTER INSERT ON admin_units BEGIN INSERT INTO cache_tokens (name, '
         "token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
        ('CREATE TRIGGER cov_token_units_upd AFTER UPDATE OF parent_id, path ON admin_units BEGIN INSERT INTO '
         "cache_tokens (name, token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET "
         'token = excluded.token; END'),
        ('CREATE TRIGGER cov_token_units_del AFTER DELETE ON admin_units BEGIN INSERT INTO cache_tokens (name, '
         "token) VALUES ('household_counts', random()) ON CONFLICT (name) DO UPDATE SET token = "
         'excluded.token; END'),
    ],
}

FIRST_TOKEN = {
    "postgresql": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', (random() * 9.2e18)::bigint) ON "
         'CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'),
    ],
    "sqlite": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token;'),
    ],
}

UNINSTALL = {
    "postgresql": [
        'DROP TRIGGER IF EXISTS cov_token_counts ON household_counts',
        'DROP TRIGGER IF EXISTS cov_token_units ON admin_units',
        'DROP FUNCTION IF EXISTS cov_token_bump()',
    ],
    "sqlite": [
        'DROP TRIGGER IF EXISTS cov_token_counts_ins',
        'DROP TRIGGER IF EXISTS cov_token_counts_upd',
        'DROP TRIGGER IF EXISTS cov_token_counts_del',
        'DROP TRIGGER IF EXISTS cov_token_units_ins',
        'DROP TRIGGER IF EXISTS cov_token_units_upd',
        'DROP TRIGGER IF EXISTS cov_token_units_del',
    ],
}
