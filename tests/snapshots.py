"""A world many tests start from, built once per test process and put back for each of the others.

The browser tests begin with the whole demo (`seed_demo`: some 900 units, 800 visits, 40 classes), which takes
4 s on SQLite and 10 s on PostgreSQL through the app's own operations, one row at a time. Built once, the
database right after it is kept; the next test that asks for the same world on an empty database gets those
rows back in well under a second:

- on SQLite, a copy of the whole file (the backup API, pages as they are);
- on PostgreSQL, every table's rows and the sequences' positions, written back with the triggers off
  (`session_replication_role`, as tests/table_reset.py empties the tables): the tallies the triggers kept
  come back with the rows they were kept from.

Either way the cache tokens are then replaced, as after every clean: no worker serves a figure it kept for
another test. The world is rebuilt when the day has changed (the demo runs up to today) or when the test
has written anything before asking (only an untouched database is put back). tests/test_snapshots.py holds
the rows put back equal to the rows built, and a visit logged after it recorded as after a real build.
"""
import sqlite3
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.dates import today_vn
from app.extensions import db as _db
from tests import table_reset

_kept: dict[tuple, "_World"] = {}


class _World:
    def __init__(self, before: dict[str, int], result: Any):
        self.before = before  # each table's row count when the build began: the state it may be put back on
        self.result = result
        self.pages: sqlite3.Connection | None = None  # SQLite: the whole database, in memory
        self.rows: dict[str, list[tuple]] = {}  # PostgreSQL: each table's rows
        self.sequences: dict[str, int] = {}


def world(name: str, build: Callable[[], Any]) -> Any:
    """`build()`'s result, with the database as `build` leaves it (committed). `build` must depend only on the
    code and the day: the first call in a process runs it, later ones on an untouched database put back
    its rows."""
    key = (name, today_vn())
    before = _counts()
    kept = _kept.get(key)
    if kept is not None and kept.before == before and _put_back(kept):
        return kept.result
    result = build()
    _db.session.commit()
    _kept[key] = _take(before, result)
    return result


def _tables() -> list[sa.Table]:
    return list(_db.metadata.sorted_tables)


def _counts() -> dict[str, int]:
    _db.session.commit()
    # The cache tokens are replaced, not emptied, by every clean: their rows say nothing of the test.
    query = sa.union_all(*(sa.select(sa.literal(t.name).label("t"), sa.func.count().label("n")).select_from(t)
                           for t in _tables() if t.name != "cache_tokens"))
    return dict(_db.session.execute(query).tuples().all())


def _take(before: dict[str, int], result: Any) -> _World:
    kept = _World(before, result)
    engine = _db.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            kept.pages = sqlite3.connect(":memory:", check_same_thread=False)
            raw.driver_connection.backup(kept.pages)
        finally:
            raw.close()
        return kept
    with engine.connect() as conn:
        if not _superuser(conn):
            return kept  # nothing to put back with: every call builds
        for table in _tables():
            kept.rows[table.name] = conn.execute(sa.select(table)).all()
        kept.sequences = dict(conn.execute(sa.text(
            "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL")).tuples().all())
    return kept


def _put_back(kept: _World) -> bool:
    """Whether the database now holds the kept world again (False: it could not be put back here)."""
    _db.session.remove()
    engine = _db.engine
    if kept.pages is not None:
        raw = engine.raw_connection()
        try:
            kept.pages.backup(raw.driver_connection)
        finally:
            raw.close()
        # The pooled connections may hold what they read of the schema before: they start afresh.
        engine.dispose()
        with engine.begin() as conn:
            _replace_tokens(conn)
        return True
    if not kept.rows:
        return False
    with engine.begin() as conn:
        tables = [t.name for t in reversed(_tables())]
        table_reset.empty(conn, tables)
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in _tables():
            rows = kept.rows[table.name]
            if rows and table.name != "cache_tokens":  # `empty` has put in new ones
                names = [c.name for c in table.columns]
                conn.execute(table.insert(), [dict(zip(names, row)) for row in rows])
        for sequence, value in kept.sequences.items():
            conn.execute(sa.text("SELECT setval(:s, :v)"), {"s": sequence, "v": value})
        conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
        _replace_tokens(conn)
    return True


def _superuser(conn) -> bool:
    return bool(conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())


def _replace_tokens(conn) -> None:
    """Every cache token anew, as after each clean (tests/table_reset.py): a worker's cached figures are of
    the test that made them."""
    value = "(random() * 9.2e18)::bigint" if conn.dialect.name == "postgresql" else "random()"
    conn.exec_driver_sql(f"UPDATE cache_tokens SET token = {value}")
