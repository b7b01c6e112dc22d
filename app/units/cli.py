"""`flask units ...`: load the administrative tree."""
from pathlib import Path

import click
from flask.cli import AppGroup

from app.dates import today_vn
from app.extensions import db
from app.rules import RuleError
from app.spreadsheets import SpreadsheetError
from app.units import gso
from app.units.importer import apply_units, parse_units

units_cli = AppGroup("units", help="Load administrative units.")


@units_cli.command("import-gso")
@click.option("--province", "code", required=True, help="GSO province code, e.g. 93 for Hậu Giang.")
def import_gso(code):
    """Load a province with its districts and communes from the GSO list."""
    try:
        stats = gso.import_province(code)
    except LookupError:
        raise click.ClickException(f"no province with GSO code {code!r} in vietnam-provinces") from None
    except RuleError as exc:  # the same code rule as the forms and the import
        raise click.ClickException(f"province {code}: {exc.message}") from None
    db.session.commit()
    click.echo(f"province {code}: {stats['created']} units created, {stats['updated']} renamed")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path):
    """Load units from CSV or XLSX (code, name, level, parent code, households, effective date).

    Every bad row is reported with its line number, and nothing is imported if any row is bad.
    """
    try:
        rows = parse_units(file.name, file.read_bytes(), today_vn())
    except SpreadsheetError as exc:
        raise click.ClickException(str(exc)) from exc
    bad = [r for r in rows if r.errors]
    if bad:
        for r in bad:
            for err in r.errors:
                click.echo(f"{file.name}:{r.line}: {err}", err=True)
        raise click.ClickException(f"{len(bad)} bad row(s) of {len(rows)}; nothing imported")
    stats = apply_units(rows)
    db.session.commit()
    click.echo(f"{len(rows)} rows: {stats['created']} units created, {stats['updated']} renamed, "
               f"{stats['counts']} household counts set")
