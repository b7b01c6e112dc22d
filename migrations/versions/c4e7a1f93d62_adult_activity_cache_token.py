"""coverage: cache token for the adult month figures

A coverage page and its trend read every commune's adult month rows (activity_months,
named_learner_months, commune_dossier_totals) and add them up per unit: ~30 ms of a province page and
~60 ms of its 12-month trend on the province-scale seed (bench/README.md, round 6). Those rows change
only when a class, a shift or a dossier total is recorded (or a reorganization moves them), never when a
visit is, so workers keep what a page asked for in memory under a token that these triggers replace,
in the same transaction, whenever one of the three tables changes (app/coverage/by_commune.py).

Revision ID: c4e7a1f93d62
Revises: a7d2c5e91b04
Create Date: 2026-12-02 06:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e7a1f93d62'
down_revision = 'a7d2c5e91b04'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # The SQL below is frozen as app.coverage.by_commune built it at this revision.
    for sql in INSTALL[conn.dialect.name] + FIRST_TOKEN[conn.dialect.name]:
        conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM cache_tokens WHERE name = 'adult_activity'")


# --- Frozen SQL: app/coverage/by_commune.py's output when this revision was written; do not edit ---

INSTALL = {
    "postgresql": [
        ('CREATE OR REPLACE FUNCTION activity_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n    '
         "BEGIN\n      INSERT INTO cache_tokens (name, token) VALUES ('adult_activity', (random() * "
         '9.2e18)::bigint) ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;\n      RETURN NULL;\n  '
         '  END $$'),
        ('CREATE TRIGGER activity_token_months AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
         'activity_months FOR EACH STATEMENT EXECUTE FUNCTION activity_token_bump()'),
        ('CREATE TRIGGER activity_token_learners AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
         'named_learner_months FOR EACH STATEMENT EXECUTE FUNCTION activity_token_bump()'),
        ('CREATE TRIGGER activity_token_dossiers AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON '
         'commune_dossier_totals FOR EACH STATEMENT EXECUTE FUNCTION activity_token_bump()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER activity_token_months_ins AFTER INSERT ON activity_months BEGIN INSERT INTO '
         "cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO UPDATE "
         'SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_months_upd AFTER UPDATE ON activity_months BEGIN INSERT INTO '
         "cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO UPDATE "
         'SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_months_del AFTER DELETE ON activity_months BEGIN INSERT INTO '
         "cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO UPDATE "
         'SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_learners_ins AFTER INSERT ON named_learner_months BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_learners_upd AFTER UPDATE ON named_learner_months BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_learners_del AFTER DELETE ON named_learner_months BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_dossiers_ins AFTER INSERT ON commune_dossier_totals BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_dossiers_upd AFTER UPDATE ON commune_dossier_totals BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
        ('CREATE TRIGGER activity_token_dossiers_del AFTER DELETE ON commune_dossier_totals BEGIN INSERT '
         "INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) DO "
         'UPDATE SET token = excluded.token; END'),
    ],
}

FIRST_TOKEN = {
    "postgresql": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('adult_activity', (random() * 9.2e18)::bigint) "
         'ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;'),
    ],
    "sqlite": [
        ("INSERT INTO cache_tokens (name, token) VALUES ('adult_activity', random()) ON CONFLICT (name) "
         'DO UPDATE SET token = excluded.token;'),
    ],
}

UNINSTALL = {
    "postgresql": [
        'DROP TRIGGER IF EXISTS activity_token_months ON activity_months',
        'DROP TRIGGER IF EXISTS activity_token_learners ON named_learner_months',
        'DROP TRIGGER IF EXISTS activity_token_dossiers ON commune_dossier_totals',
        'DROP FUNCTION IF EXISTS activity_token_bump()',
    ],
    "sqlite": [
        'DROP TRIGGER IF EXISTS activity_token_months_ins',
        'DROP TRIGGER IF EXISTS activity_token_months_upd',
        'DROP TRIGGER IF EXISTS activity_token_months_del',
        'DROP TRIGGER IF EXISTS activity_token_learners_ins',
        'DROP TRIGGER IF EXISTS activity_token_learners_upd',
        'DROP TRIGGER IF EXISTS activity_token_learners_del',
        'DROP TRIGGER IF EXISTS activity_token_dossiers_ins',
        'DROP TRIGGER IF EXISTS activity_token_dossiers_upd',
        'DROP TRIGGER IF EXISTS activity_token_dossiers_del',
    ],
}
