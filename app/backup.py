"""`flask backup --output FILE`: a consistent copy of the live SQLite database.

SQLite's online backup API copies pages under a read transaction, so writers may keep working and
the copy is still a single consistent snapshot. PostgreSQL has pg_dump for that (see README).
"""
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


@click.command("backup")
@click.option("--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write the copy to (must not exist).")
@with_appcontext
def backup_command(output: Path):
    """Copy the live SQLite database to FILE, consistently, while the app keeps running."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "this database is PostgreSQL: use pg_dump --format=custom (see README, 'Backups')")
    if output.exists():
        raise click.ClickException(f"{output} exists; choose a new file name")
    if not output.parent.is_dir():
        raise click.ClickException(f"{output.parent} is not a folder here; make it first, or choose another path")
    source = sqlite3.connect(url.database)
    target = sqlite3.connect(output)
    try:
        with target:
            source.backup(target, pages=1024)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        raise click.ClickException(f"the copy failed its integrity check: {check}")
    current_app.logger.info("backup written to %s", output)
    click.echo(f"backup written to {output} ({output.stat().st_size:,} bytes, integrity ok)")
