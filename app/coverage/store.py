"""The triggers that keep coverage tallies live, a bulk rebuild, and `verify` against the visits.

Triggers (not application hooks) so that every writer — the visit form, an import, a merge, a
bulk seed, a hand-run SQL fix — updates the tallies in its own transaction, on SQLite as on
PostgreSQL. The chain: visits → household_reach; adoptions and household_reach → coverage_tallies
(per month) and coverage_totals (all months) for the hamlet and every unit above it (via
unit_ancestors); households.merged_into_id → removes or restores a merged household's
contributions; admin_units → unit_ancestors; and visits → the month tables of the monthly summary
(app/coverage/visit_months.py).

The migrations that install these hold a frozen copy of the SQL as it was when each was written;
a test checks that the schema they build has exactly the triggers this module builds, so a change
here needs a migration.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.coverage import visit_months

TRIGGERS = ["cov_units_ins", "cov_units_path", "cov_adoptions_ins", "cov_adoptions_del", "cov_adoptions_upd",
            "cov_reach_ins", "cov_reach_del", "cov_reach_upd", "cov_visits_ins", "cov_visits_del",
            "cov_visits_upd", "cov_households_merge", "cov_moves_ins"] + visit_months.TRIGGERS

_ANCESTORS = ("SELECT {unit}, a.id FROM admin_units a "
              "WHERE a.path <> '' AND substr({path}, 1, length(a.path)) = a.path")


def _sqlite_month(day: str) -> str:
    return f"CAST(strftime('%Y%m', {day}) AS INTEGER)"


def _sqlite_tally(hamlet: str, service: str, day: str, household: str, delta: str) -> str:
    live = (f"WHERE unit_id = {hamlet} AND (until IS NULL OR {day} < until) "
            f"AND (SELECT merged_into_id FROM households WHERE id = {household}) IS NULL ")
    sql = (f"INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
           f"SELECT ancestor_id, {service}, {_sqlite_month(day)}, {delta} FROM unit_ancestors {live}"
           f"ON CONFLICT (unit_id, service_id, month) DO UPDATE "
           f"SET households = coverage_tallies.households + excluded.households;"
           f"INSERT INTO coverage_totals (unit_id, service_id, households) "
           f"SELECT ancestor_id, {service}, {delta} FROM unit_ancestors {live}"
           f"ON CONFLICT (unit_id, service_id) DO UPDATE "
           f"SET households = coverage_totals.households + excluded.households;")
    return sql + _sqlite_moved(hamlet, service, day, household, delta)


def _sqlite_moved(hamlet: str, service: str, day: str, household: str, delta: str) -> str:
    """The event's moves (household_moves): from each one's day, it counts in the hamlet the household went to
    instead of the one it left; summed per ancestor, so the commune both are in gets nothing written."""
    signed = f"sum(CASE WHEN ua.unit_id = m.to_hamlet_id THEN {delta} ELSE -({delta}) END)"
    moves = (f"FROM household_moves m JOIN unit_ancestors ua ON ua.unit_id IN (m.from_hamlet_id, m.to_hamlet_id) "
             f"AND (ua.until IS NULL OR m.moved_on < ua.until) "
             f"WHERE m.household_id = {household} AND m.recorded_in_id = {hamlet} AND {day} < m.moved_on "
             f"AND (SELECT merged_into_id FROM households WHERE id = {household}) IS NULL ")
    return (f"INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
            f"SELECT ua.ancestor_id, {service}, {_sqlite_month('m.moved_on')}, {signed} {moves}"
            f"GROUP BY ua.ancestor_id, {_sqlite_month('m.moved_on')} HAVING {signed} <> 0 "
            f"ON CONFLICT (unit_id, service_id, month) DO UPDATE "
            f"SET households = coverage_tallies.households + excluded.households;"
            f"INSERT INTO coverage_totals (unit_id, service_id, households) "
            f"SELECT ua.ancestor_id, {service}, {signed} {moves}GROUP BY ua.ancestor_id HAVING {signed} <> 0 "
            f"ON CONFLICT (unit_id, service_id) DO UPDATE "
            f"SET households = coverage_totals.households + excluded.households;")


# A household's events and their moves, each signed: +1 where and when it counts, -1 where and when a move takes
# it away. {household}: the household's id; in the merge trigger NEW.id.
_SIGNED_EVENTS = (
    "SELECT hamlet_id, service_id, adopted_on AS day, 1 AS sign FROM adoptions WHERE household_id = {household} "
    "UNION ALL SELECT hamlet_id, 0, first_visited_on, 1 FROM household_reach WHERE household_id = {household} "
    "UNION ALL SELECT m.from_hamlet_id, x.service_id, m.moved_on, -1 FROM ({events}) x "
    "JOIN household_moves m ON m.household_id = {household} AND m.recorded_in_id = x.hamlet_id "
    "AND x.day < m.moved_on "
    "UNION ALL SELECT m.to_hamlet_id, x.service_id, m.moved_on, 1 FROM ({events}) x "
    "JOIN household_moves m ON m.household_id = {household} AND m.recorded_in_id = x.hamlet_id "
    "AND x.day < m.moved_on")
_EVENTS = ("SELECT hamlet_id, service_id, adopted_on AS day FROM adoptions WHERE household_id = {household} "
           "UNION ALL SELECT hamlet_id, 0, first_visited_on FROM household_reach WHERE household_id = {household}")


def signed_events(household: str) -> str:
    """(hamlet_id, service_id, day, sign) of a household's adoptions and first visit, and of their moves."""
    return _SIGNED_EVENTS.format(household=household, events=_EVENTS.format(household=household))


