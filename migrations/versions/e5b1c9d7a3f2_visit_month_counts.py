"""perf: a month's visits and households visited per hamlet, kept by triggers

The monthly summary counted the month's visits per hamlet and team and the distinct households
visited per hamlet from the visits themselves: a city's month (2.3 million visits) took ~2 s on
PostgreSQL, the whole export 3.5–4 s. Three tables now hold those counts, kept by triggers on the
visits and households (app/coverage/visit_months.py); `flask coverage verify` checks them. Filled
here from the visits already recorded. Two indexes the report's counts read go, since nothing reads
them now: the visits' covering index by day (`ix_visits_month_report`; one entry less to write per
visit) and the partial index of merged households.

Visits and household merges wait while the tables are filled (PostgreSQL: 30 s on the province
seed, 5 min on the city; the upgrade runs while the app serves, and the visit form resends).

Revision ID: e5b1c9d7a3f2
Revises: d2f6b8a4c1e5
Create Date: 2026-12-02 23:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5b1c9d7a3f2'
down_revision = 'd2f6b8a4c1e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_months',
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hamlet_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'hamlet_id', 'team_id', name=op.f('pk_visit_months'))
    )
    op.create_table('household_months',
    sa.Column('household_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hamlet_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('household_id', 'month', 'hamlet_id', name=op.f('pk_household_months'))
    )
    op.create_table('reach_months',
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hamlet_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'hamlet_id', name=op.f('pk_reach_months'))
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        # A visit logged (or a household merged) between the fill and the triggers would be missed:
        # writers wait for this transaction instead (a few minutes on a city; the visit form resends).
        conn.exec_driver_sql("LOCK TABLE visits, households IN SHARE MODE")
    for sql in FILL[conn.dialect.name] + INSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    op.drop_index("ix_households_merged", table_name="households")
    op.drop_index("ix_visits_month_report", table_name="visits")


def downgrade():
    op.create_index("ix_visits_month_report", "visits", ["visited_on", "hamlet_id", "team_id", "household_id"])
    op.create_index("ix_households_merged", "households", ["id"],
                    sqlite_where=sa.text("merged_into_id IS NOT NULL"),
                    postgresql_where=sa.text("merged_into_id IS NOT NULL"))
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    op.drop_table('reach_months')
    op.drop_table('household_months')
    op.drop_table('visit_months')


# --- Frozen SQL: app/coverage/visit_months.py's output when this revision was written; do not edit ---

FILL = {
    "postgresql": [
        ('INSERT INTO visit_months (month, hamlet_id, team_id, visits) SELECT (extract(year FROM visited_on) '
         '* 100 + extract(month FROM visited_on))::integer AS month, hamlet_id, coalesce(team_id, 0) AS '
         'team_id, count(*) AS visits FROM visits GROUP BY (extract(year FROM visited_on) * 100 + '
         'extract(month FROM visited_on))::integer, hamlet_id, coalesce(team_id, 0)'),
        ('INSERT INTO household_months (household_id, month, hamlet_id) SELECT DISTINCT household_id, '
         '(extract(year FROM visited_on) * 100 + extract(month FROM visited_on))::integer AS month, hamlet_id '
         'FROM visits'),
        ('INSERT INTO reach_months (month, hamlet_id, households) SELECT m.month, m.hamlet_id, count(*) FROM '
         'household_months m JOIN households h ON h.id = m.household_id WHERE h.merged_into_id IS NULL GROUP '
         'BY m.month, m.hamlet_id'),
    ],
    "sqlite": [
        ("INSERT INTO visit_months (month, hamlet_id, team_id, visits) SELECT CAST(strftime('%Y%m', "
         'visited_on) AS INTEGER) AS month, hamlet_id, coalesce(team_id, 0) AS team_id, count(*) AS visits '
         "FROM visits GROUP BY CAST(strftime('%Y%m', visited_on) AS INTEGER), hamlet_id, coalesce(team_id, 0)"),
        ('INSERT INTO household_months (household_id, month, hamlet_id) SELECT DISTINCT household_id, '
         "CAST(strftime('%Y%m', visited_on) AS INTEGER) AS month, hamlet_id FROM visits"),
        ('INSERT INTO reach_months (month, hamlet_id, households) SELECT m.month, m.hamlet_id, count(*) FROM '
         'household_months m JOIN households h ON h.id = m.household_id WHERE h.merged_into_id IS NULL GROUP '
         'BY m.month, m.hamlet_id'),
    ],
}

INSTALL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION cov_vmonths_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_month integer;
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_month := (extract(year FROM OLD.visited_on) * 100 + extract(month FROM OLD.visited_on))::integer;
        UPDATE visit_months SET visits = visits - 1
        WHERE month = v_month AND hamlet_id = OLD.hamlet_id AND team_id = coalesce(OLD.team_id, 0);
        DELETE FROM household_months
        WHERE household_id = OLD.household_id AND month = v_month AND hamlet_id = OLD.hamlet_id
          AND NOT EXISTS (SELECT 1 FROM visits w WHERE w.household_id = OLD.household_id
                          AND w.hamlet_id = OLD.hamlet_id
                          AND w.visited_on >= date_trunc('month', OLD.visited_on)::date
                          AND w.visited_on < (date_trunc('month', OLD.visited_on) + interval '1 month')::date);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        v_month := (extract(year FROM NEW.visited_on) * 100 + extract(month FROM NEW.visited_on))::integer;
        INSERT INTO visit_months AS t (month, hamlet_id, team_id, visits)
        VALUES (v_month, NEW.hamlet_id, coalesce(NEW.team_id, 0), 1)
        ON CONFLICT (month, hamlet_id, team_id) DO UPDATE SET visits = t.visits + 1;
        INSERT INTO household_months (household_id, month, hamlet_id)
        VALUES (NEW.household_id, v_month, NEW.hamlet_id) ON CONFLICT DO NOTHING;
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_hmonths_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM households WHERE id = NEW.household_id AND merged_into_id IS NOT NULL) THEN
          RETURN NULL;
        END IF;
        INSERT INTO reach_months AS t (month, hamlet_id, households) VALUES (NEW.month, NEW.hamlet_id, 1)
        ON CONFLICT (month, hamlet_id) DO UPDATE SET households = t.households + 1;
      ELSE
        IF EXISTS (SELECT 1 FROM households WHERE id = OLD.household_id AND merged_into_id IS NOT NULL) THEN
          RETURN NULL;
        END IF;
        UPDATE reach_months SET households = households - 1 WHERE month = OLD.month AND hamlet_id = OLD.hamlet_id;
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_hmonths_merge_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (OLD.merged_into_id IS NULL) = (NEW.merged_into_id IS NULL) THEN RETURN NULL; END IF;
      INSERT INTO reach_months AS t (month, hamlet_id, households)
      SELECT month, hamlet_id, CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END
      FROM household_months WHERE household_id = NEW.id ORDER BY month, hamlet_id
      ON CONFLICT (month, hamlet_id) DO UPDATE SET households = t.households + EXCLUDED.households;
      RETURN NULL;
    END $$""",
        'CREATE TRIGGER cov_vmonths_ins AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION cov_vmonths_trg()',
        'CREATE TRIGGER cov_vmonths_del AFTER DELETE ON visits FOR EACH ROW EXECUTE FUNCTION cov_vmonths_trg()',
        ('CREATE TRIGGER cov_vmonths_upd AFTER UPDATE OF household_id, hamlet_id, team_id, visited_on ON '
         'visits FOR EACH ROW EXECUTE FUNCTION cov_vmonths_trg()'),
        ('CREATE TRIGGER cov_hmonths_ins AFTER INSERT ON household_months FOR EACH ROW EXECUTE FUNCTION '
         'cov_hmonths_trg()'),
        ('CREATE TRIGGER cov_hmonths_del AFTER DELETE ON household_months FOR EACH ROW EXECUTE FUNCTION '
         'cov_hmonths_trg()'),
        ('CREATE TRIGGER cov_hmonths_merge AFTER UPDATE OF merged_into_id ON households FOR EACH ROW EXECUTE '
         'FUNCTION cov_hmonths_merge_trg()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER cov_vmonths_ins AFTER INSERT ON visits BEGIN INSERT INTO visit_months (month, '
         "hamlet_id, team_id, visits) VALUES (CAST(strftime('%Y%m', NEW.visited_on) AS INTEGER), "
         'NEW.hamlet_id, coalesce(NEW.team_id, 0), 1) ON CONFLICT (month, hamlet_id, team_id) DO UPDATE SET '
         'visits = visit_months.visits + 1;INSERT INTO household_months (household_id, month, hamlet_id) '
         "VALUES (NEW.household_id, CAST(strftime('%Y%m', NEW.visited_on) AS INTEGER), NEW.hamlet_id) ON "
         'CONFLICT DO NOTHING; END'),
        ('CREATE TRIGGER cov_vmonths_del AFTER DELETE ON visits BEGIN UPDATE visit_months SET visits = visits '
         "- 1 WHERE month = CAST(strftime('%Y%m', OLD.visited_on) AS INTEGER) AND hamlet_id = OLD.hamlet_id "
         'AND team_id = coalesce(OLD.team_id, 0);DELETE FROM household_months WHERE household_id = '
         "OLD.household_id AND month = CAST(strftime('%Y%m', OLD.visited_on) AS INTEGER) AND hamlet_id = "
         'OLD.hamlet_id AND NOT EXISTS (SELECT 1 FROM visits w WHERE w.household_id = OLD.household_id AND '
         "w.hamlet_id = OLD.hamlet_id AND CAST(strftime('%Y%m', w.visited_on) AS INTEGER) = "
         "CAST(strftime('%Y%m', OLD.visited_on) AS INTEGER)); END"),
        ('CREATE TRIGGER cov_vmonths_upd AFTER UPDATE OF household_id, hamlet_id, team_id, visited_on ON '
         "visits BEGIN UPDATE visit_months SET visits = visits - 1 WHERE month = CAST(strftime('%Y%m', "
         'OLD.visited_on) AS INTEGER) AND hamlet_id = OLD.hamlet_id AND team_id = coalesce(OLD.team_id, '
         '0);DELETE FROM household_months WHERE household_id = OLD.household_id AND month = '
         "CAST(strftime('%Y%m', OLD.visited_on) AS INTEGER) AND hamlet_id = OLD.hamlet_id AND NOT EXISTS "
         '(SELECT 1 FROM visits w WHERE w.household_id = OLD.household_id AND w.hamlet_id = OLD.hamlet_id AND '
         "CAST(strftime('%Y%m', w.visited_on) AS INTEGER) = CAST(strftime('%Y%m', OLD.visited_on) AS "
         'INTEGER));INSERT INTO visit_months (month, hamlet_id, team_id, visits) VALUES '
         "(CAST(strftime('%Y%m', NEW.visited_on) AS INTEGER), NEW.hamlet_id, coalesce(NEW.team_id, 0), 1) ON "
         'CONFLICT (month, hamlet_id, team_id) DO UPDATE SET visits = visit_months.visits + 1;INSERT INTO '
         "household_months (household_id, month, hamlet_id) VALUES (NEW.household_id, CAST(strftime('%Y%m', "
         'NEW.visited_on) AS INTEGER), NEW.hamlet_id) ON CONFLICT DO NOTHING; END'),
        ('CREATE TRIGGER cov_hmonths_ins AFTER INSERT ON household_months BEGIN INSERT INTO reach_months '
         '(month, hamlet_id, households) SELECT NEW.month, NEW.hamlet_id, 1 WHERE (SELECT merged_into_id FROM '
         'households WHERE id = NEW.household_id) IS NULL ON CONFLICT (month, hamlet_id) DO UPDATE SET '
         'households = reach_months.households + 1; END'),
        ('CREATE TRIGGER cov_hmonths_del AFTER DELETE ON household_months BEGIN UPDATE reach_months SET '
         'households = households - 1 WHERE month = OLD.month AND hamlet_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL; END'),
        ('CREATE TRIGGER cov_hmonths_merge AFTER UPDATE OF merged_into_id ON households WHEN '
         '(OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) BEGIN INSERT INTO reach_months (month, '
         'hamlet_id, households) SELECT month, hamlet_id, CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 '
         'END FROM household_months WHERE household_id = NEW.id ON CONFLICT (month, hamlet_id) DO UPDATE SET '
         'households = reach_months.households + excluded.households; END'),
    ],
}

