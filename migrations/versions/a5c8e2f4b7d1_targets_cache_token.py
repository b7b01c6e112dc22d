"""targets: a cache token for the provinces' target milestones

Every coverage page, trend and map read the active services with the province's target milestones, as ORM
objects: a statement and ~0.2 ms of CPU a page. Workers now keep the milestones per province under this
token, which these triggers replace, in the same transaction, whenever a target changes; the services are
the visit form's, under the catalogue token (app/catalogue/operations.py `province_milestones`,
bench/README.md, round 25).

Revision ID: a5c8e2f4b7d1
Revises: e3a1c7b5d920
Create Date: 2026-12-06 03:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a5c8e2f4b7d1'
down_revision = 'e3a1c7b5d920'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.catalogue.operations built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM cache_tokens WHERE name = 'targets'")


# --- Frozen SQL: the module's output when this revision was written; do not edit ---

INSTALL = {   'postgresql': [   'CREATE OR REPLACE FUNCTION targets_token_bump() RETURNS trigger LANGUAGE plpgsql AS '
                      '$$\n'
                      '    BEGIN\n'
                      "      INSERT INTO cache_tokens (name, token) VALUES ('targets', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;\n'
                      '      RETURN NULL;\n'
                      '    END $$',
                      'CREATE TRIGGER targets_token_targets AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
                      'targets FOR EACH STATEMENT EXECUTE FUNCTION targets_token_bump()'],
    'sqlite': [   'CREATE TRIGGER targets_token_targets_ins AFTER INSERT ON targets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('targets', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER targets_token_targets_upd AFTER UPDATE ON targets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('targets', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END',
                  'CREATE TRIGGER targets_token_targets_del AFTER DELETE ON targets BEGIN INSERT INTO '
                  "cache_tokens (name, token) VALUES ('targets', random()) ON CONFLICT (name) DO UPDATE SET "
                  'token = excluded.token; END']}

FIRST_TOKEN = {   'postgresql': [   "INSERT INTO cache_tokens (name, token) VALUES ('targets', (random() * "
                      '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'],
    'sqlite': [   "INSERT INTO cache_tokens (name, token) VALUES ('targets', random()) ON CONFLICT (name) DO "
                  'UPDATE SET token = excluded.token;']}

UNINSTALL = {   'postgresql': [   'DROP TRIGGER IF EXISTS targets_token_targets ON targets',
                      'DROP FUNCTION IF EXISTS targets_token_bump()'],
    'sqlite': [   'DROP TRIGGER IF EXISTS targets_token_targets_ins',
                  'DROP TRIGGER IF EXISTS targets_token_targets_upd',
                  'DROP TRIGGER IF EXISTS targets_token_targets_del']}
