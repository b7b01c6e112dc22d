"""visits: cache tokens for the services and the teams

Every visit form and every visit POST read the active services and the team's hamlets and members: two
statements of ~10 that each one makes, for data that changes a few times a year. Workers now keep them in
memory under two tokens (app/catalogue/operations.py `form_services`, app/visits/roster.py), which these
triggers replace, in the same transaction, whenever the services, a team's hamlets, its memberships or its
members change; the user loader reads the tokens with the user (bench/README.md, round 22).

Revision ID: b7e4d2a9c1f5
Revises: c9f5d3b8e024
Create Date: 2026-12-06 01:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4d2a9c1f5'
down_revision = 'c9f5d3b8e024'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.catalogue.operations and app.visits.roster built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM cache_tokens WHERE name IN ('catalogue', 'teams')")


# --- Frozen SQL: the modules' output when this revision was written; do not edit ---

INSTALL = {   'postgresql': [   'CREATE OR REPLACE FUNCTION catalogue_token_bump() RETURNS trigger LANGUAGE plpgsql AS '
                      '$$\n'
                      '    BEGIN\n'
                      "      INSERT INTO cache_tokens (name, token) VALUES ('catalogue', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;\n'
                      '      RETURN NULL;\n'
                      '    END $$',
                      'CREATE TRIGGER catalogue_token_services AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE '
                      'ON services FOR EACH STATEMENT EXECUTE FUNCTION catalogue_token_bump()',
                      'CREATE OR REPLACE FUNCTION teams_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                      '    BEGIN\n'
                      "      INSERT INTO cache_tokens (name, token) VALUES ('teams', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;\n'
                      '      RETURN NULL;\n'
                      '    END $$',
                      'CREATE TRIGGER teams_token_hamlets AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
                      'team_hamlets FOR EACH STATEMENT EXECUTE FUNCTION teams_token_bump()',
                      'CREATE TRIGGER teams_token_memberships AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE '
                      'ON memberships FOR EACH STATEMENT EXECUTE FUNCTION teams_token_bump()',
                      'CREATE TRIGGER teams_token_members AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
                      'members FOR EACH STATEMENT EXECUTE FUNCTION teams_token_bump()'],
    'sqlite': [   'CREATE TRIGGER catalogue_token_services_ins AFTER INSERT ON services BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('catalogue', random()) ON CONFLICT (name) DO UPDATE "
                  'SET token = excluded.token; END',
                  'CREATE TRIGGER catalogue_token_services_upd AFTER UPDATE ON services BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('catalogue', random()) ON CONFLICT (name) DO UPDATE "
                  'SET token = excluded.token; END',
                  'CREATE TRIGGER catalogue_token_services_del AFTER DELETE ON services BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('catalogue', random()) ON CONFLICT (name) DO UPDATE "
                  'SET token = excluded.token; END',
                  'CREATE TRIGGER teams_token_hamlets_ins AFTER INSERT ON team_hamlets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_hamlets_upd AFTER UPDATE ON team_hamlets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_hamlets_del AFTER DELETE ON team_hamlets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_memberships_ins AFTER INSERT ON memberships BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_memberships_upd AFTER UPDATE ON memberships BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_memberships_del AFTER DELETE ON memberships BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_members_ins AFTER INSERT ON members BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_members_upd AFTER UPDATE ON members BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER teams_token_members_del AFTER DELETE ON members BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END']}

FIRST_TOKEN = {   'postgresql': [   "INSERT INTO cache_tokens (name, token) VALUES ('catalogue', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;',
                      "INSERT INTO cache_tokens (name, token) VALUES ('teams', (random() * 9.2e18)::bigint) "
                      'ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'],
    'sqlite': [   "INSERT INTO cache_tokens (name, token) VALUES ('catalogue', random()) ON CONFLICT (name) "
                  'DO UPDATE SET token = excluded.token;',
                  "INSERT INTO cache_tokens (name, token) VALUES ('teams', random()) ON CONFLICT (name) DO "
                  'UPDATE SET token = excluded.token;']}

UNINSTALL = {   'postgresql': [   'DROP TRIGGER IF EXISTS catalogue_token_services ON services',
                      'DROP TRIGGER IF EXISTS teams_token_hamlets ON team_hamlets',
                      'DROP TRIGGER IF EXISTS teams_token_memberships ON memberships',
                      'DROP TRIGGER IF EXISTS teams_token_members ON members',
                      'DROP FUNCTION IF EXISTS catalogue_token_bump()',
                      'DROP FUNCTION IF EXISTS teams_token_bump()'],
    'sqlite': [   'DROP TRIGGER IF EXISTS catalogue_token_services_ins',
                  'DROP TRIGGER IF EXISTS catalogue_token_services_upd',
                  'DROP TRIGGER IF EXISTS catalogue_token_services_del',
                  'DROP TRIGGER IF EXISTS teams_token_hamlets_ins',
                  'DROP TRIGGER IF EXISTS teams_token_hamlets_upd',
                  'DROP TRIGGER IF EXISTS teams_token_hamlets_del',
                  'DROP TRIGGER IF EXISTS teams_token_memberships_ins',
                  'DROP TRIGGER IF EXISTS teams_token_memberships_upd',
                  'DROP TRIGGER IF EXISTS teams_token_memberships_del',
                  'DROP TRIGGER IF EXISTS teams_token_members_ins',
                  'DROP TRIGGER IF EXISTS teams_token_members_upd',
                  'DROP TRIGGER IF EXISTS teams_token_members_del']}