def _sqlite_reach(household: str) -> str:
    # The hamlet of the first visit (the lowest id among that day's): where the household was when first reached.
    return (f"DELETE FROM household_reach WHERE household_id = {household} "
            f"AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = {household});"
            f"INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) "
            f"SELECT household_id, hamlet_id, visited_on FROM visits WHERE household_id = {household} "
            f"ORDER BY visited_on, hamlet_id LIMIT 1 "
            f"ON CONFLICT (household_id) DO UPDATE SET first_visited_on = excluded.first_visited_on, "
            f"hamlet_id = excluded.hamlet_id WHERE household_reach.first_visited_on <> excluded.first_visited_on "
            f"OR household_reach.hamlet_id <> excluded.hamlet_id;")


def _sqlite_merge() -> str:
    delta = "CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END"
    rows = (f"FROM ({signed_events('NEW.id')}) x JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id "
            f"AND (ua.until IS NULL OR x.day < ua.until) WHERE 1 ")
    sql = (f"INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
           f"SELECT ua.ancestor_id, x.service_id, {_sqlite_month('x.day')}, sum(x.sign) * ({delta}) {rows}"
           f"GROUP BY ua.ancestor_id, x.service_id, {_sqlite_month('x.day')} HAVING sum(x.sign) <> 0 "
           f"ON CONFLICT (unit_id, service_id, month) DO UPDATE "
           f"SET households = coverage_tallies.households + excluded.households;"
           f"INSERT INTO coverage_totals (unit_id, service_id, households) "
           f"SELECT ua.ancestor_id, x.service_id, sum(x.sign) * ({delta}) {rows}"
           f"GROUP BY ua.ancestor_id, x.service_id HAVING sum(x.sign) <> 0 "
           f"ON CONFLICT (unit_id, service_id) DO UPDATE "
           f"SET households = coverage_totals.households + excluded.households;")
    return sql


def _sqlite_moves() -> str:
    """A move written: the household's events recorded in the hamlet before its day count from then in the
    hamlet it went to, not in the one it left."""
    signed = "sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END)"
    rows = ("FROM (SELECT service_id FROM adoptions WHERE household_id = NEW.household_id "
            "AND hamlet_id = NEW.recorded_in_id AND adopted_on < NEW.moved_on "
            "UNION ALL SELECT 0 FROM household_reach WHERE household_id = NEW.household_id "
            "AND hamlet_id = NEW.recorded_in_id AND first_visited_on < NEW.moved_on) x "
            "JOIN unit_ancestors ua ON ua.unit_id IN (NEW.from_hamlet_id, NEW.to_hamlet_id) "
            "AND (ua.until IS NULL OR NEW.moved_on < ua.until) WHERE 1 ")
    return (f"INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
            f"SELECT ua.ancestor_id, x.service_id, {_sqlite_month('NEW.moved_on')}, {signed} {rows}"
            f"GROUP BY ua.ancestor_id, x.service_id HAVING {signed} <> 0 "
            f"ON CONFLICT (unit_id, service_id, month) DO UPDATE "
            f"SET households = coverage_tallies.households + excluded.households;"
            f"INSERT INTO coverage_totals (unit_id, service_id, households) "
            f"SELECT ua.ancestor_id, x.service_id, {signed} {rows}"
            f"GROUP BY ua.ancestor_id, x.service_id HAVING {signed} <> 0 "
            f"ON CONFLICT (unit_id, service_id) DO UPDATE "
            f"SET households = coverage_totals.households + excluded.households;")


