"""XLSX and CSV files of a monthly or quarterly summary, with formula-like text neutralised.

Headers follow the active locale (the CLI wraps calls in flask_babel.force_locale).
"""
import csv
import io
import re
import zipfile
from datetime import date

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.reports.summary import Summary, level_name
from app.spreadsheets import neutralise

INT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
# Sheet names may not hold these characters and are at most 31 long.
SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def service_name(service: dict) -> str:
    locale = get_locale()
    return service["name_en"] if locale is not None and locale.language == "en" else service["name_vi"]


def columns(summary: Summary) -> list[tuple[str, str, object]]:
    """(header, kind, getter) for every figure column; kind is int, percent or text. The headings
    name the summary's period (a month or a quarter)."""
    w = summary.words
    cols = [
        (_("Number of teams"), "int", lambda r: r["teams"]),
        (str(w["active_teams"]), "int", lambda r: r["active_teams"]),
        (_("Number of members"), "int", lambda r: r["members"]),
        (str(w["visits"]), "int", lambda r: r["visits"]),
        (str(w["reached"]), "int", lambda r: r["reached_month"]),
        (_("Households"), "int", lambda r: r["households"]),
        (_("Households reached (cumulative)"), "int", lambda r: r["reached"]),
        (_("Reach"), "percent", lambda r: r["reach_share"]),
    ]
    for i, s in enumerate(summary.services):
        name = service_name(s)
        cols += [
            (str(w["new_of"](name)), "int", lambda r, i=i: r["services"][i]["new"]),
            (_("%(service)s: adopting households", service=name), "int",
             lambda r, i=i: r["services"][i]["adopted"]),
            (_("%(service)s: coverage", service=name), "percent",
             lambda r, i=i: r["services"][i]["coverage"]),
            (_("%(service)s: target", service=name), "percent",
             lambda r, i=i: r["services"][i]["target"]),
        ]
    return cols


def adult_columns(summary: Summary) -> list[tuple[str, str, object]]:
    """The adult indicators' columns (app/coverage/adults.py), after every household column; none
    for a month closed before they existed."""
    if summary.adult_targets is None:
        return []
    targets, w = summary.adult_targets, summary.words

    def adult(key):
        return lambda r: (r["adults"] or {}).get(key)

    cols = [
        (_("Adults"), "int", adult("adults")),
        (str(w["attendances_long"]), "int", adult("attendances")),
        (_("Named learners (cumulative)"), "int", adult("named")),
        (_("Named learners: share of adults"), "percent", adult("named_share")),
        (_("Named learners: target"), "percent", lambda r: (targets.get("named_share") or {}).get("share")),
        (str(w["online_long"]), "int", adult("online")),
        (str(w["dossiers"]), "int", adult("commune_dossiers")),
        (_("Online dossiers: share of the communes' dossiers"), "percent", adult("online_share")),
        (_("Online dossiers: target"), "percent", lambda r: (targets.get("online_share") or {}).get("share")),
    ]
    for s in summary.services:
        cols.append((str(w["working_of"](service_name(s))), "int",
                     lambda r, code=s["code"]: ((r["adults"] or {}).get("working") or {}).get(code, 0)))
    return cols


def row_name(row: dict) -> str:
    """A row's unit as the files name it: a hamlet that ended during the period with the day it ended from, and the
    hamlets its households went to (a merge or a split), as the page says it."""
    ending = row.get("ending")
    if ending:
        names = ", ".join(u["name"] for u in ending["into"])
        how = (_("merged into %(names)s from %(date)s", names=names, date=_fmt_date(ending["on"]))
               if ending["kind"] == "merge" else
               _("split into %(names)s from %(date)s", names=names, date=_fmt_date(ending["on"])))
        return f"{row['name']} ({how})"
    return row["name"]


def outside_label(level: str, count: int) -> str:
    """The row of a sheet's rest: the units in none of its rows (a province's communes in no area)."""
    if level == "area":
        return _("Communes in no commune area (%(count)s)", count=count)
    return _("Units in none of the above (%(count)s)", count=count)


def title(summary: Summary) -> str:
    if summary.period.kind == "quarter":
        return _("Quarterly summary, %(quarter)s: %(unit)s", quarter=summary.period.shown, unit=summary.unit["name"])
    return _("Monthly summary %(month)s/%(year)s: %(unit)s", month=f"{summary.month:02d}",
             year=summary.year, unit=summary.unit["name"])


def produced_line(summary: Summary, produced_on: date | None = None) -> str:
    line = _("Produced on %(date)s", date=_fmt_date(produced_on or summary.produced_on))
    if summary.closed_at is not None:
        line += " · " + _("Month closed; figures as at closing")
    return line


def _fmt_date(d: date) -> str:
    vi = str(get_locale() or "vi") == "vi"
    return format_date(d, "dd/MM/yyyy" if vi else "medium")


