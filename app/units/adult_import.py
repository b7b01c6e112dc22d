"""Import a commune's adult populations hamlet by hamlet from CSV/XLSX: every row checked, then all or nothing.

The hamlets must already exist (the hamlet list import creates them); rows are matched by name. A figure that
looks like a slip is a question, not a problem: the row is left out unless the officer ticks it in."""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app import rules
from app.extensions import db
from app.spreadsheets import SheetRow, date_cell, read_rows, text_cell
from app.text import fold
from app.units import operations as unit_ops
from app.units.importer import flag_unlikely
from app.units.models import AdminUnit

ADULT_COLUMNS = {
    "name": "name", "ten": "name", "ten_ap": "name", "ap": "name", "ten_thon": "name", "hamlet": "name",
    "ten_ap_khom": "name", "ap_khom": "name", "thon_ap": "name",
    "adults": "adults", "so_nguoi_truong_thanh": "adults", "nguoi_truong_thanh": "adults",
    "dan_so_tu_15_tuoi": "adults", "so_nguoi_tu_15_tuoi": "adults", "tu_15_tuoi": "adults",
    "effective_date": "effective_date", "ngay_hieu_luc": "effective_date", "tu_ngay": "effective_date",
}


@dataclass
class AdultRow:
    line: int
    name: str = ""
    adults: int | None = None
    effective_on: date | None = None
    hamlet_id: int | None = None
    errors: list[str] = field(default_factory=list)
    # The adult population it replaces (in effect the day before the new one), shown above it, and a question
    # rather than a problem (`flag_unlikely`): such a row is left out unless the officer ticks it in.
    before: int | None = None
    flag: str = ""


def parse_adults(filename: str, data: bytes, commune: AdminUnit, today: date) -> list[AdultRow]:
    """Raises SpreadsheetError when the file is not a spreadsheet."""
    return check_adults(read_rows(filename, data, ADULT_COLUMNS), commune, today)


def check_adults(rows: list[SheetRow], commune: AdminUnit, today: date) -> list[AdultRow]:
    # A name an ended hamlet shares with an active one (a split may give a part the old name) names the
    # active one.
    hamlets = unit_ops.children_by_name(commune)
    seen: dict[str, int] = {}
    parsed = []
    for row in rows:
        out = AdultRow(line=row.line, name=text_cell(row.values.get("name")))
        key = fold(out.name)
        if not out.name:
            out.errors.append(_("The hamlet's name is missing."))
        elif key not in hamlets:
            out.errors.append(_("%(name)s is not a hamlet of this commune.", name=out.name))
        else:
            out.hamlet_id = hamlets[key].id
        if out.name and key in seen:
            out.errors.append(_("%(name)s appears twice in the file (line %(line)d).", name=out.name,
                                line=seen[key]))
        seen.setdefault(key, row.line)
        try:
            out.adults = rules.adults(row.values.get("adults"))
            if out.adults is None:
                out.errors.append(_("The number of adults is missing."))
        except rules.RuleError as exc:
            out.errors.append(exc.message)
        try:
            out.effective_on = date_cell(row.values.get("effective_date")) or today
        except ValueError:
            out.errors.append(_("The effective date is not a date (use 23/05/2024 or 2024-05-23)."))
        if out.effective_on and out.effective_on > today:
            out.errors.append(_("The effective date is in the future."))
        elif out.effective_on and out.hamlet_id:
            ended = unit_ops.ended_refusal(hamlets[key], out.effective_on)
            if ended:
                out.errors.append(ended)
        parsed.append(out)
    flag_unlikely(parsed, commune, today, "adults", lambda r: r.hamlet_id)
    return parsed


def apply_adults(rows: list[AdultRow], commune: AdminUnit, user=None) -> int:
    """Write checked rows; the caller commits."""
    if any(r.errors for r in rows):
        raise ValueError("refusing to import rows with errors")
    for r in rows:
        unit_ops.set_adult_count(db.session.get(AdminUnit, r.hamlet_id), r.adults, r.effective_on, user=user)
    return len(rows)
