"""`flask units ...`: load the administrative tree."""
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.dates import today_vn
from app.extensions import db
from app.rules import RuleError
from app.spreadsheets import SpreadsheetError
from app.units import gso, official, plan_sheet, reorganize
from app.units.importer import apply_units, parse_units

units_cli = AppGroup("units", help="Load administrative units.")


@units_cli.command("import-gso")
@click.option("--province", "code", help="GSO province code, e.g. 92 for Cần Thơ (--list shows them).")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Load the list in force on this day (YYYY-MM-DD; default today): before 2025-07-01 the "
                   "63-province, three-level list, from then the 34-province, two-level one.")
@click.option("--list", "list_codes", is_flag=True, help="Print the code and name of each province in that list.")
def import_gso(code, on, list_codes):
    """Load a province with its units from the official list in force on a day."""
    day = on.date() if on else today_vn()
    if list_codes:
        rows = official.provinces(day)
        click.echo(f"{len(rows)} provinces in the list in force on {day:%Y-%m-%d} ({official.data_version()}):")
        for province_code, name in rows:
            click.echo(f"{province_code}\t{name}")
        return
    if not code:
        raise click.UsageError("Missing option '--province' (--list prints the codes)")
    try:
        stats = gso.import_province(code, on=day)
    except LookupError:
        raise click.ClickException(_no_such_province(code, day, on is not None)) from None
    except gso.ListConflict as exc:
        raise click.ClickException(str(exc)) from None
    except RuleError as exc:  # the same code rule as the forms and the import
        raise click.ClickException(f"province {code}: {exc.message}") from None
    db.session.commit()
    click.echo(f"province {code} on {day:%Y-%m-%d}: {stats['created']} units created, {stats['updated']} renamed")


def _no_such_province(code: str, day: date, on_given: bool) -> str:
    """Which list was read, where the code stands in the other one, and how to see the codes."""
    size = 34 if official.two_levels(day) else 63
    message = (f"no province with GSO code {code!r} in the list in force on {day:%Y-%m-%d} "
               f"({official.data_version()}), the {size}-province list")
    other = official.province_in_the_other_list(code, day)
    if other and other.until:
        message += f". {other.code} was {other.name} until {other.until:%d/%m/%Y}"
        if other.successor:
            message += f"; it is now part of {other.successor[0]} {other.successor[1]}"
        message += f"; for the list before the reform add --on {other.until:%Y-%m-%d}"
    elif other and other.since:
        message += (f". {other.code} is {other.name} from {other.since:%d/%m/%Y}; for that list give --on "
                    f"{other.since:%Y-%m-%d} or later")
    listing = f"--list --on {day:%Y-%m-%d}" if on_given else "--list"
    return message + f". `flask units import-gso {listing}` prints the codes of this list."


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


@units_cli.command("reorganize")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The plan (xlsx or csv): old unit -> new unit from an effective date.")
@click.option("--dry-run", is_flag=True, help="Show everything applying would do; write nothing.")
@click.option("--draft", is_flag=True, help="Write a plan from the official old -> new links instead.")
@click.option("--province", "province_code", help="With --draft: the new province's code, e.g. 92.")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default="2025-07-01",
              help="With --draft: the effective date (default 2025-07-01).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="With --draft: the file to write.")
def reorganize_command(plan_file, dry_run, draft, province_code, on, output):
    """Apply a reorganization plan in one transaction, or draft one from the official links.

    Every problem of the plan is listed with its line number, and nothing is applied if there is any.
    """
    if draft:
        if not province_code or not output:
            raise click.UsageError("--draft needs --province and --output")
        try:
            rows = reorganize.draft_rows(province_code, on.date())
        except LookupError:
            raise click.ClickException(f"no province {province_code!r} in the list in force on {on:%Y-%m-%d}") from None
        try:
            plan_sheet.write_plan(output, rows)
        except OSError as exc:  # a folder that is not there: said in a line, not a traceback
            raise click.ClickException(f"could not write {output}: {exc.strerror or exc}") from exc
        click.echo(f"{output}: {len(rows)} lines from {official.data_version()}; review it, assign the hamlets "
                   "of split communes, then apply it with --plan")
        return
    if plan_file is None:
        raise click.UsageError("give --plan FILE (or --draft)")
    try:
        lines = reorganize.read_plan(plan_file.name, plan_file.read_bytes())
    except SpreadsheetError as exc:
        raise click.ClickException(str(exc)) from exc
    plan = reorganize.check_plan(plan_file.name, lines, ahead=dry_run)
    if not plan.ok:
        for line, problem in plan.problems():
            click.echo(f"{plan_file.name}:{line}: {problem}" if line else f"{plan_file.name}: {problem}", err=True)
        raise click.ClickException(f"{len(plan.problems())} problem(s); nothing applied")
    outcome = reorganize.apply_plan(plan)
    for text in reorganize.describe(outcome, preview=dry_run).lines():
        click.echo(text)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing was written")
        if plan.effective_on > today_vn():
            click.echo(f"the plan takes effect on {plan.effective_on:%Y-%m-%d}, after today: "
                       "it can be applied from that day on")
        return
    db.session.commit()
    click.echo(f"applied: reorganization #{outcome.reorganization.id} effective {plan.effective_on:%Y-%m-%d}")