def _sheet_name(text: str, used: set[str]) -> str:
    name = SHEET_BAD.sub(" ", text)[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def write_xlsx(summary: Summary) -> bytes:
    """A sheet per level for the household figures, then a sheet per level for the adult indicators: each
    sheet's rows (with the units in none of them, and what the total counts in none of its units) add up to
    its total, so a reader summing a column gets the total, not twice it."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    levels = summary.levels or [(summary.unit["level"], [])]
    cols = columns(summary)
    for level, rows in levels:
        rest = summary.outside.get(level)
        extra = [(outside_label(level, rest["count"]), rest)] if rest is not None else []
        _level_sheet(wb.create_sheet(_sheet_name(summary.level_title(level), used)), summary, cols, rows, extra)
    adult_cols = adult_columns(summary)
    for level, rows in levels if adult_cols else []:
        extra = []
        rest = summary.outside.get(level)
        if rest is not None:
            extra.append((outside_label(level, rest["count"]), rest))
        unplaced = summary.unplaced.get(level)
        if unplaced is not None:
            extra.append((unplaced["name"], unplaced))
        name = _sheet_name(_("Adults · %(level)s", level=summary.level_title(level)), used)
        _level_sheet(wb.create_sheet(name), summary, adult_cols, rows, extra)
    if summary.closed_at is not None:
        wb.properties.created = summary.closed_at.replace(tzinfo=None, microsecond=0)
    buf = io.BytesIO()
    wb.save(buf)
    if summary.closed_at is None:
        return buf.getvalue()
    return _stamped(buf.getvalue(), summary.closed_at)


def _level_sheet(ws, summary: Summary, cols, rows: list[dict], extra: list[tuple[str, dict]]) -> None:
    """One level's sheet: title, date, header, the level's rows, the `extra` rows (label, figures) that make
    them add up, then the total."""
    bold = Font(bold=True)
    ws.append([neutralise(title(summary))])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([produced_line(summary)])
    ws.append([])
    with_parent = any(r["parent_id"] != summary.unit["id"] for r in rows)
    heads = [_("Code"), _("Unit")] + ([_("Belongs to")] if with_parent else []) + [c[0] for c in cols]
    ws.append([neutralise(h) for h in heads])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    lead = 3 if with_parent else 2
    for r in rows:
        lead_cells = [r["code"] or "", row_name(r)] + ([r["parent_name"]] if with_parent else [])
        ws.append([neutralise(v) for v in lead_cells] + [c[2](r) for c in cols])
    for label, r in extra:
        ws.append(["", neutralise(label)] + ([""] if with_parent else []) + [c[2](r) for c in cols])
    total = summary.total
    ws.append(["", _("Total")] + ([""] if with_parent else []) + [c[2](total) for c in cols])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for i, (_h, kind, _g) in enumerate(cols, start=lead + 1):
        fmt = PERCENT_FORMAT if kind == "percent" else INT_FORMAT
        for row in ws.iter_rows(min_row=header_row + 1, min_col=i, max_col=i):
            row[0].number_format = fmt
    for cell in ws[header_row][:lead]:
        ws.column_dimensions[cell.column_letter].width = 28 if cell.column > 1 else 10
    for i in range(lead + 1, len(heads) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.freeze_panes = ws.cell(row=header_row + 1, column=lead + 1)
    ws.print_options.gridLines = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def _stamped(xlsx: bytes, when) -> bytes:
    """The workbook with every zip entry and its "modified" property dated `when`, so a closed
    month's file is the same bytes whenever it is produced (openpyxl dates both with the clock)."""
    out = io.BytesIO()
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                              data)
            dst.writestr(fixed, data)
    return out.getvalue()


def _plain(value, kind: str):
    if value is None:
        return ""
    if kind == "percent":
        return f"{value:.4f}"
    return value


def write_csv(summary: Summary) -> bytes:
    """One table: the unit itself, then every level below; level and parent name say where a row sits.
    The adult indicators' columns come after the household ones. As on the xlsx's sheets, each level's rows
    add up to the unit's: the units in none of them, and what its adult figures count in none of them, are
    rows of that level too."""
    household_cols, adult_cols = columns(summary), adult_columns(summary)
    cols = household_cols + adult_cols
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in [_("Level"), _("Code"), _("Unit"), _("Belongs to")] + [c[0] for c in cols]])

    def line(level: str, code: str, name: str, parent: str, values: list) -> None:
        w.writerow([neutralise(v) for v in (level_name(level), code, name, parent)] + values)

    def plain(r: dict, which: list) -> list:
        return [_plain(c[2](r), c[1]) for c in which]

    total = summary.total
    line(total["level"], total["code"] or "", total["name"], "", plain(total, cols))
    for level, rows in summary.levels:
        for r in rows:
            line(r["level"], r["code"] or "", row_name(r), r["parent_name"], plain(r, cols))
        rest = summary.outside.get(level)
        if rest is not None:
            line(level, "", outside_label(level, rest["count"]), "", plain(rest, cols))
        unplaced = summary.unplaced.get(level) if adult_cols else None
        if unplaced is not None:  # adult figures only: the household ones are all in the rows
            line(level, "", unplaced["name"], "", [""] * len(household_cols) + plain(unplaced, adult_cols))
    # The byte-order mark lets Excel open the file as UTF-8, so diacritics show.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
