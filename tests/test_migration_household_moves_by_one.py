"""The migration that lets one household move by itself: household_moves keeps its rows under an id of its own,
and a household's reach moves to the hamlet of its first visit, its tallies with it, so verify agrees."""
import os

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.coverage import store
from app.extensions import db as _db

BEFORE, AFTER = "d8a4f2c6b1e7", "e7c2b9f4a1d3"
SCHEMA = "mig_moves_by_one"


@pytest.fixture
def other_app(app, tmp_path):
    """A second, empty database (a schema of its own on PostgreSQL) for migrating step by step."""
    if os.environ.get("TEST_DB") == "postgres":
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{SCHEMA}"
    else:
        engine, url = None, f"sqlite:///{tmp_path / 'migrate.db'}"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    yield other
    with other.app_context():
        _db.engine.dispose()
    if engine is not None:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


def _reach_tallies(conn) -> dict:
    return {(u, m): n for u, m, n in conn.execute(sa.text(
        "SELECT unit_id, month, households FROM coverage_tallies WHERE service_id = 0 AND households <> 0"))}


def test_the_migration_keeps_the_moves_and_counts_a_households_reach_in_the_hamlet_of_its_first_visit(other_app,
                                                                                                     capfd):
    """Visited first in Khu vực 3, then (after a merge into Khu vực 2, registered before it) in Khu vực 2: before
    the migration Khu vực 2 counted the household from its first visit; after it, Khu vực 3 does until the merge's
    day and Khu vực 2 from then, the commune as before, and the move is kept under an id."""
    with other_app.app_context():
        upgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO admin_units (id, name, name_folded, level, path, depth) VALUES "
                "(1, 'Phường I', 'phuong i', 'commune', '/1/', 0), "
                "(2, 'Khu vực 2', 'khu vuc 2', 'hamlet', '/1/2/', 1), "
                "(3, 'Khu vực 3', 'khu vuc 3', 'hamlet', '/1/3/', 1)"))
            conn.execute(sa.text("INSERT INTO households (id, hamlet_id, head_name, head_name_folded, address, phone) "
                                 "VALUES (10, 2, 'Nguyễn Văn An', 'nguyen van an', '', '')"))
            conn.execute(sa.text("INSERT INTO visits (id, household_id, hamlet_id, visited_on, note, idempotency_key) "
                                 "VALUES (1, 10, 3, '2026-01-05', '', 'a'), (2, 10, 2, '2026-03-02', '', 'b')"))
            conn.execute(sa.text("INSERT INTO household_moves (household_id, recorded_in_id, from_hamlet_id, "
                                 "to_hamlet_id, moved_on) VALUES (10, 3, 3, 2, '2026-03-01')"))
            assert conn.execute(sa.text("SELECT hamlet_id FROM household_reach")).scalar() == 2
            assert _reach_tallies(conn) == {(1, 202601): 1, (2, 202601): 1}
        upgrade(revision=AFTER)
        with _db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT hamlet_id FROM household_reach")).scalar() == 3
            assert _reach_tallies(conn) == {(1, 202601): 1, (3, 202601): 1, (3, 202603): -1, (2, 202603): 1}
            assert conn.execute(sa.text("SELECT id, household_id, recorded_in_id, from_hamlet_id, to_hamlet_id "
                                        "FROM household_moves")).all() == [(1, 10, 3, 3, 2)]
            assert store.verify(conn) == []
            # Moved again from the same hamlet on another day: a second row, which the key before refused.
            conn.execute(sa.text("INSERT INTO household_moves (household_id, recorded_in_id, from_hamlet_id, "
                                 "to_hamlet_id, moved_on) VALUES (10, 3, 3, 2, '2026-04-01')"))
            assert store.verify(conn) == []
        with pytest.raises(SystemExit):  # `flask db downgrade` logs the error and exits with status 1
            downgrade(revision=BEFORE)
        assert "moved from the same hamlet more than once" in capfd.readouterr().err
        with _db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM household_moves WHERE moved_on = '2026-04-01'"))
            store.rebuild(conn)
        downgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT hamlet_id FROM household_reach")).scalar() == 2
            assert conn.execute(sa.text("SELECT household_id, recorded_in_id, from_hamlet_id, to_hamlet_id "
                                        "FROM household_moves")).all() == [(10, 3, 3, 2)]
