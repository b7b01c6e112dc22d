"""`flask report monthly` and `flask report quarterly`: a summary as an xlsx or CSV file, for scheduled jobs."""
import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.reports import exports
from app.reports.periods import Period, PeriodError, check_quarter
from app.reports.summary import MonthError, check_month, summary_of
from app.units.models import unit_for_code

report_cli = AppGroup("report", help="Reports.")


def _file_options(command):
    """The options both commands take besides their period."""
    for option in reversed([
            click.option("--unit", "unit_code", required=True, help="Code of the unit, e.g. 93."),
            click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True),
            click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True)),
            click.option("--locale", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                         help="Language of the headers.")]):
        command = option(command)
    return command


def _write(unit_code: str, period: Period, fmt: str, output: str, locale: str) -> None:
    # A code names the unit that bore it at the period's end (codes were reused in 2025), counted as
    # the map was then.
    unit = unit_for_code(unit_code.strip(), on=period.end)
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r} in {period.label}")
    with force_locale(locale):
        summary = summary_of(unit, period, as_then=True)
        body = exports.write_xlsx(summary) if fmt == "xlsx" else exports.write_csv(summary)
    try:
        with open(output, "wb") as fh:
            fh.write(body)
    except OSError as exc:  # a folder that is not there, a full disk: said in a line, not a traceback
        raise click.ClickException(f"could not write {output}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {output} ({len(body)} bytes): {unit.name}, {period.label}, "
               f"{len(summary.children)} units below")


@report_cli.command("monthly")
@click.option("--month", required=True, help="YYYY-MM, e.g. 2024-10.")
@_file_options
def monthly_command(month, unit_code, fmt, output, locale):
    """Write the monthly summary of a unit (the same figures as the page)."""
    with force_locale(locale):
        try:
            period = Period.month(*check_month(month))
        except MonthError as exc:
            raise click.ClickException(str(exc)) from exc
    _write(unit_code, period, fmt, output, locale)


@report_cli.command("quarterly")
@click.option("--quarter", required=True, help="YYYY-Qn, e.g. 2026-Q3.")
@_file_options
def quarterly_command(quarter, unit_code, fmt, output, locale):
    """Write the quarterly summary of a unit (the same figures as the page)."""
    with force_locale(locale):
        try:
            period = Period.quarter(*check_quarter(quarter))
        except PeriodError as exc:
            raise click.ClickException(str(exc)) from exc
    _write(unit_code, period, fmt, output, locale)