def sqlite_ddl() -> list[str]:
    anc = _ANCESTORS
    tally = _sqlite_tally

    return [
        "CREATE TRIGGER cov_units_ins AFTER INSERT ON admin_units BEGIN "
        f"INSERT INTO unit_ancestors (unit_id, ancestor_id) {anc.format(unit='NEW.id', path='NEW.path')}; END",
        # A move keeps the dated rows of former ancestors (the reorganization writes them first).
        "CREATE TRIGGER cov_units_path AFTER UPDATE OF path ON admin_units BEGIN "
        "DELETE FROM unit_ancestors WHERE unit_id = NEW.id AND until IS NULL; "
        f"INSERT INTO unit_ancestors (unit_id, ancestor_id) {anc.format(unit='NEW.id', path='NEW.path')} "
        "ON CONFLICT (unit_id, ancestor_id) DO UPDATE SET until = NULL; END",
        "CREATE TRIGGER cov_adoptions_ins AFTER INSERT ON adoptions BEGIN "
        + tally("NEW.hamlet_id", "NEW.service_id", "NEW.adopted_on", "NEW.household_id", "1") + " END",
        "CREATE TRIGGER cov_adoptions_del AFTER DELETE ON adoptions BEGIN "
        + tally("OLD.hamlet_id", "OLD.service_id", "OLD.adopted_on", "OLD.household_id", "-1") + " END",
        "CREATE TRIGGER cov_adoptions_upd AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on "
        "ON adoptions BEGIN "
        + tally("OLD.hamlet_id", "OLD.service_id", "OLD.adopted_on", "OLD.household_id", "-1")
        + tally("NEW.hamlet_id", "NEW.service_id", "NEW.adopted_on", "NEW.household_id", "1") + " END",
        "CREATE TRIGGER cov_reach_ins AFTER INSERT ON household_reach BEGIN "
        + tally("NEW.hamlet_id", "0", "NEW.first_visited_on", "NEW.household_id", "1") + " END",
        "CREATE TRIGGER cov_reach_del AFTER DELETE ON household_reach BEGIN "
        + tally("OLD.hamlet_id", "0", "OLD.first_visited_on", "OLD.household_id", "-1") + " END",
        "CREATE TRIGGER cov_reach_upd AFTER UPDATE OF hamlet_id, first_visited_on ON household_reach BEGIN "
        + tally("OLD.hamlet_id", "0", "OLD.first_visited_on", "OLD.household_id", "-1")
        + tally("NEW.hamlet_id", "0", "NEW.first_visited_on", "NEW.household_id", "1") + " END",
        "CREATE TRIGGER cov_visits_ins AFTER INSERT ON visits BEGIN " + _sqlite_reach("NEW.household_id") + " END",
        "CREATE TRIGGER cov_visits_del AFTER DELETE ON visits BEGIN " + _sqlite_reach("OLD.household_id") + " END",
        "CREATE TRIGGER cov_visits_upd AFTER UPDATE OF household_id, hamlet_id, visited_on ON visits BEGIN "
        + _sqlite_reach("OLD.household_id") + _sqlite_reach("NEW.household_id") + " END",
        "CREATE TRIGGER cov_households_merge AFTER UPDATE OF merged_into_id ON households "
        "WHEN (OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) BEGIN " + _sqlite_merge() + " END",
        "CREATE TRIGGER cov_moves_ins AFTER INSERT ON household_moves "
        "WHEN (SELECT merged_into_id FROM households WHERE id = NEW.household_id) IS NULL BEGIN "
        + _sqlite_moves() + " END",
    ] + visit_months.sqlite_ddl()


_PG_TOTAL = """
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ancestor_id, p_service, p_delta FROM unit_ancestors
      WHERE unit_id = p_hamlet AND (until IS NULL OR p_day < until) ORDER BY ancestor_id
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;"""


_PG_SIGNED = "sum(CASE WHEN ua.unit_id = m.to_hamlet_id THEN p_delta ELSE -p_delta END)"
_PG_MOVED = f"""
      -- The event's moves (household_moves), summed per ancestor: the commune both hamlets are in gets nothing.
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ua.ancestor_id, p_service, (extract(year FROM m.moved_on) * 100 + extract(month FROM m.moved_on))::integer,
             {_PG_SIGNED}
      FROM household_moves m JOIN unit_ancestors ua ON ua.unit_id IN (m.from_hamlet_id, m.to_hamlet_id)
        AND (ua.until IS NULL OR m.moved_on < ua.until)
      WHERE m.household_id = p_household AND m.recorded_in_id = p_hamlet AND p_day < m.moved_on
      GROUP BY 1, 3 HAVING {_PG_SIGNED} <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ua.ancestor_id, p_service, {_PG_SIGNED}
      FROM household_moves m JOIN unit_ancestors ua ON ua.unit_id IN (m.from_hamlet_id, m.to_hamlet_id)
        AND (ua.until IS NULL OR m.moved_on < ua.until)
      WHERE m.household_id = p_household AND m.recorded_in_id = p_hamlet AND p_day < m.moved_on
      GROUP BY 1 HAVING {_PG_SIGNED} <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;"""


