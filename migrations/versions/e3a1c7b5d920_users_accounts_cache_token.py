"""users: a cache token for the accounts

Every request loaded its user, with their unit and team, through the ORM: ~0.2 ms of CPU on SQLite and
~0.4 ms on PostgreSQL, a request. Workers now keep the three objects per user under this token, which these
triggers replace, in the same transaction, whenever a user or a team changes (the units are under the tree
token already); a request reads only the tokens (app/auth/models.py `load_user`, bench/README.md, round 24).

Revision ID: e3a1c7b5d920
Revises: b7e4d2a9c1f5
Create Date: 2026-12-06 03:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e3a1c7b5d920'
down_revision = 'b7e4d2a9c1f5'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.auth.models built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM cache_tokens WHERE name = 'accounts'")


# --- Frozen SQL: the module's output when this revision was written; do not edit ---

INSTALL = {   'postgresql': [   'CREATE OR REPLACE FUNCTION accounts_token_bump() RETURNS trigger LANGUAGE plpgsql AS '
                      '$$\n'
                      '    BEGIN\n'
                      "      INSERT INTO cache_tokens (name, token) VALUES ('accounts', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;\n'
                      '      RETURN NULL;\n'
                      '    END $$',
                      'CREATE TRIGGER accounts_token_users AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
                      'users FOR EACH STATEMENT EXECUTE FUNCTION accounts_token_bump()',
                      'CREATE TRIGGER accounts_token_teams AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
                      'teams FOR EACH STATEMENT EXECUTE FUNCTION accounts_token_bump()'],
    'sqlite': [   'CREATE TRIGGER accounts_token_users_ins AFTER INSERT ON users BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER accounts_token_users_upd AFTER UPDATE ON users BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER accounts_token_users_del AFTER DELETE ON users BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER accounts_token_teams_ins AFTER INSERT ON teams BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER accounts_token_teams_upd AFTER UPDATE ON teams BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER accounts_token_teams_del AFTER DELETE ON teams BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END']}

FIRST_TOKEN = {   'postgresql': [   "INSERT INTO cache_tokens (name, token) VALUES ('accounts', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'],
    'sqlite': [   "INSERT INTO cache_tokens (name, token) VALUES ('accounts', random()) ON CONFLICT (name) "
                  'DO UPDATE SET token = excluded.token;']}

UNINSTALL = {   'postgresql': [   'DROP TRIGGER IF EXISTS accounts_token_users ON users',
                      'DROP TRIGGER IF EXISTS accounts_token_teams ON teams',
                      'DROP FUNCTION IF EXISTS accounts_token_bump()'],
    'sqlite': [   'DROP TRIGGER IF EXISTS accounts_token_users_ins',
                  'DROP TRIGGER IF EXISTS accounts_token_users_upd',
                  'DROP TRIGGER IF EXISTS accounts_token_users_del',
                  'DROP TRIGGER IF EXISTS accounts_token_teams_ins',
                  'DROP TRIGGER IF EXISTS accounts_token_teams_upd',
                  'DROP TRIGGER IF EXISTS accounts_token_teams_del']}