UNINSTALL = {
    "postgresql": [
        'DROP TRIGGER IF EXISTS cov_vmonths_ins ON visits',
        'DROP TRIGGER IF EXISTS cov_vmonths_del ON visits',
        'DROP TRIGGER IF EXISTS cov_vmonths_upd ON visits',
        'DROP TRIGGER IF EXISTS cov_hmonths_ins ON household_months',
        'DROP TRIGGER IF EXISTS cov_hmonths_del ON household_months',
        'DROP TRIGGER IF EXISTS cov_hmonths_merge ON households',
        'DROP FUNCTION IF EXISTS cov_vmonths_trg()',
        'DROP FUNCTION IF EXISTS cov_hmonths_trg()',
        'DROP FUNCTION IF EXISTS cov_hmonths_merge_trg()',
    ],
    "sqlite": [
        'DROP TRIGGER IF EXISTS cov_vmonths_ins',
        'DROP TRIGGER IF EXISTS cov_vmonths_del',
        'DROP TRIGGER IF EXISTS cov_vmonths_upd',
        'DROP TRIGGER IF EXISTS cov_hmonths_ins',
        'DROP TRIGGER IF EXISTS cov_hmonths_del',
        'DROP TRIGGER IF EXISTS cov_hmonths_merge',
    ],
}