def pg_functions() -> list[str]:
    return ([ddl.replace("-- totals", _PG_TOTAL + _PG_MOVED).replace("-- merge events", signed_events("NEW.id"))
             for ddl in _PG_FUNCTIONS] + visit_months.PG_FUNCTION_DDL)


_PG_FUNCTIONS = [
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
      FROM unit_ancestors WHERE unit_id = p_hamlet AND (until IS NULL OR p_day < until) ORDER BY ancestor_id
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      -- totals
    END $$""",
    """CREATE OR REPLACE FUNCTION cov_reach(p_household integer) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE v_first date; v_hamlet integer;
    BEGIN
      -- The hamlet of the first visit (the lowest id among that day's): where the household was when first reached.
      SELECT visited_on, hamlet_id INTO v_first, v_hamlet FROM visits WHERE household_id = p_household
      ORDER BY visited_on, hamlet_id LIMIT 1;
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
      DELETE FROM unit_ancestors WHERE unit_id = NEW.id AND until IS NULL;
      INSERT INTO unit_ancestors (unit_id, ancestor_id)
      SELECT NEW.id, a.id FROM admin_units a WHERE a.path <> '' AND substr(NEW.path, 1, length(a.path)) = a.path
      ON CONFLICT (unit_id, ancestor_id) DO UPDATE SET until = NULL;
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
             (extract(year FROM x.day) * 100 + extract(month FROM x.day))::integer, sum(x.sign) * v_delta
      FROM (-- merge events
           ) x
      JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id AND (ua.until IS NULL OR x.day < ua.until)
      GROUP BY 1, 2, 3 HAVING sum(x.sign) <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ua.ancestor_id, x.service_id, sum(x.sign) * v_delta
      FROM (-- merge events
           ) x
      JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id AND (ua.until IS NULL OR x.day < ua.until)
      GROUP BY 1, 2 HAVING sum(x.sign) <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION cov_moves_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The household's events recorded in the hamlet before the move count from its day in the hamlet it went
      -- to, not in the one it left.
      IF EXISTS (SELECT 1 FROM households WHERE id = NEW.household_id AND merged_into_id IS NOT NULL) THEN
        RETURN NULL;
      END IF;
      INSERT INTO coverage_tallies AS t (unit_id, service_id, month, households)
      SELECT ua.ancestor_id, x.service_id, (extract(year FROM NEW.moved_on) * 100
                                            + extract(month FROM NEW.moved_on))::integer,
             sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END)
      FROM (SELECT service_id FROM adoptions WHERE household_id = NEW.household_id
              AND hamlet_id = NEW.recorded_in_id AND adopted_on < NEW.moved_on
            UNION ALL
            SELECT 0 FROM household_reach WHERE household_id = NEW.household_id
              AND hamlet_id = NEW.recorded_in_id AND first_visited_on < NEW.moved_on) x
      JOIN unit_ancestors ua ON ua.unit_id IN (NEW.from_hamlet_id, NEW.to_hamlet_id)
        AND (ua.until IS NULL OR NEW.moved_on < ua.until)
      GROUP BY 1, 2 HAVING sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id, month) DO UPDATE SET households = t.households + EXCLUDED.households;
      INSERT INTO coverage_totals AS t (unit_id, service_id, households)
      SELECT ua.ancestor_id, x.service_id, sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END)
      FROM (SELECT service_id FROM adoptions WHERE household_id = NEW.household_id
              AND hamlet_id = NEW.recorded_in_id AND adopted_on < NEW.moved_on
            UNION ALL
            SELECT 0 FROM household_reach WHERE household_id = NEW.household_id
              AND hamlet_id = NEW.recorded_in_id AND first_visited_on < NEW.moved_on) x
      JOIN unit_ancestors ua ON ua.unit_id IN (NEW.from_hamlet_id, NEW.to_hamlet_id)
        AND (ua.until IS NULL OR NEW.moved_on < ua.until)
      GROUP BY 1, 2 HAVING sum(CASE WHEN ua.unit_id = NEW.to_hamlet_id THEN 1 ELSE -1 END) <> 0 ORDER BY 1
      ON CONFLICT (unit_id, service_id) DO UPDATE SET households = t.households + EXCLUDED.households;
      RETURN NULL;
    END $$""",
]

PG_TRIGGERS = [
    ("cov_units_ins", "admin_units", "AFTER INSERT", "cov_units_trg"),
    ("cov_units_path", "admin_units", "AFTER UPDATE OF path", "cov_units_trg"),
    ("cov_adoptions_ins", "adoptions", "AFTER INSERT", "cov_adoptions_trg"),
    ("cov_adoptions_del", "adoptions", "AFTER DELETE", "cov_adoptions_trg"),
    ("cov_adoptions_upd", "adoptions", "AFTER UPDATE OF household_id, service_id, hamlet_id, adopted_on",
     "cov_adoptions_trg"),
    ("cov_reach_ins", "household_reach", "AFTER INSERT", "cov_reach_trg"),
    ("cov_reach_del", "household_reach", "AFTER DELETE", "cov_reach_trg"),
    ("cov_reach_upd", "household_reach", "AFTER UPDATE OF hamlet_id, first_visited_on", "cov_reach_trg"),
    ("cov_visits_ins", "visits", "AFTER INSERT", "cov_visits_trg"),
    ("cov_visits_del", "visits", "AFTER DELETE", "cov_visits_trg"),
    ("cov_visits_upd", "visits", "AFTER UPDATE OF household_id, hamlet_id, visited_on", "cov_visits_trg"),
    ("cov_households_merge", "households", "AFTER UPDATE OF merged_into_id", "cov_households_trg"),
    ("cov_moves_ins", "household_moves", "AFTER INSERT", "cov_moves_trg"),
] + visit_months.PG_TRIGGERS


# cache_tokens: whenever household counts or the units change (the tree's shape, a name, a date, a
# succession or a placement of a reorganization), the token is replaced by a random value, in the same
# transaction; what a worker keeps of them is keyed by it (the household roll-up, a unit's children,
# a reorganized unit's "before 07/2025" note: app/coverage/rollup.py).
_SQLITE_TOKEN = ("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', random()) "
                 "ON CONFLICT (name) DO UPDATE SET token = excluded.token;")
_PG_TOKEN = ("INSERT INTO cache_tokens (name, token) VALUES ('household_counts', (random() * 9.2e18)::bigint) "
             "ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;")
SQLITE_TOKEN_TRIGGERS = [
    ("cov_token_counts_ins", "AFTER INSERT ON household_counts"),
    ("cov_token_counts_upd", "AFTER UPDATE ON household_counts"),
    ("cov_token_counts_del", "AFTER DELETE ON household_counts"),
    ("cov_token_units_ins", "AFTER INSERT ON admin_units"),
    ("cov_token_units_upd", "AFTER UPDATE ON admin_units"),
    ("cov_token_units_del", "AFTER DELETE ON admin_units"),
] + [(f"cov_token_{short}_{event[:3].lower()}", f"AFTER {event} ON {table}")
     for table, short in (("unit_successions", "successions"), ("unit_placements", "placements"))
     for event in ("INSERT", "UPDATE", "DELETE")]
PG_TOKEN_FUNCTION = (f"CREATE OR REPLACE FUNCTION cov_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                     f"    BEGIN\n      {_PG_TOKEN}\n      RETURN NULL;\n    END $$")
# Statement-level: a bulk load replaces the token once, not once per row.
PG_TOKEN_TRIGGERS = [
    ("cov_token_counts", "household_counts", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
    ("cov_token_units", "admin_units", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
    ("cov_token_successions", "unit_successions", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
    ("cov_token_placements", "unit_placements", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
]


def trigger_names(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return TRIGGERS + [n for n, _t, _w in PG_TOKEN_TRIGGERS]
    return TRIGGERS + [n for n, _w in SQLITE_TOKEN_TRIGGERS]


def _sqlite_token_ddl() -> list[str]:
    return [f"CREATE TRIGGER {name} {when} BEGIN {_SQLITE_TOKEN} END" for name, when in SQLITE_TOKEN_TRIGGERS]


def _pg_trigger_ddl() -> list[str]:
    return ([f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {func}()"
             for name, table, when, func in PG_TRIGGERS]
            + [f"CREATE TRIGGER {name} {when} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION cov_token_bump()"
               for name, table, when in PG_TOKEN_TRIGGERS])


def replace_token(conn) -> None:
    """Mark every worker's cached household roll-up stale (triggers do it; bulk loads run without)."""
    conn.exec_driver_sql(_PG_TOKEN if conn.dialect.name == "postgresql" else _SQLITE_TOKEN)


