"""Released migrations stay as they were, and a database made at any released revision upgrades."""
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from app.extensions import db as _db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def released() -> list[tuple[str, str]]:
    lines = (MIGRATIONS / "released.sha256").read_text().splitlines()
    return [tuple(line.split(None, 1)) for line in lines if line.strip() and not line.startswith("#")]


def test_released_migrations_are_never_edited_or_removed():
    listed = released()
    assert any(path.endswith("5ff1ccf63308_initial_schema.py") for _sum, path in listed)
    for checksum, path in listed:
        file = MIGRATIONS / path
        assert file.is_file(), f"released migration {path} was removed: add a new one instead"
        assert hashlib.sha256(file.read_bytes()).hexdigest() == checksum, \
            f"released migration {path} was edited: put the change in a new migration"


@pytest.fixture
def bridge_url(app):
    """An empty database of the suite's kind: a SQLite file, or a schema of its own on PostgreSQL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        folder = tempfile.mkdtemp(prefix="cnscd-bridge-")
        yield f"sqlite:///{os.path.join(folder, 'old.db')}"
        shutil.rmtree(folder, ignore_errors=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS bridge_test CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA bridge_test"))
    yield url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dbridge_test"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA bridge_test CASCADE"))
    engine.dispose()


def test_a_database_made_at_the_replaced_revision_33aff5c3fbaf_upgrades_to_head(bridge_url):
    from flask_migrate import upgrade
    old = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": bridge_url, "SECRET_KEY": "x"})
    with old.app_context():
        upgrade(revision="45f28e4b5059")
        with _db.engine.begin() as conn:
            # What the released 33aff5c3fbaf did: erased_by_id with a foreign key to users.
            conn.execute(sa.text("ALTER TABLE households ADD COLUMN erased_by_id INTEGER "
                                 "CONSTRAINT fk_households_erased_by_id_users REFERENCES users (id)"))
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '33aff5c3fbaf'"))
        upgrade()
        from alembic.script import ScriptDirectory
        config = old.extensions["migrate"].migrate.get_config()
        with _db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == \
                ScriptDirectory.from_config(config).get_current_head()
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), _db.metadata)
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("members")}
        assert "uq_members_province_active_phone" in indexes
        if _db.engine.dialect.name == "sqlite":
            # SQLite keeps the old foreign key (dropping it would rebuild households): nothing else differs.
            diff = [d for d in diff if not (d[0] == "remove_fk" and list(d[1].column_keys) == ["erased_by_id"])]
        assert diff == []
        _db.engine.dispose()
