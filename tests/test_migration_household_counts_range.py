"""The migration that makes the database refuse what the forms refuse: it stops on counts outside
the range (naming them), reports unit codes the rule refuses without touching them, and keeps the
coverage triggers on the rebuilt table."""
import os

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db as _db

BEFORE, RANGE = "e03734509469", "b7d41c2e9a53"
SCHEMA = "mig_counts_range"


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


def _trigger_names(conn) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'household_counts'"
    else:
        sql = ("SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
               "WHERE relname = 'household_counts' AND NOT tgisinternal")
    return {row[0] for row in conn.exec_driver_sql(sql)}


def test_the_range_migration_stops_on_bad_counts_reports_bad_codes_and_keeps_the_triggers(other_app, capfd):
    with other_app.app_context():
        upgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            triggers = _trigger_names(conn)
            assert triggers  # the coverage token's
            conn.execute(sa.text(
                "INSERT INTO admin_units (id, code, name, name_folded, level, path, depth) VALUES "
                "(1, 'MÃ…Ấ', 'Ấp Một', 'ap mot', 'hamlet', '/1/', 0), (2, '93', 'Tỉnh', 'tinh', 'province', '/2/', 0)"))
            conn.execute(sa.text("INSERT INTO household_counts (id, unit_id, households, effective_on) VALUES "
                                 "(7, 1, -5, '2024-01-01'), (8, 2, 120, '2024-01-01')"))
        capfd.readouterr()
        # `flask db upgrade` prints the error (Alembic's logging goes to stderr) and exits with status 1.
        with pytest.raises(SystemExit):
            upgrade(revision=RANGE)
        err = capfd.readouterr().err
        assert "1 household count(s) outside 0..10000000" in err
        assert "household_counts.id=7 unit_id=1 households=-5" in err
        with _db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE household_counts SET households = 5 WHERE id = 7"))
        upgrade(revision=RANGE)
        err = capfd.readouterr().err
        assert "admin_units.id=1 has the code 'MÃ…Ấ'" in err and "'93'" not in err
        with _db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT code FROM admin_units WHERE id = 1")).scalar() == "MÃ…Ấ"
            assert _trigger_names(conn) == triggers
            counts = conn.execute(sa.text("SELECT households FROM household_counts ORDER BY id")).scalars().all()
            assert counts == [5, 120]
        with pytest.raises(sa.exc.IntegrityError), _db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE household_counts SET households = 10000001 WHERE id = 8"))
        downgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            assert _trigger_names(conn) == triggers
            conn.execute(sa.text("UPDATE household_counts SET households = 10000001 WHERE id = 8"))
