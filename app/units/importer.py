"""Import administrative units and hamlet lists from CSV/XLSX: validate every row, then all or nothing."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import rules
from app.extensions import db
from app.spreadsheets import SheetRow, date_cell, read_rows, text_cell
from app.templating import locale_date
from app.text import fold
from app.units import operations as unit_ops
from app.units.models import LEVELS, AdminUnit, unit_for_code

UNIT_COLUMNS = {
    "code": "code", "ma": "code", "ma_don_vi": "code",
    "name": "name", "ten": "name", "ten_don_vi": "name",
    "level": "level", "cap": "level",
    "parent_code": "parent_code", "parent": "parent_code", "ma_cha": "parent_code",
    "ma_don_vi_cha": "parent_code", "ma_cap_tren": "parent_code",
    "households": "households", "so_ho": "households", "so_ho_gia_dinh": "households",
    "effective_date": "effective_date", "effective_on": "effective_date",
    "ngay_hieu_luc": "effective_date", "tu_ngay": "effective_date",
}
LEVEL_ALIASES = {
    "province": "province", "tinh": "province", "thanh_pho_truc_thuoc_trung_uong": "province",
    "district": "district", "huyen": "district", "quan": "district", "thi_xa": "district",
    "thanh_pho_thuoc_tinh": "district",
    "commune": "commune", "xa": "commune", "phuong": "commune", "thi_tran": "commune",
    "hamlet": "hamlet", "ap": "hamlet", "khom": "hamlet", "thon": "hamlet", "to_dan_pho": "hamlet",
    "khu_vuc": "hamlet", "ban": "hamlet", "lang": "hamlet",
}
MAX_NAME = rules.NAME_MAX


@dataclass
class UnitRow:
    line: int
    code: str = ""
    name: str = ""
    level: str = ""
    parent_code: str = ""
    households: int | None = None
    effective_on: date | None = None
    errors: list[str] = field(default_factory=list)
    existing_id: int | None = None
    # A hamlet's list only: the count it replaces (in effect the day before the new one), shown beside it, and
    # a question rather than a problem (`flag_unlikely`): such a row is left out unless the officer ticks it in.
    before: int | None = None
    flag: str = ""


def _name_errors(name: str) -> list[str]:
    try:
        rules.unit_name(name)
    except rules.RuleError as exc:
        return [exc.message]
    return []


def _code(row: SheetRow, column: str, out: UnitRow, label) -> str | None:
    """The code in `column`, checked by the rule every path in shares; None (and an error) when refused."""
    try:
        return rules.unit_code(row.values.get(column))
    except rules.RuleError as exc:
        out.errors.append(f"{label()}: {exc.message}")
        return None


def _count_and_date(row: SheetRow, out: UnitRow, today: date) -> bool:
    """Parse households and effective date into `out`; False when the households cell is unusable."""
    households_ok = True
    try:
        out.households = rules.households(row.values.get("households"))
    except rules.RuleError as exc:
        households_ok = False
        out.errors.append(exc.message)
    try:
        out.effective_on = date_cell(row.values.get("effective_date"))
        if out.effective_on is None and out.households is not None:
            out.effective_on = today  # a count without a date applies from the day it is entered
    except ValueError:
        out.errors.append(_("The effective date is not a date (use 23/05/2024 or 2024-05-23)."))
    if out.effective_on and out.effective_on > today:
        out.errors.append(_("The effective date is in the future."))
    return households_ok


def parse_units(filename: str, data: bytes, today: date) -> list[UnitRow]:
    """Validate a whole-tree import file; raises SpreadsheetError when it is not a spreadsheet."""
    rows = read_rows(filename, data, UNIT_COLUMNS)
    parsed: list[UnitRow] = []
    codes_in_file: dict[str, UnitRow] = {}
    for row in rows:
        out = UnitRow(line=row.line, name=text_cell(row.values.get("name")))
        code = _code(row, "code", out, lambda: _("Code"))
        parent_code = _code(row, "parent_code", out, lambda: _("Parent code"))
        out.code, out.parent_code = code or "", parent_code or ""
        out.errors += _name_errors(out.name)
        raw_level = text_cell(row.values.get("level"))
        out.level = LEVEL_ALIASES.get(fold(raw_level).replace(" ", "_"), "")
        if not out.level:
            out.errors.append(_("Unknown level %(level)r: use province, district, commune or hamlet.",
                                level=raw_level))
        if code == "" and out.level != "hamlet":
            out.errors.append(_("The code is missing."))
        if out.code and out.code in codes_in_file:
            out.errors.append(_("Code %(code)s appears twice in the file (line %(line)d).",
                                code=out.code, line=codes_in_file[out.code].line))
        if out.code:
            codes_in_file.setdefault(out.code, out)
        if out.level and out.level != "province" and parent_code == "":
            out.errors.append(_("The parent code is missing."))
        _count_and_date(row, out, today)
        parsed.append(out)

    # A code names the unit bearing it today: one that ended (a reorganization may have handed its code
    # to a new unit) is never renamed, counted or hung under by an import.
    wanted = {r.parent_code for r in parsed if r.parent_code} | {r.code for r in parsed if r.code}
    in_db = {u.code: u for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.code.in_(wanted), AdminUnit.retired_on.is_(None)))}
    # code -> (name, last day) of the latest unit that bore it
    ended = {u.code: (u.name, u.last_day.isoformat()) for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.code.in_(wanted - set(in_db)), AdminUnit.retired_on.is_not(None))
        .order_by(AdminUnit.retired_on))}
    for out in parsed:
        if out.code in in_db:
            existing = in_db[out.code]
            out.existing_id = existing.id
            if out.level and existing.level != out.level:
                out.errors.append(_("Code %(code)s already exists as a %(level)s.", code=out.code,
                                    level=existing.level))
        elif out.code in ended:
            name, day = ended[out.code]
            out.errors.append(_("Code %(code)s was %(name)s's until %(day)s: an ended unit's code passes to a new "
                                "unit only through a reorganization (flask units reorganize).", code=out.code,
                                name=name, day=day))
        if out.parent_code:
            parent_level = (codes_in_file[out.parent_code].level if out.parent_code in codes_in_file
                            else in_db[out.parent_code].level if out.parent_code in in_db else None)
            if parent_level is None and out.parent_code in ended:
                name, day = ended[out.parent_code]
                out.errors.append(_("Parent code %(code)s was %(name)s's until %(day)s: give the code of the "
                                    "parent unit in force now.", code=out.parent_code, name=name, day=day))
            elif parent_level is None:
                out.errors.append(_("Parent code %(code)s is neither in the file nor in the database.",
                                    code=out.parent_code))
            elif out.level and parent_level in LEVELS and LEVELS.index(parent_level) >= LEVELS.index(out.level):
                out.errors.append(_("A %(level)s cannot sit under a %(parent)s.", level=out.level,
                                    parent=parent_level))
    return parsed


def apply_units(rows: list[UnitRow], user=None) -> dict[str, int]:
    """Write validated rows (parents before children); the caller commits."""
    if any(r.errors for r in rows):
        raise ValueError("refusing to import rows with errors")
    stats = {"created": 0, "updated": 0, "counts": 0}
    order = sorted(rows, key=lambda r: LEVELS.index(r.level))
    by_code: dict[str, AdminUnit] = {}
    for r in order:
        parent = None
        if r.parent_code:
            parent = by_code.get(r.parent_code) or unit_for_code(r.parent_code)
        unit = None
        if r.code:
            unit = unit_for_code(r.code)
        elif parent is not None:
            unit = unit_ops.find_child_by_name(parent, r.name)
            if unit is not None and unit.retired_on is not None:
                unit = None  # an ended unit of that name stays as it was; a new one takes the name
        if unit is None:
            unit = unit_ops.create_unit(r.name, r.level, parent, r.code or None, user=user)
            stats["created"] += 1
        elif unit.name != r.name:
            unit_ops.rename_unit(unit, r.name, user=user)
            stats["updated"] += 1
        if r.code:
            by_code[r.code] = unit
        if r.households is not None:
            unit_ops.set_household_count(unit, r.households, r.effective_on, user=user)
            stats["counts"] += 1
    return stats


HAMLET_COLUMNS = {
    "name": "name", "ten": "name", "ten_ap": "name", "ap": "name", "ten_thon": "name", "hamlet": "name",
    "ten_ap_khom": "name", "ap_khom": "name", "thon_ap": "name",
    "code": "code", "ma": "code",
    "households": "households", "so_ho": "households", "so_ho_gia_dinh": "households",
    "effective_date": "effective_date", "ngay_hieu_luc": "effective_date", "tu_ngay": "effective_date",
}


def parse_hamlets(filename: str, data: bytes, commune: AdminUnit, today: date) -> list[UnitRow]:
    """A commune's list of hamlets with their household counts; existing hamlets are matched by name."""
    return check_hamlets(read_rows(filename, data, HAMLET_COLUMNS), commune, today)


