"""A month's visits and households visited per hamlet, kept by triggers for the monthly summary.

Faster than counting the month's visits (the plain queries, kept in tests/test_visit_months.py):
a city's month is 2.3 million visits, and "households visited" a distinct count over all of them
(~2 s on PostgreSQL); the summary now reads one row per hamlet (and team) of the month.

The chain, in the same transaction as every visit change (app/coverage/store.py installs, removes
and rebuilds these with the coverage triggers, and `flask coverage verify` checks them):
- visits → visit_months (month, hamlet, team: visits), by adding and subtracting one;
- visits → household_months (household, month, hamlet): the set of each household's visited
  months. A visit's own row is added; a removed or changed visit's former row is dropped when no
  visit still has it (asked of the table as it stands, so a statement changing many visits at once
  leaves the right set whatever order its rows are seen in);
- household_months → reach_months (month, hamlet: households), one per row of a household not
  merged into another; merging or unmerging a household moves its rows out of or into the counts.
"""
from __future__ import annotations

TRIGGERS = ["cov_vmonths_ins", "cov_vmonths_del", "cov_vmonths_upd",
            "cov_hmonths_ins", "cov_hmonths_del", "cov_hmonths_merge"]
PG_FUNCTIONS = ["cov_vmonths_trg()", "cov_hmonths_trg()", "cov_hmonths_merge_trg()"]
TABLES = ["visit_months", "household_months", "reach_months"]

_SQLITE_MONTH = "CAST(strftime('%Y%m', {day}) AS INTEGER)"
_PG_MONTH = "(extract(year FROM {day}) * 100 + extract(month FROM {day}))::integer"


def _sqlite_added(v: str) -> str:
    month = _SQLITE_MONTH.format(day=f"{v}.visited_on")
    return (f"INSERT INTO visit_months (month, hamlet_id, team_id, visits) "
            f"VALUES ({month}, {v}.hamlet_id, coalesce({v}.team_id, 0), 1) "
            f"ON CONFLICT (month, hamlet_id, team_id) DO UPDATE SET visits = visit_months.visits + 1;"
            f"INSERT INTO household_months (household_id, month, hamlet_id) "
            f"VALUES ({v}.household_id, {month}, {v}.hamlet_id) ON CONFLICT DO NOTHING;")


def _sqlite_removed(v: str) -> str:
    month = _SQLITE_MONTH.format(day=f"{v}.visited_on")
    return (f"UPDATE visit_months SET visits = visits - 1 "
            f"WHERE month = {month} AND hamlet_id = {v}.hamlet_id AND team_id = coalesce({v}.team_id, 0);"
            f"DELETE FROM household_months WHERE household_id = {v}.household_id AND month = {month} "
            f"AND hamlet_id = {v}.hamlet_id AND NOT EXISTS (SELECT 1 FROM visits w "
            f"WHERE w.household_id = {v}.household_id AND w.hamlet_id = {v}.hamlet_id "
            f"AND {_SQLITE_MONTH.format(day='w.visited_on')} = {month});")


_SQLITE_LIVE = "(SELECT merged_into_id FROM households WHERE id = {h}.household_id) IS NULL"


def sqlite_ddl() -> list[str]:
    return [
        "CREATE TRIGGER cov_vmonths_ins AFTER INSERT ON visits BEGIN " + _sqlite_added("NEW") + " END",
        "CREATE TRIGGER cov_vmonths_del AFTER DELETE ON visits BEGIN " + _sqlite_removed("OLD") + " END",
        "CREATE TRIGGER cov_vmonths_upd AFTER UPDATE OF household_id, hamlet_id, team_id, visited_on ON visits "
        "BEGIN " + _sqlite_removed("OLD") + _sqlite_added("NEW") + " END",
        "CREATE TRIGGER cov_hmonths_ins AFTER INSERT ON household_months BEGIN "
        "INSERT INTO reach_months (month, hamlet_id, households) SELECT NEW.month, NEW.hamlet_id, 1 "
        f"WHERE {_SQLITE_LIVE.format(h='NEW')} "
        "ON CONFLICT (month, hamlet_id) DO UPDATE SET households = reach_months.households + 1; END",
        "CREATE TRIGGER cov_hmonths_del AFTER DELETE ON household_months BEGIN "
        "UPDATE reach_months SET households = households - 1 WHERE month = OLD.month "
        f"AND hamlet_id = OLD.hamlet_id AND {_SQLITE_LIVE.format(h='OLD')}; END",
        "CREATE TRIGGER cov_hmonths_merge AFTER UPDATE OF merged_into_id ON households "
        "WHEN (OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) BEGIN "
        "INSERT INTO reach_months (month, hamlet_id, households) "
        "SELECT month, hamlet_id, CASE WHEN NEW.merged_into_id IS NULL THEN 1 ELSE -1 END "
        "FROM household_months WHERE household_id = NEW.id "
        "ON CONFLICT (month, hamlet_id) DO UPDATE SET households = reach_months.households + excluded.households; END",
    ]


