"""The migrations and the models agree: autogenerate would produce nothing."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db as _db


def test_models_match_migrations(db):
    # The session schema was built by `flask db upgrade` (see conftest), not by create_all.
    with _db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, _db.metadata)
    assert diff == []


def test_alembic_is_at_head(db):
    from alembic.script import ScriptDirectory
    from flask import current_app
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with _db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