def check_hamlets(rows: list[SheetRow], commune: AdminUnit, today: date) -> list[UnitRow]:
    """A row names an active hamlet of the commune (updated), one retired by hand (made active again),
    or a new one. A hamlet that ended by a merge or a split is refused: its households went with the
    change, and made active again it would count its old households beside them."""
    existing = unit_ops.children_by_name(commune)
    seen: dict[str, int] = {}
    parsed = []
    for row in rows:
        out = UnitRow(line=row.line, level="hamlet", name=text_cell(row.values.get("name")))
        out.code = _code(row, "code", out, lambda: _("Code")) or ""
        out.errors += _name_errors(out.name)
        key = fold(out.name)
        if out.name and key in seen:
            out.errors.append(_("%(name)s appears twice in the file (line %(line)d).", name=out.name,
                                line=seen[key]))
        seen.setdefault(key, row.line)
        if key in existing:
            found = existing[key]
            out.existing_id = found.id
            if unit_ops.ended_by_change(found):
                out.errors.append(_("%(name)s was merged or split from %(day)s (see its page): leave it out of the "
                                    "list.", name=found.name, day=locale_date(found.retired_on)))
            elif refusal := unit_ops.ended_commune_refusal(found):
                out.errors.append(refusal)
        if _count_and_date(row, out, today) and out.households is None:
            out.errors.append(_("The number of households is missing."))
        if out.code:
            other = unit_for_code(out.code)
            if other is not None and other.id != out.existing_id:
                out.errors.append(_("Code %(code)s belongs to another unit.", code=out.code))
        parsed.append(out)
    flag_unlikely(parsed, commune, today, "households", lambda r: r.existing_id)
    return parsed


