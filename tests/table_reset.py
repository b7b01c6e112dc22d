"""Faster than `TRUNCATE … RESTART IDENTITY CASCADE`: empties the test tables on PostgreSQL after each test.

TRUNCATE gives every table and index a new file, a quarter of a second for the forty-odd tables after
each of the suite's hundreds of tests. DELETE on tables of a few rows, with triggers and foreign-key
checks off (`session_replication_role`, a superuser's setting), then restarting the sequences that
handed out a value and replacing the roll-ups' cache tokens as TRUNCATE's own triggers do, leaves the
same state: tests/test_table_reset.py holds the two equal. A role that may not turn triggers off gets
TRUNCATE.
"""
import sqlalchemy as sa

from app.coverage import by_commune, rollup, store
from app.coverage.models import ACCOUNTS, CATALOGUE, TARGETS, TEAMS

# The sequences the tables own (serial and identity columns) that have handed out a value.
_USED_SEQUENCES = sa.text(
    "SELECT format('%I.%I', s.schemaname, s.sequencename) FROM pg_sequences s "
    "JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = s.schemaname::regnamespace "
    "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') "
    "JOIN pg_class t ON t.oid = d.refobjid "
    "WHERE s.last_value IS NOT NULL AND t.relnamespace = current_schema()::regnamespace "
    "AND t.relname = ANY(:tables)")


def truncate(conn, tables: list[str]) -> None:
    """The plain way."""
    conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


def empty(conn, tables: list[str]) -> None:
    """As `truncate`, in the caller's transaction."""
    if not conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        truncate(conn, tables)
        return
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                         + " ".join(f'DELETE FROM "{t}";' for t in tables))
    used = conn.execute(_USED_SEQUENCES, {"tables": tables}).scalars().all()
    conn.exec_driver_sql("".join(f"ALTER SEQUENCE {seq} RESTART; " for seq in used)
                         + "SET LOCAL session_replication_role = origin")
    # TRUNCATE on admin_units, household_counts, adult_counts, the adult month tables, the services and
    # the teams' tables, users and targets fires cov_token_bump, adult_token_bump, activity_token_bump,
    # catalogue_token_bump, teams_token_bump, accounts_token_bump and targets_token_bump (statement
    # triggers fire on empty tables too): the seven token rows are replaced after every clean either way.
    store.replace_token(conn)
    rollup.replace_adult_token(conn)
    by_commune.replace_activity_token(conn)
    rollup.replace_token(conn, CATALOGUE)
    rollup.replace_token(conn, TEAMS)
    rollup.replace_token(conn, ACCOUNTS)
    rollup.replace_token(conn, TARGETS)
