"""`flask report monthly` and `flask report quarterly`: a summary as an xlsx or CSV file, for scheduled jobs."""
import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.dates import month_end
from app.reports import exports
from app.reports.periods import Period, PeriodError, check_quarter
from app.reports.summary import MonthError, build_quarter_summary, build_summary, check_month
from app.units.models import unit_for_code

report_cli = AppGroup("report", help="Reports.")


@report_cli.command("monthly")
@click.option("--unit", "unit_code", required=True, help="Code of the unit, e.g. 93.")
@click.option("--month", required=True, help="YYYY-MM, e.g. 2024-10.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--locale", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the headers.")
def monthly_command(unit_code, month, fmt, output, locale):
    """Write the monthly summary of a unit (the same figures as the page)."""
    with force_locale(locale):
        try:
            year, mon = check_month(month)
        except MonthError as exc:
            raise click.ClickException(str(exc)) from exc
    # A code names the unit that bore it in that month (codes were reused in 2025).
    unit = unit_for_code(unit_code.strip(), on=month_end(year, mon))
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r} in {month}")
    with force_locale(locale):
        summary = build_summary(unit, year, mon, as_then=True)  # as the map was that month
        body = exports.write_xlsx(summary) if fmt == "xlsx" else exports.write_csv(summary)
    with open(output, "wb") as fh:
        fh.write(body)
    click.echo(f"wrote {output} ({len(body)} bytes): {unit.name}, {year:04d}-{mon:02d}, "
               f"{len(summary.children)} units below")


@report_cli.command("quarterly")
@click.option("--unit", "unit_code", required=True, help="Code of the unit, e.g. 93.")
@click.option("--quarter", required=True, help="YYYY-Qn, e.g. 2026-Q3.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--locale", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the headers.")
def quarterly_command(unit_code, quarter, fmt, output, locale):
    """Write the quarterly summary of a unit (the same figures as the page)."""
    with force_locale(locale):
        try:
            period = Period.quarter(*check_quarter(quarter))
        except PeriodError as exc:
            raise click.ClickException(str(exc)) from exc
    # The unit that bore the code at the quarter's end, counted as the map was then.
    unit = unit_for_code(unit_code.strip(), on=period.end)
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r} in {period.label}")
    with force_locale(locale):
        summary = build_quarter_summary(unit, period.year, period.quarter_number, as_then=True)
        body = exports.write_xlsx(summary) if fmt == "xlsx" else exports.write_csv(summary)
    with open(output, "wb") as fh:
        fh.write(body)
    click.echo(f"wrote {output} ({len(body)} bytes): {unit.name}, {period.label}, {len(summary.children)} units below")
