"""perf: coverage totals (each unit's tallies over all months), kept by the same triggers

A current-month coverage page read four years of monthly tallies per unit and service and summed
them (~2 ms of a district page at province scale, on SQLite and PostgreSQL alike); it now reads one
running total per unit and service, minus any months after the one shown. The triggers are
replaced by ones that keep both tables; the totals start from the tallies already stored.

Revision ID: a880f591097b
Revises: 5bc56afce846
Create Date: 2026-11-23 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a880f591097b'
down_revision = '5bc56afce846'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.create_table('coverage_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_coverage_totals_unit_id_admin_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'service_id', name=op.f('pk_coverage_totals'))
    )
    # The SQL below is frozen as app.coverage.store built it at this revision.
    for sql in UNINSTALL[dialect] + TOTALS_FROM_TALLIES[dialect] + INSTALL[dialect]:
        conn.exec_driver_sql(sql)
    op.drop_index('ix_coverage_tallies_covering', table_name='coverage_tallies')
    op.create_index('ix_coverage_tallies_unit_month', 'coverage_tallies',
                    ['unit_id', 'month', 'service_id', 'households'], unique=False)


def downgrade():
    conn = op.get_bind()
    for sql in UNINSTALL[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    op.drop_table('coverage_totals')
    for sql in INSTALL_BEFORE[conn.dialect.name]:
        conn.exec_driver_sql(sql)
    op.drop_index('ix_coverage_tallies_unit_month', table_name='coverage_tallies')
    op.create_index('ix_coverage_tallies_covering', 'coverage_tallies',
                    ['unit_id', 'service_id', 'month', 'households'], unique=False)


# --- Frozen SQL: app/coverage/store.py's output when this revision was written; do not edit ---

UNINSTALL = {
    "postgresql": [
        'DROP TRIGGER IF EXISTS cov_units_ins ON admin_units',
        'DROP TRIGGER IF EXISTS cov_units_path ON admin_units',
        'DROP TRIGGER IF EXISTS cov_adoptions_ins ON adoptions',
        'DROP TRIGGER IF EXISTS cov_adoptions_del ON adoptions',
        'DROP TRIGGER IF EXISTS cov_adoptions_upd ON adoptions',
        'DROP TRIGGER IF EXISTS cov_reach_ins ON household_reach',
        'DROP TRIGGER IF EXISTS cov_reach_del ON household_reach',
        'DROP TRIGGER IF EXISTS cov_reach_upd ON household_reach',
        'DROP TRIGGER IF EXISTS cov_visits_ins ON visits',
        'DROP TRIGGER IF EXISTS cov_visits_del ON visits',
        'DROP TRIGGER IF EXISTS cov_visits_upd ON visits',
        'DROP TRIGGER IF EXISTS cov_households_merge ON households',
        'DROP FUNCTION IF EXISTS cov_households_trg()',
        'DROP FUNCTION IF EXISTS cov_visits_trg()',
        'DROP FUNCTION IF EXISTS cov_reach_trg()',
        'DROP FUNCTION IF EXISTS cov_adoptions_trg()',
        'DROP FUNCTION IF EXISTS cov_units_trg()',
        'DROP FUNCTION IF EXISTS cov_reach(integer)',
        'DROP FUNCTION IF EXISTS cov_tally(integer, integer, date, integer, integer)',
    ],
    "sqlite": [
        'DROP TRIGGER IF EXISTS cov_units_ins',
        'DROP TRIGGER IF EXISTS cov_units_path',
        'DROP TRIGGER IF EXISTS cov_adoptions_ins',
        'DROP TRIGGER IF EXISTS cov_adoptions_del',
        'DROP TRIGGER IF EXISTS cov_adoptions_upd',
        'DROP TRIGGER IF EXISTS cov_reach_ins',
        'DROP TRIGGER IF EXISTS cov_reach_del',
        'DROP TRIGGER IF EXISTS cov_reach_upd',
        'DROP TRIGGER IF EXISTS cov_visits_ins',
        'DROP TRIGGER IF EXISTS cov_visits_del',
        'DROP TRIGGER IF EXISTS cov_visits_upd',
        'DROP TRIGGER IF EXISTS cov_households_merge',
    ],
}

TOTALS_FROM_TALLIES = {
    "postgresql": [
        ('INSERT INTO coverage_totals (unit_id, service_id, households) SELECT unit_id, service_id, '
         'sum(households) AS households FROM (SELECT unit_id, service_id, households FROM coverage_tallies) m '
         'GROUP BY unit_id, service_id'),
    ],
    "sqlite": [
        ('INSERT INTO coverage_totals (unit_id, service_id, households) SELECT unit_id, service_id, '
         'sum(households) AS households FROM (SELECT unit_id, service_id, households FROM coverage_tallies) m '
         'GROUP BY unit_id, service_id'),
    ],
}

INSTALL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION cov_tally(p_hamlet integer, p_service integer, p_day date,
                                         p_household integer, p_delta integer) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM households WHERE id = p_household AND merged_into_id IS NOT NULL) THEN
        RETURN;
      END IF;
      -- Ancestors in id order, so concurrent visits lock shared rows in the same order.
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ancestor_id, p_service, (extract(year FROM p_day) * 100 + extract(month FROM p_day))::integer, p_delta
      FROM unit_ancestors WHERE unit_id = p_hamlet ORDER BY ancestor_id
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ancestor_id, p_service, p_delta FROM unit_ancestors WHERE unit_id = p_hamlet ORDER BY ancestor_id
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_reach(p_household integer) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE v_first date; v_hamlet integer;
    BEGIN
      SELECT min(visited_on), min(hamlet_id) INTO v_first, v_hamlet FROM visits WHERE household_id = p_household;
      IF v_first IS NULL THEN
        DELETE FROM household_reach WHERE household_id = p_household;
      ELSE
        INSERT INTO household_reach AS r (household_id, hamlet_id, first_visited_on)
        VALUES (p_household, v_hamlet, v_first)
        ON CONFLICT (household_id) DO UPDATE
          SET first_visited_on = EXCLUDED.first_visited_on, hamlet_id = EXCLUDED.hamlet_id
          WHERE r.first_visited_on <> EXCLUDED.first_visited_on OR r.hamlet_id <> EXCLUDED.hamlet_id;
      END IF;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_units_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM unit_ancestors WHERE unit_id = NEW.id;
      INSERT INTO unit_ancestors (unit_id, ancestor_id)
      SELECT NEW.id, a.id FROM admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, length(a.path)) = a.path;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_adoptions_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM cov_tally(OLD.hamlet_id, OLD.service_id, OLD.adopted_on, OLD.household_id, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM cov_tally(NEW.hamlet_id, NEW.service_id, NEW.adopted_on, NEW.household_id, 1);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_reach_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM cov_tally(OLD.hamlet_id, 0, OLD.first_visited_on, OLD.household_id, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM cov_tally(NEW.hamlet_id, 0, NEW.first_visited_on, NEW.household_id, 1);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_visits_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM cov_reach(OLD.household_id); END IF;
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.household_id <> OLD.household_id) THEN
        PERFORM cov_reach(NEW.household_id);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_households_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_delta integer := CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END;
    BEGIN
      IF (OLD.merged_into_id IS NULL) = (NEW.merged_into_id IS NULL) THEN RETURN NULL; END IF;
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ua.ancestor_id, x.service_id,
             (extract(year FROM x.day) * 100 + extract(month FROM x.day))::integer, v_delta
      FROM (SELECT hamlet_id, service_id, adopted_on AS day FROM adoptions WHERE household_id = NEW.id
            UNION ALL
            SELECT hamlet_id, 0, first_visited_on FROM household_reach WHERE household_id = NEW.id) x
      JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id
      ORDER BY ua.ancestor_id
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ua.ancestor_id, x.service_id, v_delta
      FROM (SELECT hamlet_id, service_id FROM adoptions WHERE household_id = NEW.id
            UNION ALL
            SELECT hamlet_id, 0 FROM household_reach WHERE household_id = NEW.id) x
      JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id
      ORDER BY ua.ancestor_id
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;
      RETURN NULL;
    END $$""",
        ('CREATE TRIGGER cov_units_ins AFTER INSERT ON admin_units FOR EACH ROW EXECUTE FUNCTION '
         'cov_units_trg()'),
        ('CREATE TRIGGER cov_units_path AFTER UPDATE OF path ON admin_units FOR EACH ROW EXECUTE FUNCTION '
         'cov_units_trg()'),
        ('CREATE TRIGGER cov_adoptions_ins AFTER INSERT ON adoptions FOR EACH ROW EXECUTE FUNCTION '
         'cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_adoptions_del AFTER DELETE ON adoptions FOR EACH ROW EXECUTE FUNCTION '
         'cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_adoptions_upd AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on ON '
         'adoptions FOR EACH ROW EXECUTE FUNCTION cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_reach_ins AFTER INSERT ON household_reach FOR EACH ROW EXECUTE FUNCTION '
         'cov_reach_trg()'),
        ('CREATE TRIGGER cov_reach_del AFTER DELETE ON household_reach FOR EACH ROW EXECUTE FUNCTION '
         'cov_reach_trg()'),
        ('CREATE TRIGGER cov_reach_upd AFTER UPDATE OF hamlet_id, first_visited_on ON household_reach FOR EACH '
         'ROW EXECUTE FUNCTION cov_reach_trg()'),
        'CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION cov_visits_trg()',
        'CREATE TRIGGER cov_visits_del AFTER DELETE ON visits FOR EACH ROW EXECUTE FUNCTION cov_visits_trg()',
        ('CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits FOR EACH '
         'ROW EXECUTE FUNCTION cov_visits_trg()'),
        ('CREATE TRIGGER cov_households_merge AFTER UPDATE OF merged_into_id ON households FOR EACH ROW '
         'EXECUTE FUNCTION cov_households_trg()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER cov_units_ins AFTER INSERT ON admin_units BEGIN INSERT INTO unit_ancestors (unit_id, '
         "ancestor_id) SELECT NEW.id, a.id FROM admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, "
         'length(a.path)) = a.path; END'),
        ('CREATE TRIGGER cov_units_path AFTER UPDATE OF path ON admin_units BEGIN DELETE FROM unit_ancestors '
         'WHERE unit_id = NEW.id; INSERT INTO unit_ancestors (unit_id, ancestor_id) SELECT NEW.id, a.id FROM '
         "admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, length(a.path)) = a.path; END"),
        ('CREATE TRIGGER cov_adoptions_ins AFTER INSERT ON adoptions BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, NEW.service_id, CAST(strftime('%Y%m', "
         'NEW.adopted_on) AS INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ancestor_id, NEW.service_id, 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id) DO UPDATE SET households = coverage_totals.households + excluded.households; END'),
        ('CREATE TRIGGER cov_adoptions_del AFTER DELETE ON adoptions BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, OLD.service_id, CAST(strftime('%Y%m', "
         'OLD.adopted_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ancestor_id, OLD.service_id, -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id) DO UPDATE SET households = coverage_totals.households + excluded.households; END'),
        ('CREATE TRIGGER cov_adoptions_upd AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on ON '
         'adoptions BEGIN INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ancestor_id, OLD.service_id, CAST(strftime('%Y%m', OLD.adopted_on) AS INTEGER), -1 FROM "
         'unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = '
         'OLD.household_id) IS NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = '
         'coverage_tallies.households + excluded.households;INSERT INTO coverage_totals (unit_id, service_id, '
         'households) SELECT ancestor_id, OLD.service_id, -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id '
         'AND (SELECT merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT '
         '(unit_id, service_id) DO UPDATE SET households = coverage_totals.households + '
         'excluded.households;INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ancestor_id, NEW.service_id, CAST(strftime('%Y%m', NEW.adopted_on) AS INTEGER), 1 FROM "
         'unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = '
         'NEW.household_id) IS NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = '
         'coverage_tallies.households + excluded.households;INSERT INTO coverage_totals (unit_id, service_id, '
         'households) SELECT ancestor_id, NEW.service_id, 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id '
         'AND (SELECT merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT '
         '(unit_id, service_id) DO UPDATE SET households = coverage_totals.households + excluded.households; '
         'END'),
        ('CREATE TRIGGER cov_reach_ins AFTER INSERT ON household_reach BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, 0, CAST(strftime('%Y%m', "
         'NEW.first_visited_on) AS INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ancestor_id, 0, 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT merged_into_id FROM '
         'households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, service_id) DO UPDATE SET '
         'households = coverage_totals.households + excluded.households; END'),
        ('CREATE TRIGGER cov_reach_del AFTER DELETE ON household_reach BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, 0, CAST(strftime('%Y%m', "
         'OLD.first_visited_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ancestor_id, 0, -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT merged_into_id FROM '
         'households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, service_id) DO UPDATE SET '
         'households = coverage_totals.households + excluded.households; END'),
        ('CREATE TRIGGER cov_reach_upd AFTER UPDATE OF hamlet_id, first_visited_on ON household_reach BEGIN '
         'INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT ancestor_id, 0, '
         "CAST(strftime('%Y%m', OLD.first_visited_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = "
         'OLD.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON '
         'CONFLICT (unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ancestor_id, 0, -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT merged_into_id FROM '
         'households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, service_id) DO UPDATE SET '
         'households = coverage_totals.households + excluded.households;INSERT INTO coverage_tallies (unit_id, '
         "service_id, month, households) SELECT ancestor_id, 0, CAST(strftime('%Y%m', NEW.first_visited_on) AS "
         'INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT merged_into_id FROM '
         'households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE '
         'SET households = coverage_tallies.households + excluded.households;INSERT INTO coverage_totals '
         '(unit_id, service_id, households) SELECT ancestor_id, 0, 1 FROM unit_ancestors WHERE unit_id = '
         'NEW.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON '
         'CONFLICT (unit_id, service_id) DO UPDATE SET households = coverage_totals.households + '
         'excluded.households; END'),
        ('CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits BEGIN DELETE FROM household_reach WHERE '
         'household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = '
         'NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT '
         'household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = NEW.household_id '
         'GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = '
         'excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> '
         'excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_visits_del AFTER DELETE ON visits BEGIN DELETE FROM household_reach WHERE '
         'household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = '
         'OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT '
         'household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = OLD.household_id '
         'GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = '
         'excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> '
         'excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits BEGIN '
         'DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM '
         'visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, '
         'first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE '
         'household_id = OLD.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET '
         'first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE '
         'household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> '
         'excluded.hamlet_id;DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS '
         '(SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach '
         '(household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) '
         'FROM visits WHERE household_id = NEW.household_id GROUP BY household_id ON CONFLICT (household_id) '
         'DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE '
         'household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> '
         'excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_households_merge AFTER UPDATE OF merged_into_id ON households WHEN '
         '(OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ua.ancestor_id, x.service_id, CAST(strftime('%Y%m', "
         'x.adopted_on) AS INTEGER), CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM adoptions x '
         'JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT '
         '(unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT '
         'ua.ancestor_id, x.service_id, CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM adoptions '
         'x JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT '
         '(unit_id, service_id) DO UPDATE SET households = coverage_totals.households + '
         'excluded.households;INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ua.ancestor_id, 0, CAST(strftime('%Y%m', x.first_visited_on) AS INTEGER), CASE WHEN "
         'NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM household_reach x JOIN unit_ancestors ua ON '
         'ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT (unit_id, service_id, month) DO '
         'UPDATE SET households = coverage_tallies.households + excluded.households;INSERT INTO '
         'coverage_totals (unit_id, service_id, households) SELECT ua.ancestor_id, 0, CASE WHEN '
         'NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM household_reach x JOIN unit_ancestors ua ON '
         'ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT (unit_id, service_id) DO UPDATE '
         'SET households = coverage_totals.households + excluded.households; END'),
    ],
}

