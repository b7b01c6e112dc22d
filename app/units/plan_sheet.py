"""The draft plan workbook province staff download, complete and upload (app.units.reorganize reads it back).

Its headers are Vietnamese ones the plan reader knows (reorganize.PLAN_COLUMNS), its dates real date cells shown
dd/mm/yyyy; a second sheet says what each column takes and how to give a split commune's hamlets their new commune.
`flask units reorganize --draft` writes the same workbook (or the same columns as csv).
"""
import csv
import io
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.spreadsheets import help_sheet, neutralise

# (header, width), in the order of reorganize.draft_rows' rows.
COLUMNS = [("Ngày hiệu lực", 14), ("Mã đơn vị cũ", 13), ("Tên đơn vị cũ", 26), ("Thôn, ấp", 22),
           ("Mã đơn vị mới", 14), ("Tên đơn vị mới", 34), ("Tài khoản", 16)]
HEADER = [header for header, _width in COLUMNS]
DATE_FORMAT = "DD/MM/YYYY"


def plan_xlsx(rows: list[list]) -> bytes:
    """The workbook: the plan's lines under HEADER (a date as a date cell), then the help sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Plan")[:31]
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    for row in rows:
        sheet.append([neutralise(value) for value in row])
        first = sheet.cell(row=sheet.max_row, column=1)
        if isinstance(first.value, date):
            first.number_format = DATE_FORMAT
    # Codes are text: a spreadsheet would drop a leading 0 from one typed in.
    for column in (2, 5):
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row=row, column=column).number_format = "@"
    for i, (_header, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A2"
    _help_sheet(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _help_sheet(book: Workbook) -> None:
    bold = Font(bold=True)
    lines = [
        (_("The reorganization plan"), True),
        (_("One line a unit, on the first sheet: the old unit (its code and name) and the new unit it goes into "
           "from the effective date. Every commune of the province has a line; nothing changes until the "
           "preview of the uploaded plan is confirmed."), False),
        ("", False),
        (_("What each column takes"), True)]
    takes = [
        _("The day the plan takes effect, e.g. 01/07/2025: the same on every line, the first day of a month."),
        _("The old unit's code (5 digits for a commune, 2 for the province), as it is today. Required, except on "
          "an account line."),
        _("The old unit's name, to read the plan by; a wrong code is told by it."),
        _("Empty on a commune's line. For a split commune only: the name of one of its hamlets, as in the "
          "application."),
        _("The code of the new unit the old one (or the hamlet) goes into, from the list in force. Several "
          "communes merging into one all get its code."),
        _("The new unit's name; may be left empty for a code of the list in force. A split commune's lines name "
          "here the candidates of the official links (code and name, separated by |): keep one code in the "
          "new unit's code column."),
        _("Optional: an account's user name, to bind it to the new unit whose code is on the line; an area "
          "officer's, to an area that carries on, by the area's name in the new unit's name column and no code; "
          "with neither, to deactivate it. Accounts not named follow their unit (an area's officers, their area "
          "where it carries on)."),
    ]
    sheet = help_sheet(book, _("How to fill it"), lines, list(zip(HEADER, takes, strict=True)))
    sheet.append([])
    sheet.append([_("A split commune")])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    for text in (
            _("A commune divided between several new communes has one line per hamlet: its code and name in the "
              "old unit's columns, the hamlet's name in the hamlet column, and the code of the new commune that "
              "hamlet goes into."),
            _("Every hamlet of a split commune needs a line; a hamlet itself divided is first recorded as two "
              "hamlets by its commune."),
            _("A commune that goes whole into one new commune keeps a single line, its hamlet column empty.")):
        sheet.append(["", neutralise(text)])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_plan(path, rows: list[list]) -> None:
    """The workbook of `plan_xlsx`, or by the file's suffix a csv of the same columns (dates dd/mm/yyyy)."""
    if str(path).lower().endswith(".csv"):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows([[f"{v:%d/%m/%Y}" if isinstance(v, date) else v for v in row] for row in rows])
        return
    Path(path).write_bytes(plan_xlsx(rows))