PG_FUNCTION_DDL = [
    f"""CREATE OR REPLACE FUNCTION cov_vmonths_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_month integer;
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_month := {_PG_MONTH.format(day='OLD.visited_on')};
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
        v_month := {_PG_MONTH.format(day='NEW.visited_on')};
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
]

PG_TRIGGERS = [
    ("cov_vmonths_ins", "visits", "AFTER INSERT", "cov_vmonths_trg"),
    ("cov_vmonths_del", "visits", "AFTER DELETE", "cov_vmonths_trg"),
    ("cov_vmonths_upd", "visits", "AFTER UPDATE OF household_id, hamlet_id, team_id, visited_on", "cov_vmonths_trg"),
    ("cov_hmonths_ins", "household_months", "AFTER INSERT", "cov_hmonths_trg"),
    ("cov_hmonths_del", "household_months", "AFTER DELETE", "cov_hmonths_trg"),
    ("cov_hmonths_merge", "households", "AFTER UPDATE OF merged_into_id", "cov_hmonths_merge_trg"),
]


def _month(dialect: str, day: str) -> str:
    return (_PG_MONTH if dialect == "postgresql" else _SQLITE_MONTH).format(day=day)


def expected_sql(dialect: str) -> dict[str, str]:
    """Each table's rows computed from the visits alone (a rebuild inserts them; verify compares)."""
    month = _month(dialect, "visited_on")
    return {
        "visit_months": f"SELECT {month} AS month, hamlet_id, coalesce(team_id, 0) AS team_id, count(*) AS visits "
                        f"FROM visits GROUP BY {month}, hamlet_id, coalesce(team_id, 0)",
        "household_months": f"SELECT DISTINCT household_id, {month} AS month, hamlet_id FROM visits",
        "reach_months": f"SELECT {month} AS month, v.hamlet_id, count(DISTINCT v.household_id) AS households "
                        f"FROM visits v JOIN households h ON h.id = v.household_id WHERE h.merged_into_id IS NULL "
                        f"GROUP BY {month}, v.hamlet_id",
    }


COLUMNS = {"visit_months": "month, hamlet_id, team_id, visits",
           "household_months": "household_id, month, hamlet_id",
           "reach_months": "month, hamlet_id, households"}


def rebuild_sql(dialect: str) -> list[str]:
    """Refill the three tables from the visits (the triggers off; store.rebuild runs it)."""
    expected = expected_sql(dialect)
    out = [f"DELETE FROM {t}" for t in TABLES]
    for table in ("visit_months", "household_months"):
        out.append(f"INSERT INTO {table} ({COLUMNS[table]}) {expected[table]}")
    out.append("INSERT INTO reach_months (month, hamlet_id, households) "
               "SELECT m.month, m.hamlet_id, count(*) FROM household_months m "
               "JOIN households h ON h.id = m.household_id WHERE h.merged_into_id IS NULL "
               "GROUP BY m.month, m.hamlet_id")
    return out


def row_text(row) -> str:
    """A row as `flask coverage verify` shows it: its values as written, (12, 3, 202406, 1), not as Python
    would repeat them (PostgreSQL's sums come back as Decimal('1'), dates as datetime.date(…))."""
    return "(" + ", ".join(str(v) for v in row) + ")"


def verify(conn, limit: int = 20) -> list[str]:
    """Differences between the three tables and what the visits imply; empty when all agree.

    household_months is checked both ways by anti-joins (a visit whose month has no row, a row no
    visit has): a set difference of its millions of rows against the visits' took minutes."""
    dialect = conn.dialect.name
    expected = expected_sql(dialect)
    month = _month(dialect, "v.visited_on")
    problems = []

    def report(name: str, what: str, sql: str) -> None:
        n = conn.exec_driver_sql(f"SELECT count(*) FROM ({sql}) d").scalar()
        if n:
            problems.append(f"{name}: {n} {what}")
            problems.extend(f"  {row_text(r)}" for r in conn.exec_driver_sql(f"{sql} LIMIT {limit}"))

    for table, zero in (("visit_months", "visits"), ("reach_months", "households")):
        stored = f"SELECT {COLUMNS[table]} FROM {table} WHERE {zero} <> 0"
        report(table, "rows expected but missing or different",
               f"SELECT * FROM ({expected[table]}) e EXCEPT SELECT * FROM ({stored}) s")
        report(table, "rows stored but not implied by the visits",
               f"SELECT * FROM ({stored}) s EXCEPT SELECT * FROM ({expected[table]}) e")
    report("household_months", "visits whose household, month and hamlet have no row",
           f"SELECT v.id, v.household_id, {month}, v.hamlet_id FROM visits v WHERE NOT EXISTS "
           f"(SELECT 1 FROM household_months m WHERE m.household_id = v.household_id "
           f"AND m.month = {month} AND m.hamlet_id = v.hamlet_id)")
    report("household_months", "rows stored but not implied by the visits",
           f"SELECT m.household_id, m.month, m.hamlet_id FROM household_months m WHERE NOT EXISTS "
           f"(SELECT 1 FROM visits v WHERE v.household_id = m.household_id AND v.hamlet_id = m.hamlet_id "
           f"AND {month} = m.month)")
    return problems