INSTALL_BEFORE = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION cov_tally(p_hamlet integer, p_service integer, p_day date,
                                         p_household integer, p_delta integer) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM households WHERE id = p_household AND merged_into_id IS NOT NULL) THEN
        RETURN;
      END IF;
      -- Ancestors in id order, so concurrent visits lock shared rows in the same order.
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ancestor_id, p_service, (extract(year FROM p_day) * 100 + extract(month FROM p_day))::integer, p_delta
      FROM unit_ancestors WHERE unit_id = p_hamlet ORDER BY ancestor_id
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_reach(p_household integer) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE v_first date; v_hamlet integer;
    BEGIN
      SELECT min(visited_on), min(hamlet_id) INTO v_first, v_hamlet FROM visits WHERE household_id = p_household;
      IF v_first IS NULL THEN
        DELETE FROM household_reach WHERE household_id = p_household;
      ELSE
        INSERT INTO household_reach AS r (household_id, hamlet_id, first_visited_on)
        VALUES (p_household, v_hamlet, v_first)
        ON CONFLICT (household_id) DO UPDATE
          SET first_visited_on = EXCLUDED.first_visited_on, hamlet_id = EXCLUDED.hamlet_id
          WHERE r.first_visited_on <> EXCLUDED.first_visited_on OR r.hamlet_id <> EXCLUDED.hamlet_id;
      END IF;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_units_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM unit_ancestors WHERE unit_id = NEW.id;
      INSERT INTO unit_ancestors (unit_id, ancestor_id)
      SELECT NEW.id, a.id FROM admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, length(a.path)) = a.path;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_adoptions_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM cov_tally(OLD.hamlet_id, OLD.service_id, OLD.adopted_on, OLD.household_id, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM cov_tally(NEW.hamlet_id, NEW.service_id, NEW.adopted_on, NEW.household_id, 1);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_reach_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM cov_tally(OLD.hamlet_id, 0, OLD.first_visited_on, OLD.household_id, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM cov_tally(NEW.hamlet_id, 0, NEW.first_visited_on, NEW.household_id, 1);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_visits_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM cov_reach(OLD.household_id); END IF;
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.household_id <> OLD.household_id) THEN
        PERFORM cov_reach(NEW.household_id);
      END IF;
      RETURN NULL;
    END $$""",
        """CREATE OR REPLACE FUNCTION cov_households_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_delta integer := CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END;
    BEGIN
      IF (OLD.merged_into_id IS NULL) = (NEW.merged_into_id IS NULL) THEN RETURN NULL; END IF;
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ua.ancestor_id, x.service_id,
             (extract(year FROM x.day) * 100 + extract(month FROM x.day))::integer, v_delta
      FROM (SELECT hamlet_id, service_id, adopted_on AS day FROM adoptions WHERE household_id = NEW.id
            UNION ALL
            SELECT hamlet_id, 0, first_visited_on FROM household_reach WHERE household_id = NEW.id) x
      JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id
      ORDER BY ua.ancestor_id
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      
      RETURN NULL;
    END $$""",
        ('CREATE TRIGGER cov_units_ins AFTER INSERT ON admin_units FOR EACH ROW EXECUTE FUNCTION '
         'cov_units_trg()'),
        ('CREATE TRIGGER cov_units_path AFTER UPDATE OF path ON admin_units FOR EACH ROW EXECUTE FUNCTION '
         'cov_units_trg()'),
        ('CREATE TRIGGER cov_adoptions_ins AFTER INSERT ON adoptions FOR EACH ROW EXECUTE FUNCTION '
         'cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_adoptions_del AFTER DELETE ON adoptions FOR EACH ROW EXECUTE FUNCTION '
         'cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_adoptions_upd AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on ON '
         'adoptions FOR EACH ROW EXECUTE FUNCTION cov_adoptions_trg()'),
        ('CREATE TRIGGER cov_reach_ins AFTER INSERT ON household_reach FOR EACH ROW EXECUTE FUNCTION '
         'cov_reach_trg()'),
        ('CREATE TRIGGER cov_reach_del AFTER DELETE ON household_reach FOR EACH ROW EXECUTE FUNCTION '
         'cov_reach_trg()'),
        ('CREATE TRIGGER cov_reach_upd AFTER UPDATE OF hamlet_id, first_visited_on ON household_reach FOR EACH '
         'ROW EXECUTE FUNCTION cov_reach_trg()'),
        'CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION cov_visits_trg()',
        'CREATE TRIGGER cov_visits_del AFTER DELETE ON visits FOR EACH ROW EXECUTE FUNCTION cov_visits_trg()',
        ('CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits FOR EACH '
         'ROW EXECUTE FUNCTION cov_visits_trg()'),
        ('CREATE TRIGGER cov_households_merge AFTER UPDATE OF merged_into_id ON households FOR EACH ROW '
         'EXECUTE FUNCTION cov_households_trg()'),
    ],
    "sqlite": [
        ('CREATE TRIGGER cov_units_ins AFTER INSERT ON admin_units BEGIN INSERT INTO unit_ancestors (unit_id, '
         "ancestor_id) SELECT NEW.id, a.id FROM admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, "
         'length(a.path)) = a.path; END'),
        ('CREATE TRIGGER cov_units_path AFTER UPDATE OF path ON admin_units BEGIN DELETE FROM unit_ancestors '
         'WHERE unit_id = NEW.id; INSERT INTO unit_ancestors (unit_id, ancestor_id) SELECT NEW.id, a.id FROM '
         "admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, length(a.path)) = a.path; END"),
        ('CREATE TRIGGER cov_adoptions_ins AFTER INSERT ON adoptions BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, NEW.service_id, CAST(strftime('%Y%m', "
         'NEW.adopted_on) AS INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + excluded.households; END'),
        ('CREATE TRIGGER cov_adoptions_del AFTER DELETE ON adoptions BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, OLD.service_id, CAST(strftime('%Y%m', "
         'OLD.adopted_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + excluded.households; END'),
        ('CREATE TRIGGER cov_adoptions_upd AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on ON '
         'adoptions BEGIN INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ancestor_id, OLD.service_id, CAST(strftime('%Y%m', OLD.adopted_on) AS INTEGER), -1 FROM "
         'unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = '
         'OLD.household_id) IS NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = '
         'coverage_tallies.households + excluded.households;INSERT INTO coverage_tallies (unit_id, service_id, '
         "month, households) SELECT ancestor_id, NEW.service_id, CAST(strftime('%Y%m', NEW.adopted_on) AS "
         'INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT merged_into_id FROM '
         'households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE '
         'SET households = coverage_tallies.households + excluded.households; END'),
        ('CREATE TRIGGER cov_reach_ins AFTER INSERT ON household_reach BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, 0, CAST(strftime('%Y%m', "
         'NEW.first_visited_on) AS INTEGER), 1 FROM unit_ancestors WHERE unit_id = NEW.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = NEW.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + excluded.households; END'),
        ('CREATE TRIGGER cov_reach_del AFTER DELETE ON household_reach BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ancestor_id, 0, CAST(strftime('%Y%m', "
         'OLD.first_visited_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = OLD.hamlet_id AND (SELECT '
         'merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON CONFLICT (unit_id, '
         'service_id, month) DO UPDATE SET households = coverage_tallies.households + excluded.households; END'),
        ('CREATE TRIGGER cov_reach_upd AFTER UPDATE OF hamlet_id, first_visited_on ON household_reach BEGIN '
         'INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT ancestor_id, 0, '
         "CAST(strftime('%Y%m', OLD.first_visited_on) AS INTEGER), -1 FROM unit_ancestors WHERE unit_id = "
         'OLD.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = OLD.household_id) IS NULL ON '
         'CONFLICT (unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ancestor_id, 0, CAST(strftime('%Y%m', NEW.first_visited_on) AS INTEGER), 1 FROM unit_ancestors WHERE "
         'unit_id = NEW.hamlet_id AND (SELECT merged_into_id FROM households WHERE id = NEW.household_id) IS '
         'NULL ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households '
         '+ excluded.households; END'),
        ('CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits BEGIN DELETE FROM household_reach WHERE '
         'household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = '
         'NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT '
         'household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = NEW.household_id '
         'GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = '
         'excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> '
         'excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_visits_del AFTER DELETE ON visits BEGIN DELETE FROM household_reach WHERE '
         'household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = '
         'OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT '
         'household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = OLD.household_id '
         'GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = '
         'excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> '
         'excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits BEGIN '
         'DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM '
         'visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, '
         'first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE '
         'household_id = OLD.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET '
         'first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE '
         'household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> '
         'excluded.hamlet_id;DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS '
         '(SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach '
         '(household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) '
         'FROM visits WHERE household_id = NEW.household_id GROUP BY household_id ON CONFLICT (household_id) '
         'DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE '
         'household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> '
         'excluded.hamlet_id; END'),
        ('CREATE TRIGGER cov_households_merge AFTER UPDATE OF merged_into_id ON households WHEN '
         '(OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) BEGIN INSERT INTO coverage_tallies '
         "(unit_id, service_id, month, households) SELECT ua.ancestor_id, x.service_id, CAST(strftime('%Y%m', "
         'x.adopted_on) AS INTEGER), CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM adoptions x '
         'JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT '
         '(unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households + '
         'excluded.households;INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT '
         "ua.ancestor_id, 0, CAST(strftime('%Y%m', x.first_visited_on) AS INTEGER), CASE WHEN "
         'NEW.merged_into_id IS NULL THEN 1 ELSE -1 END FROM household_reach x JOIN unit_ancestors ua ON '
         'ua.unit_id = x.hamlet_id WHERE x.household_id = NEW.id ON CONFLICT (unit_id, service_id, month) DO '
         'UPDATE SET households = coverage_tallies.households + excluded.households; END'),
    ],
}