def install(conn) -> None:
    """Create the triggers on this connection's database."""
    if conn.dialect.name == "postgresql":
        for ddl in pg_functions() + [PG_TOKEN_FUNCTION] + _pg_trigger_ddl():
            conn.exec_driver_sql(ddl)
        return
    for ddl in sqlite_ddl() + _sqlite_token_ddl():
        conn.exec_driver_sql(ddl)


def definitions(conn) -> dict[str, str]:
    """The coverage triggers in this database (and on PostgreSQL their functions' bodies), by name."""
    if conn.dialect.name == "postgresql":
        functions = conn.execute(sa.text("SELECT proname || '()', prosrc FROM pg_proc "
                                         "WHERE proname LIKE 'cov!_%' ESCAPE '!'"))
        triggers = conn.execute(sa.text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                                        "WHERE NOT tgisinternal AND tgname LIKE 'cov!_%' ESCAPE '!'"))
        # Without the table's schema, which PostgreSQL adds: the app's tables live in one.
        return dict(functions.all()) | {name: re.sub(r" ON \w+\.", " ON ", ddl) for name, ddl in triggers}
    return dict(conn.execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cov!_%' ESCAPE '!'")).all())


def expected_definitions(dialect: str) -> dict[str, str]:
    """What `definitions` finds once `install` has run, as this module builds the triggers now."""
    if dialect != "postgresql":
        return dict(zip(trigger_names(dialect), sqlite_ddl() + _sqlite_token_ddl(), strict=True))
    out = {}
    for ddl in pg_functions() + [PG_TOKEN_FUNCTION]:
        name = ddl.split("FUNCTION ", 1)[1].split("(", 1)[0]
        out[f"{name}()"] = ddl.split("$$", 1)[1].rsplit("$$", 1)[0]
    for ddl in _pg_trigger_ddl():
        out[ddl.split()[2]] = ddl
    return out


def installed(conn) -> list[str]:
    if conn.dialect.name == "postgresql":
        q = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'cov_%'"
    else:
        q = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cov_%'"
    return [r[0] for r in conn.execute(sa.text(q))]


def uninstall(conn) -> None:
    if conn.dialect.name == "postgresql":
        tables = {n: t for n, t, _w, _f in PG_TRIGGERS} | {n: t for n, t, _w in PG_TOKEN_TRIGGERS}
        for name in trigger_names("postgresql"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {tables[name]}")
        for fn in ("cov_token_bump()", "cov_moves_trg()", "cov_households_trg()", "cov_visits_trg()", "cov_reach_trg()",
                   "cov_adoptions_trg()", "cov_units_trg()", "cov_reach(integer)",
                   "cov_tally(integer, integer, date, integer, integer)", *visit_months.PG_FUNCTIONS):
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}")
        return
    for name in trigger_names("sqlite"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


# ---------------------------------------------------------------------------------------------
# What the derived tables should hold, computed from the visits alone.

def _month(conn, day: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"(extract(year FROM {day}) * 100 + extract(month FROM {day}))::integer"
    return _sqlite_month(day)


def expected_ancestors_sql() -> str:
    """Current ancestors from the paths (until NULL), and former ones from the placements.

    A unit placed under P until D (and everything below it) counted under P and P's ancestors
    for the events before D; an ancestor it is under again today counts all its events.
    """
    current = ("SELECT u.id AS unit_id, a.id AS ancestor_id, NULL AS until FROM admin_units u JOIN admin_units a "
               "ON a.path <> '' AND substr(u.path, 1, length(a.path)) = a.path")
    # Step by step, each step materialised: left to itself the planner joins every unit with every
    # unit before it looks at the (few) placements, which took minutes on the demo's 900 units.
    moved = ("SELECT p.valid_to, u.path AS upath, par.path AS ppath FROM unit_placements p "
             "JOIN admin_units u ON u.id = p.unit_id JOIN admin_units par ON par.id = p.parent_id "
             "WHERE p.valid_to IS NOT NULL AND u.path <> ''")
    below = ("SELECT m.valid_to, m.ppath, d.id AS did, d.path AS dpath FROM moved m "
             "JOIN admin_units d ON substr(d.path, 1, length(m.upath)) = m.upath")
    former = ("SELECT b.did, a.id, max(b.valid_to) FROM below b "
              "JOIN admin_units a ON a.path <> '' AND substr(b.ppath, 1, length(a.path)) = a.path "
              "WHERE substr(b.dpath, 1, length(a.path)) <> a.path GROUP BY b.did, a.id")
    return (f"WITH moved AS MATERIALIZED ({moved}), below AS MATERIALIZED ({below}) "
            f"{current} UNION ALL {former}")


def expected_adoptions_sql() -> str:
    """Earliest visit marking each (household, service) adopted; the lowest id on a tie."""
    first = ("SELECT v.household_id, vs.service_id, min(v.visited_on) AS day FROM visits v "
             "JOIN visit_services vs ON vs.visit_id = v.id AND vs.result = 'adopted' "
             "GROUP BY v.household_id, vs.service_id")
    return ("SELECT v.household_id, vs.service_id, v.visited_on AS adopted_on, min(v.id) AS visit_id "
            "FROM visits v JOIN visit_services vs ON vs.visit_id = v.id AND vs.result = 'adopted' "
            f"JOIN ({first}) f ON f.household_id = v.household_id AND f.service_id = vs.service_id "
            "AND f.day = v.visited_on GROUP BY v.household_id, vs.service_id, v.visited_on")


def expected_reach_sql() -> str:
    """Each visited household's first visit: its day and hamlet (the lowest id among that day's)."""
    first = "SELECT household_id, min(visited_on) AS day FROM visits GROUP BY household_id"
    return ("SELECT v.household_id, min(v.hamlet_id) AS hamlet_id, v.visited_on AS first_visited_on "
            f"FROM visits v JOIN ({first}) f ON f.household_id = v.household_id AND f.day = v.visited_on "
            "GROUP BY v.household_id, v.visited_on")


def expected_tallies_sql(conn, reach_table: str = "household_reach") -> str:
    """Tallies from the adoptions and first visits of households not merged into another."""
    # By day, not month: a former ancestor counts only the events before the day the unit moved.
    by_hamlet = (
        "SELECT a.hamlet_id, a.service_id, a.adopted_on AS day, count(*) AS n "
        "FROM adoptions a JOIN households h ON h.id = a.household_id WHERE h.merged_into_id IS NULL "
        "GROUP BY a.hamlet_id, a.service_id, a.adopted_on "
        "UNION ALL "
        "SELECT r.hamlet_id, 0, r.first_visited_on, count(*) "
        f"FROM {reach_table} r JOIN households h ON h.id = r.household_id WHERE h.merged_into_id IS NULL "
        "GROUP BY r.hamlet_id, r.first_visited_on "
        f"UNION ALL {moves_sql(reach_table)}")
    return (f"SELECT ua.ancestor_id AS unit_id, x.service_id, {_month(conn, 'x.day')} AS month, "
            "sum(x.n) AS households "
            f"FROM ({by_hamlet}) x JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id "
            "AND (ua.until IS NULL OR x.day < ua.until) "
            f"GROUP BY ua.ancestor_id, x.service_id, {_month(conn, 'x.day')} HAVING sum(x.n) <> 0")


def moves_sql(reach_table: str = "household_reach", where: str = "") -> str:
    """(hamlet_id, service_id, day, n) of the households' moves (household_moves `m`, filtered by `where`): on
    its day each move takes the adoptions and first visits recorded in its hamlet before then, of households not
    merged into another, out of the hamlet left (n < 0) and into the one reached (n > 0)."""
    parts = []
    for table, service, day in (("adoptions", "e.service_id", "e.adopted_on"),
                                (reach_table, "0", "e.first_visited_on")):
        moved = ("FROM household_moves m JOIN households h ON h.id = m.household_id AND h.merged_into_id IS NULL "
                 f"JOIN {table} e ON e.household_id = m.household_id AND e.hamlet_id = m.recorded_in_id "
                 f"AND {day} < m.moved_on {'WHERE ' + where if where else ''} ")
        by = ", e.service_id" if service == "e.service_id" else ""  # not a constant: PostgreSQL reads 0 as a position
        parts += [f"SELECT m.{end} AS hamlet_id, {service} AS service_id, m.moved_on AS day, {sign}count(*) AS n "
                  f"{moved}GROUP BY m.{end}, m.moved_on{by}"
                  for end, sign in (("from_hamlet_id", "-"), ("to_hamlet_id", ""))]
    return " UNION ALL ".join(parts)


def expected_totals_sql(tallies: str) -> str:
    """Each unit's tallies over all months: the running totals a current-month page reads."""
    return (f"SELECT unit_id, service_id, sum(households) AS households FROM ({tallies}) m "
            "GROUP BY unit_id, service_id")


def rebuild(conn) -> dict[str, int]:
    """Recompute every derived table from the visits, triggers off (bulk loads; repairs)."""
    uninstall(conn)
    conn.exec_driver_sql("DELETE FROM coverage_totals")
    conn.exec_driver_sql("DELETE FROM coverage_tallies")
    conn.exec_driver_sql("DELETE FROM household_reach")
    conn.exec_driver_sql("DELETE FROM unit_ancestors")
    conn.exec_driver_sql(f"INSERT INTO unit_ancestors (unit_id, ancestor_id, until) {expected_ancestors_sql()}")
    conn.exec_driver_sql(f"INSERT INTO household_reach (household_id, hamlet_id, first_visited_on) "
                         f"{expected_reach_sql()}")
    for sql in visit_months.rebuild_sql(conn.dialect.name):
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql(f"INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
                         f"{expected_tallies_sql(conn)}")
    conn.exec_driver_sql("INSERT INTO coverage_totals (unit_id, service_id, households) "
                         + expected_totals_sql("SELECT unit_id, service_id, households FROM coverage_tallies"))
    install(conn)
    replace_token(conn)
    tables = ["unit_ancestors", "household_reach", "coverage_tallies", "coverage_totals", *visit_months.TABLES]
    return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}


def _diff(conn, expected: str, actual: str, limit: int = 20) -> tuple[int, int, list, list]:
    missing_q = f"SELECT * FROM ({expected}) e EXCEPT SELECT * FROM ({actual}) a"
    extra_q = f"SELECT * FROM ({actual}) a EXCEPT SELECT * FROM ({expected}) e"
    missing = conn.execute(sa.text(f"SELECT count(*) FROM ({missing_q}) m")).scalar()
    extra = conn.execute(sa.text(f"SELECT count(*) FROM ({extra_q}) x")).scalar()
    show_m = [tuple(r) for r in conn.execute(sa.text(f"{missing_q} LIMIT {limit}"))] if missing else []
    show_x = [tuple(r) for r in conn.execute(sa.text(f"{extra_q} LIMIT {limit}"))] if extra else []
    return missing, extra, show_m, show_x


def verify(conn) -> list[str]:
    """Differences between what the visits imply and what is stored; empty when all agree.

    Adoption is checked against its definition (earliest adopting visit per household and service,
    the lowest id on a tie); household_reach, unit_ancestors, coverage_tallies and the month tables
    (app/coverage/visit_months.py) against a recomputation. The tallies are compared with what the
    *recomputed* reach implies, so a wrong reach row is reported once, where it is, and not again in
    every ancestor's tally.
    """
    checks = [
        ("adoptions", expected_adoptions_sql(),
         "SELECT household_id, service_id, adopted_on, visit_id FROM adoptions"),
        ("adoptions.hamlet_id", "SELECT a.household_id, a.service_id, v.hamlet_id FROM adoptions a "
                                "JOIN visits v ON v.id = a.visit_id",
         "SELECT household_id, service_id, hamlet_id FROM adoptions"),
        ("household_reach", expected_reach_sql(),
         "SELECT household_id, hamlet_id, first_visited_on FROM household_reach"),
        ("unit_ancestors", expected_ancestors_sql(), "SELECT unit_id, ancestor_id, until FROM unit_ancestors"),
        ("coverage_tallies", expected_tallies_sql(conn, f"({expected_reach_sql()})"),
         "SELECT unit_id, service_id, month, households FROM coverage_tallies WHERE households <> 0"),
        ("coverage_totals",
         f"SELECT * FROM ({expected_totals_sql(expected_tallies_sql(conn, f'({expected_reach_sql()})'))}) t "
         "WHERE households <> 0",
         "SELECT unit_id, service_id, households FROM coverage_totals WHERE households <> 0"),
    ]
    problems = []
    present = set(installed(conn))
    missing_triggers = [t for t in trigger_names(conn.dialect.name) if t not in present]
    if missing_triggers:
        # A table rebuilt by a later migration (SQLite batch mode) loses its triggers.
        problems.append("triggers missing (run `flask coverage rebuild`): " + ", ".join(missing_triggers))
    for name, expected, actual in checks:
        missing, extra, show_m, show_x = _diff(conn, expected, actual)
        if missing or extra:
            problems.append(f"{name}: {missing} rows expected but missing or different, {extra} rows stored "
                            f"but not implied by the visits")
            problems += ([f"  expected {visit_months.row_text(r)}" for r in show_m]
                         + [f"  stored   {visit_months.row_text(r)}" for r in show_x])
    return problems + visit_months.verify(conn)
