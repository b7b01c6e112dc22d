"""coverage: one household moved by itself, back and forth; a household's reach in the hamlet of its first visit

A commune officer may now move one household to another hamlet of its commune from a date, as a merge or a split
moves its households (household_moves); a household may so move back to a hamlet it left, and move more than once
on one day, so household_moves gets an id of its own as its primary key (its rows are kept as they were, in the
order of their days) and an index on (household_id, recorded_in_id) for the triggers' look-up.

household_reach.hamlet_id becomes the hamlet of the household's first visit (the lowest id among that day's
visits), where it was the lowest id among all its visits' hamlets: a household that moved to a hamlet registered
before its own counted there from its first visit, before it came, and never in the hamlet it was visited in.
The rows are corrected here, and the reach triggers move the tallies they imply (months closed before included:
they counted the household in a hamlet it was not in).

On SQLite the visits' triggers are replaced (and cov_moves_ins made again with the table); on PostgreSQL the
function cov_reach.

Revision ID: e7c2b9f4a1d3
Revises: d8a4f2c6b1e7
Create Date: 2026-12-08 01:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7c2b9f4a1d3'
down_revision = 'd8a4f2c6b1e7'
branch_labels = None
depends_on = None

COLUMNS = "household_id, recorded_in_id, from_hamlet_id, to_hamlet_id, moved_on"
FOREIGN_KEYS = (
    "CONSTRAINT fk_household_moves_from_hamlet_id_admin_units FOREIGN KEY(from_hamlet_id) REFERENCES admin_units (id), "
    "CONSTRAINT fk_household_moves_household_id_households FOREIGN KEY(household_id) REFERENCES households (id), "
    "CONSTRAINT fk_household_moves_recorded_in_id_admin_units FOREIGN KEY(recorded_in_id) REFERENCES admin_units (id), "
    "CONSTRAINT fk_household_moves_to_hamlet_id_admin_units FOREIGN KEY(to_hamlet_id) REFERENCES admin_units (id)")
# The hamlet of each household's first visit, the lowest id among that day's; before: the lowest of all its visits'.
FIRST_HAMLET = ("(SELECT min(v.hamlet_id) FROM visits v WHERE v.household_id = household_reach.household_id "
                "AND v.visited_on = household_reach.first_visited_on)")
LOWEST_HAMLET = "(SELECT min(v.hamlet_id) FROM visits v WHERE v.household_id = household_reach.household_id)"


def _sqlite_table(with_id: bool) -> None:
    """household_moves made again (SQLite cannot change a primary key), its rows and index kept; its trigger with
    it."""
    key = "id INTEGER NOT NULL, " if with_id else ""
    primary = "PRIMARY KEY (id)" if with_id else "PRIMARY KEY (household_id, recorded_in_id, from_hamlet_id)"
    # Copied aside and back, not renamed: a renaming checks the other tables' triggers, which name this table.
    op.execute(f"CREATE TEMPORARY TABLE _household_moves_kept AS SELECT {COLUMNS} FROM household_moves")
    op.execute("DROP TABLE household_moves")
    op.execute(f"CREATE TABLE household_moves ({key}household_id INTEGER NOT NULL, "
               "recorded_in_id INTEGER NOT NULL, from_hamlet_id INTEGER NOT NULL, to_hamlet_id INTEGER NOT NULL, "
               f"moved_on DATE NOT NULL, CONSTRAINT pk_household_moves {primary}, {FOREIGN_KEYS})")
    op.execute(f"INSERT INTO household_moves ({COLUMNS}) SELECT {COLUMNS} FROM _household_moves_kept "
               "ORDER BY moved_on, household_id, recorded_in_id, from_hamlet_id")
    op.execute("DROP TABLE _household_moves_kept")
    op.execute("CREATE INDEX ix_household_moves_moved_on ON household_moves (moved_on)")
    op.execute(SQLITE_MOVES)


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE household_moves DROP CONSTRAINT pk_household_moves")
        op.execute("ALTER TABLE household_moves ADD COLUMN id SERIAL NOT NULL")
        op.execute("ALTER TABLE household_moves ADD CONSTRAINT pk_household_moves PRIMARY KEY (id)")
        for sql in PG_FUNCTIONS_NEW.values():
            conn.exec_driver_sql(sql)
    else:
        _sqlite_table(with_id=True)
        for name, sql in SQLITE_NEW.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            conn.exec_driver_sql(sql)
    op.execute("CREATE INDEX ix_household_moves_household_recorded ON household_moves (household_id, recorded_in_id)")
    # The reach triggers move each corrected row's tallies.
    op.execute(f"UPDATE household_reach SET hamlet_id = {FIRST_HAMLET} WHERE hamlet_id <> {FIRST_HAMLET}")


def downgrade():
    conn = op.get_bind()
    twice = conn.execute(sa.text(
        "SELECT count(*) FROM (SELECT 1 FROM household_moves GROUP BY household_id, recorded_in_id, from_hamlet_id "
        "HAVING count(*) > 1) t")).scalar()
    if twice:
        raise RuntimeError(f"{twice} household(s) moved from the same hamlet more than once: the schema before "
                           "cannot hold them; restore a backup taken before instead")
    op.execute("DROP INDEX ix_household_moves_household_recorded")
    if conn.dialect.name == "postgresql":
        for sql in PG_FUNCTIONS_OLD.values():
            conn.exec_driver_sql(sql)
        op.execute("ALTER TABLE household_moves DROP CONSTRAINT pk_household_moves")
        op.execute("ALTER TABLE household_moves DROP COLUMN id")
        op.execute("ALTER TABLE household_moves ADD CONSTRAINT pk_household_moves "
                   "PRIMARY KEY (household_id, recorded_in_id, from_hamlet_id)")
    else:
        for name, sql in SQLITE_OLD.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            conn.exec_driver_sql(sql)
        _sqlite_table(with_id=False)
    op.execute(f"UPDATE household_reach SET hamlet_id = {LOWEST_HAMLET} WHERE hamlet_id <> {LOWEST_HAMLET}")


# --- Frozen SQL: app/coverage/store.py's output when this revision was written (NEW) and just
# before it (OLD), for the triggers and functions it changes; do not edit ---

SQLITE_NEW = {
    'cov_visits_ins': 'CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits BEGIN DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, hamlet_id, visited_on FROM visits WHERE household_id = NEW.household_id ORDER BY visited_on, hamlet_id LIMIT 1 ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
    'cov_visits_del': 'CREATE TRIGGER cov_visits_del AFTER DELETE ON visits BEGIN DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, hamlet_id, visited_on FROM visits WHERE household_id = OLD.household_id ORDER BY visited_on, hamlet_id LIMIT 1 ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
    'cov_visits_upd': 'CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits BEGIN DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, hamlet_id, visited_on FROM visits WHERE household_id = OLD.household_id ORDER BY visited_on, hamlet_id LIMIT 1 ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id;DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, hamlet_id, visited_on FROM visits WHERE household_id = NEW.household_id ORDER BY visited_on, hamlet_id LIMIT 1 ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
}

SQLITE_OLD = {
    'cov_visits_ins': 'CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits BEGIN DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = NEW.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
    'cov_visits_del': 'CREATE TRIGGER cov_visits_del AFTER DELETE ON visits BEGIN DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = OLD.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
    'cov_visits_upd': 'CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits BEGIN DELETE FROM household_reach WHERE household_id = OLD.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = OLD.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id;DELETE FROM household_reach WHERE household_id = NEW.household_id AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = NEW.household_id);INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) SELECT household_id, min(hamlet_id), min(visited_on) FROM visits WHERE household_id = NEW.household_id GROUP BY household_id ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on OR household_reach.hamlet_id <> excluded.hamlet_id; END',
}

# Rebuilt with the table on SQLite, unchanged.
SQLITE_MOVES = "CREATE TRIGGER cov_moves_ins AFTER INSERT ON household_moves WHEN (SELECT merged_into_id FROM households WHERE id = NEW.household_id) IS NULL BEGIN INSERT INTO coverage_tallies (unit_id, service_id, month, households) SELECT ua.ancestor_id, x.service_id, CAST(strftime('%Y%m', NEW.moved_on) AS INTEGER), sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) FROM (SELECT service_id FROM adoptions WHERE household_id = NEW.household_id AND hamlet_id = NEW.recorded_in_id AND adopted_on < NEW.moved_on UNION ALL SELECT 0 FROM household_reach WHERE household_id = NEW.household_id AND hamlet_id = NEW.recorded_in_id AND first_visited_on < NEW.moved_on) x JOIN unit_ancestors ua ON ua.unit_id IN (NEW.from_hamlet_id, NEW.to_hamlet_id) AND (ua.until IS NULL OR NEW.moved_on < ua.until) WHERE 1 GROUP BY ua.ancestor_id, x.service_id HAVING sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) <> 0 ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = coverage_tallies.households + excluded.households;INSERT INTO coverage_totals (unit_id, service_id, households) SELECT ua.ancestor_id, x.service_id, sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) FROM (SELECT service_id FROM adoptions WHERE household_id = NEW.household_id AND hamlet_id = NEW.recorded_in_id AND adopted_on < NEW.moved_on UNION ALL SELECT 0 FROM household_reach WHERE household_id = NEW.household_id AND hamlet_id = NEW.recorded_in_id AND first_visited_on < NEW.moved_on) x JOIN unit_ancestors ua ON ua.unit_id IN (NEW.from_hamlet_id, NEW.to_hamlet_id) AND (ua.until IS NULL OR NEW.moved_on < ua.until) WHERE 1 GROUP BY ua.ancestor_id, x.service_id HAVING sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) <> 0 ON CONFLICT (unit_id, service_id) DO UPDATE SET households = coverage_totals.households + excluded.households; END"

PG_FUNCTIONS_NEW = {
    'cov_reach': "CREATE OR REPLACE FUNCTION cov_reach(p_household integer) RETURNS void LANGUAGE plpgsql AS $$\n    DECLARE v_first date; v_hamlet integer;\n    BEGIN\n      -- The hamlet of the first visit (the lowest id among that day's): where the household was when first reached.\n      SELECT visited_on, hamlet_id INTO v_first, v_hamlet FROM visits WHERE household_id = p_household\n      ORDER BY visited_on, hamlet_id LIMIT 1;\n      IF v_first IS NULL THEN\n        DELETE FROM household_reach WHERE household_id = p_household;\n      ELSE\n        INSERT INTO household_reach AS r (household_id, hamlet_id, first_visited_on)\n        VALUES (p_household, v_hamlet, v_first)\n        ON CONFLICT (household_id) DO UPDATE\n          SET first_visited_on = EXCLUDED.first_visited_on, hamlet_id = EXCLUDED.hamlet_id\n          WHERE r.first_visited_on <> EXCLUDED.first_visited_on OR r.hamlet_id <> EXCLUDED.hamlet_id;\n      END IF;\n    END $$",
}

PG_FUNCTIONS_OLD = {
    'cov_reach': 'CREATE OR REPLACE FUNCTION cov_reach(p_household integer) RETURNS void LANGUAGE plpgsql AS $$\n    DECLARE v_first date; v_hamlet integer;\n    BEGIN\n      SELECT min(visited_on), min(hamlet_id) INTO v_first, v_hamlet FROM visits WHERE household_id = p_household;\n      IF v_first IS NULL THEN\n        DELETE FROM household_reach WHERE household_id = p_household;\n      ELSE\n        INSERT INTO household_reach AS r (household_id, hamlet_id, first_visited_on)\n        VALUES (p_household, v_hamlet, v_first)\n        ON CONFLICT (household_id) DO UPDATE\n          SET first_visited_on = EXCLUDED.first_visited_on, hamlet_id = EXCLUDED.hamlet_id\n          WHERE r.first_visited_on <> EXCLUDED.first_visited_on OR r.hamlet_id <> EXCLUDED.hamlet_id;\n      END IF;\n    END $$',
}
