"""`flask backup` copies a live SQLite database that restores with every record."""
import sqlalchemy as sa

from app import create_app
from app.extensions import db as _db


def test_backup_restores_every_record(app, db, tree, runner, tmp_path, login_as):
    if db.engine.url.get_backend_name() != "sqlite":
        result = runner.invoke(args=["backup", "--output", str(tmp_path / "x.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    login_as("commune", tree.commune)  # a user and an audit trail to copy too
    counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
              for t in _db.metadata.sorted_tables}
    assert counts["admin_units"] == 9 and counts["users"] == 1
    out = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output

    restored = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{out}"})
    with restored.app_context():
        for table in _db.metadata.sorted_tables:
            n = _db.session.scalar(sa.select(sa.func.count()).select_from(table))
            assert n == counts[table.name], table.name
        from app.units.models import AdminUnit
        names = set(_db.session.scalars(sa.select(AdminUnit.name)))
        assert {"Phường I", "Khu vực 1", "Ấp Nhơn Xuân"} <= names
        _db.session.remove()
        _db.engine.dispose()

    # Never overwrites an earlier backup.
    again = runner.invoke(args=["backup", "--output", str(out)])
    assert again.exit_code != 0 and "exists" in again.output
    # A folder that is not there is said in a line (a nightly job's mount gone), not a traceback.
    gone = tmp_path / "mnt" / "backup.db"
    result = runner.invoke(args=["backup", "--output", str(gone)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{gone.parent} is not a folder here" in result.output and not gone.parent.exists()


def test_backup_needs_an_output(runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code != 0 and "--output" in result.output