def flag_unlikely(rows: list, commune: AdminUnit, today: date, figure: str, unit_id: Callable) -> None:
    """Give each row of a hamlet already there the figure it replaces, and flag a figure that looks like a slip as
    the forms ask about it: ten times the one before or a tenth of it (490 → 4,900), or, for a hamlet with none
    before, far from the commune's other hamlets (`unit_ops.far_from_other_hamlets`). Those are their figures
    now, and the file's figures of the hamlets that have none yet: a slip elsewhere in the file pulls no row's
    reference with it.

    `figure` is the kind (`unit_ops.FIGURES`: "households" or "adults") and the rows' attribute holding it; the
    rows have `errors`, `effective_on` (None: today), `before` and `flag`; `unit_id(row)` is the hamlet a row
    names, None for a new one."""
    for r in rows:
        if unit_id(r):
            r.before = unit_ops.figure_on(unit_id(r), (r.effective_on or today) - timedelta(days=1), figure)
    uncounted = [r for r in rows if r.before is None and getattr(r, figure) is not None and not r.errors]
    counts_on: dict[date, dict[int, int]] = {}
    for r in rows:
        typed = getattr(r, figure)
        if r.errors or typed is None:
            continue
        if r.before is not None:
            r.flag = unit_ops.far_from_before(typed, r.before, figure) or ""
            continue
        day = r.effective_on or today
        if day not in counts_on:
            counts_on[day] = unit_ops.hamlet_counts(commune, day, figure)
        others = [n for hamlet_id, n in counts_on[day].items() if hamlet_id != unit_id(r)]
        others += [getattr(o, figure) for o in uncounted if o is not r]
        r.flag = unit_ops.far_from_other_hamlets(typed, others, figure) or ""


def apply_hamlets(rows: list[UnitRow], commune: AdminUnit, user=None) -> dict[str, int]:
    if any(r.errors for r in rows):
        raise ValueError("refusing to import rows with errors")
    stats = {"created": 0, "updated": 0}
    for r in rows:
        unit = db.session.get(AdminUnit, r.existing_id) if r.existing_id else None
        if unit is None:
            unit = unit_ops.create_unit(r.name, "hamlet", commune, r.code or None, user=user)
            stats["created"] += 1
        else:
            stats["updated"] += 1
            if unit.retired_on is not None:
                unit_ops.restore_unit(unit, user=user)
        unit_ops.set_household_count(unit, r.households, r.effective_on, user=user)
    return stats
