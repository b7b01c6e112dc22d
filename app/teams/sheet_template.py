"""The blank member list a commune officer downloads, fills and uploads (app.teams.importer reads it back).

Its headers are the Vietnamese ones the importer knows; under them one example line, which the importer skips
(its name starts "Ví dụ:"), so a list filled below it, or over it, uploads as it is. A second sheet says what
each column takes and names the commune's hamlets and the teams that serve them.
"""
import io
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.spreadsheets import help_sheet, neutralise
from app.teams.models import Team
from app.text import sort_key
from app.units.models import AdminUnit

# (header, width): the headers as the importer's aliases know them (app.teams.importer.MEMBER_COLUMNS).
COLUMNS = [("Họ tên", 28), ("Số điện thoại", 16), ("Giới tính", 10), ("Năm sinh", 10), ("Vai trò", 14),
           ("Đơn vị công tác", 22), ("Ấp", 20), ("Tổ", 28), ("Ngày tham gia", 14)]
# Rows below the header typed as text in the phone column, so a spreadsheet keeps a number's leading 0.
TEXT_ROWS = 500


def example_name() -> str:
    """The example line's name: the importer knows it by its start (importer.EXAMPLE_PREFIXES)."""
    return _("Example:") + " Nguyễn Văn An"


def member_template(commune: AdminUnit, hamlets: list[AdminUnit], teams: list[Team],
                    serving: dict[int, list[int]]) -> bytes:
    """The workbook: the list to fill, then the help sheet. `hamlets` are the commune's active hamlets,
    `teams` its active teams, `serving` each team's hamlet ids."""
    hamlets = sorted(hamlets, key=lambda h: sort_key(h.name))
    teams = sorted(teams, key=lambda t: sort_key(t.name))
    served = [h for h in hamlets if any(h.id in serving.get(t.id, []) for t in teams)]
    book = Workbook()
    sheet = book.active
    sheet.title = _("Members")[:31]
    sheet.append([header for header, _width in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    example_hamlet = (served or hamlets)[0].name if (served or hamlets) else "Ấp 1"
    sheet.append([example_name(), "0912 345 678", "Nam", 1990, "Thành viên", "Đoàn Thanh niên",
                  neutralise(example_hamlet), "", date(2024, 5, 23)])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="5C6670")
    sheet["I2"].number_format = "DD/MM/YYYY"
    for row in range(2, TEXT_ROWS + 2):
        sheet.cell(row=row, column=2).number_format = "@"
    for i, (_header, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A2"
    _help_sheet(book, commune, hamlets, teams, serving)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _help_sheet(book: Workbook, commune: AdminUnit, hamlets, teams, serving) -> None:
    bold = Font(bold=True)
    lines = [
        (_("The member list of %(commune)s", commune=commune.name), True),
        (_("One member a line, on the first sheet, from its second line down. The line whose name starts "
           "“%(mark)s” is an example: it adds nobody; write over it or leave it.", mark=_("Example:")), False),
        ("", False),
        (_("What each column takes"), True),
    ]
    takes = [
        _("The member's full name, with its accents. Required."),
        _("Mobile number, 10 digits (0912 345 678). Empty for a member without one: they get no sign-in account."),
        _("Nam, Nữ or Khác; may be left empty."),
        _("The year, e.g. 1990; may be left empty."),
        _("Tổ trưởng, Tổ phó or Thành viên; empty: Thành viên. One leader a team."),
        _("Where the member works, e.g. Đoàn Thanh niên, Hội Phụ nữ, Hội Nông dân, Công an xã, Bưu điện, "
          "Viettel, giáo viên, trưởng ấp."),
        _("The hamlet the member works in (see the list below): the member joins the team serving it."),
        _("The team's name, when several teams serve the hamlet; else leave it empty."),
        _("The day the member joined the team, e.g. 23/05/2024; empty: the day of the upload."),
    ]
    sheet = help_sheet(book, _("How to fill it"), lines,
                       [(header, text) for (header, _width), text in zip(COLUMNS, takes, strict=True)])
    sheet.append([])
    sheet.append([_("Hamlet"), _("Teams serving it")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for hamlet in hamlets:
        names = [t.name for t in teams if hamlet.id in serving.get(t.id, [])]
        sheet.append([neutralise(hamlet.name), neutralise(", ".join(names) or _("none yet: register the team first"))])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 90
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
