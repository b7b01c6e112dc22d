"""A reorganization of a province's map as one dated, reviewable step: read a plan, check it, apply it.

The plan (xlsx or csv, one row per line): old unit -> new unit from an effective date. A province
row (old province code -> new province code) says where the old province's communes go; a commune
row sends an old commune whole to a new one; hamlet rows (the hamlet's name in the old commune)
assign the hamlets of a commune split between several; an account row re-binds a user to a new
unit (an area officer to an area that carries on, by its name), or with neither deactivates it. Applying
moves every hamlet whole (its households, counts, visits and adoptions hang on it; every one that stood on the
plan's day or came since, for a province that went on with the old map after it), ends the old units'
period, creates the new ones (an area again where its communes' heirs are wholly its), moves teams and
accounts, and records what it did. Mutations only: the caller commits.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from app.audit.models import record
from app.dates import today_vn
from app.extensions import db
from app.id_lists import chunks
from app.spreadsheets import SheetRow, date_cell, read_rows, text_cell
from app.templating import message_date
from app.text import fold, sort_key
from app.units import official
from app.units import operations as unit_ops
from app.units.models import AdminUnit, HamletChange, Reorganization, UnitPlacement, UnitSuccession
from app.units.reorganize_summary import Description, describe_summary, record_communes, record_ended_hamlets

PLAN_COLUMNS = {
    "effective_on": "effective_on", "effective_date": "effective_on", "ngay_hieu_luc": "effective_on",
    "old_code": "old_code", "ma_cu": "old_code", "ma_don_vi_cu": "old_code",
    "old_name": "old_name", "ten_cu": "old_name", "ten_don_vi_cu": "old_name",
    "hamlet": "hamlet", "ap": "hamlet", "thon_ap": "hamlet", "ten_ap": "hamlet",
    "new_code": "new_code", "ma_moi": "new_code", "ma_don_vi_moi": "new_code",
    "new_name": "new_name", "ten_moi": "new_name", "ten_don_vi_moi": "new_name",
    "account": "account", "tai_khoan": "account", "username": "account",
}
# Of each kind of problem a page says the first few in full, then the first lines of the others.
PROBLEMS_IN_FULL = 3
LINES_LISTED = 10


class Problem(str):
    """A problem's text in the user's language, with the message it was made from (`kind`): a page lists the
    lines with the same kind of problem (the same message for another code) together."""
    kind = ""


def _(message: str, **values) -> Problem:
    """gettext, keeping the message it translated as the problem's kind."""
    text = Problem(gettext(message, **values))
    text.kind = message
    return text


@dataclass
class ProblemGroup:
    """The problems of one kind: the first few (line, text), and how many more, on which lines (the first few)."""
    first: list[tuple[int | None, str]]
    more: int = 0
    more_lines: list[int] = field(default_factory=list)
    # Every problem of the group reads the same (the day every line must share): said once, with how many
    # lines have it and the first few of them.
    same_text: str | None = None
    count: int = 0
    lines: list[int] = field(default_factory=list)



@dataclass
class PlanLine:
    line: int
    effective_on: date | None = None
    old_code: str = ""
    old_name: str = ""
    hamlet: str = ""
    new_code: str = ""
    new_name: str = ""
    account: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class AreaFate:
    """An area of an old province through the plan: its old communes, and the new communes it holds from the
    plan's day, those made only of its communes (or of their hamlets). It carries on when it holds one, or held
    none (nothing of it changes); otherwise it ends with its communes."""
    area: AdminUnit
    new_name: str
    communes: list[AdminUnit] = field(default_factory=list)
    holds: set[str] = field(default_factory=set)

    @property
    def carries_on(self) -> bool:
        return bool(self.holds) or not self.communes


@dataclass
class Plan:
    """A checked plan: its lines (each with its errors) and, when none has any, what applying does."""
    source_name: str
    lines: list[PlanLine]
    effective_on: date | None = None
    errors: list[str] = field(default_factory=list)  # problems of the plan as a whole
    old_provinces: dict[str, AdminUnit] = field(default_factory=dict)   # old code -> unit
    new_provinces: dict[str, str] = field(default_factory=dict)         # old province code -> new code
    # new code -> (name, level, kind, parent code)
    new_units: dict[str, tuple[str, str, str | None, str]] = field(default_factory=dict)
    hamlet_moves: list[tuple[AdminUnit, AdminUnit, str]] = field(default_factory=list)  # hamlet, old commune, new code
    commune_targets: dict[int, set[str]] = field(default_factory=dict)  # old commune id -> new codes
    accounts: dict[str, str] = field(default_factory=dict)               # username -> new code ("" to deactivate)
    areas: dict[int, AreaFate] = field(default_factory=dict)             # old area id -> what becomes of it
    # A new commune taking in communes of several areas, or of one and of none: the old areas (None: none).
    communes_in_no_area: dict[str, set[int | None]] = field(default_factory=dict)
    area_accounts: dict[str, int] = field(default_factory=dict)          # username -> old area id it goes on with
    # A line names a unit outside the one province the plan may change (check_plan's `only`): refused as not the
    # user's to change, which the database changing since a preview cannot mend.
    outside: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not any(line.errors for line in self.lines)

    def problems(self) -> list[tuple[int | None, str]]:
        return ([(None, e) for e in self.errors]
                + [(line.line, e) for line in self.lines for e in line.errors])

    def problem_groups(self) -> list[ProblemGroup]:
        """The problems by kind, in the order they first come: a plan with one cause (a date, a province line,
        a column) gives the same problem on hundreds of lines, which a page says once."""
        kinds: dict[str, list[tuple[int | None, str]]] = {}
        for line, text in self.problems():
            kinds.setdefault(getattr(text, "kind", "") or text, []).append((line, text))
        groups = []
        for problems in kinds.values():
            lines = [line for line, _text in problems if line is not None]
            if len(problems) > 1 and len({text for _line, text in problems}) == 1:
                groups.append(ProblemGroup([], same_text=problems[0][1], count=len(problems),
                                           lines=lines[:LINES_LISTED]))
                continue
            rest = problems[PROBLEMS_IN_FULL:]
            groups.append(ProblemGroup(problems[:PROBLEMS_IN_FULL], len(rest),
                                       [line for line, _text in rest if line is not None][:LINES_LISTED]))
        return groups


def read_plan(filename: str, data: bytes) -> list[PlanLine]:
    """The plan's lines with their cell errors; raises SpreadsheetError when it is not a spreadsheet."""
    out = []
    for row in read_rows(filename, data, PLAN_COLUMNS):
        out.append(_line(row))
    return out


def _line(row: SheetRow) -> PlanLine:
    line = PlanLine(line=row.line, old_code=text_cell(row.values.get("old_code")),
                    old_name=text_cell(row.values.get("old_name")),
                    hamlet=text_cell(row.values.get("hamlet")), new_code=text_cell(row.values.get("new_code")),
                    new_name=text_cell(row.values.get("new_name")), account=text_cell(row.values.get("account")))
    try:
        line.effective_on = date_cell(row.values.get("effective_on"))
    except ValueError:
        line.errors.append(_("The effective date is not a date (use 2025-07-01 or 01/07/2025)."))
    if line.effective_on is None and not line.errors:
        line.errors.append(_("The effective date is missing."))
    if not line.account and not line.old_code:
        line.errors.append(_("The old unit's code is missing."))
    if not line.account and not line.new_code:
        line.errors.append(_("The new unit's code is missing."))
    return line


def _visits_under(unit: AdminUnit) -> date | None:
    """The first visit logged in the unit's subtree, if any."""
    from app.visits.models import Visit
    return db.session.scalar(sa.select(sa.func.min(Visit.visited_on)).join(
        AdminUnit, AdminUnit.id == Visit.hamlet_id).where(AdminUnit.within(unit)))


def check_plan(source_name: str, lines: list[PlanLine], ahead: bool = False, only: AdminUnit | None = None) -> Plan:
    """Check every line against the database and the official list in force; nothing is written.

    A plan dated after today is refused (applied, it would move hamlets, teams and accounts now, before
    its day), as a hamlet change is; `ahead` lets a dry run show such a plan all the same. `only`: the one
    province the plan may change (its staff's, app.scope.plan_bound_to): a line naming a unit of another
    province, or a new unit under another province's code, is refused by line."""
    plan = Plan(source_name=source_name, lines=lines)
    days = Counter(line.effective_on for line in lines if line.effective_on)
    if not days:
        plan.errors.append(_("The plan has no effective date."))
        return plan
    day = plan.effective_on = days.most_common(1)[0][0]
    if day > today_vn() and not ahead:
        plan.errors.append(_("The plan takes effect on %(day)s, after today: it can be applied from that day on.",
                             day=message_date(day)))
    for line in lines:
        if line.effective_on and line.effective_on != day:
            line.errors.append(_("All lines of a plan take effect on the same day (%(day)s).", day=message_date(day)))
    before = day - timedelta(days=1)
    in_force = official.codes_in_force(day)
    listed = {}
    unknown: list[tuple[PlanLine, Problem]] = []   # lines naming an old code no unit bears, and that problem

    def old_unit(code: str, line: PlanLine) -> AdminUnit | None:
        unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code,
                                                            AdminUnit.valid_on_clause(before)))
        if unit is None:
            problem = _("No unit bears the code %(code)s on %(day)s.", code=code, day=message_date(before))
            line.errors.append(problem)
            unknown.append((line, problem))
        return unit

    unit_lines = [ln for ln in lines if not ln.account]
    # Province lines first: they say which old provinces the plan covers and where they go.
    communes_of: dict[int, AdminUnit] = {}
    for line in unit_lines:
        if line.errors or line.hamlet:
            continue
        unit = old_unit(line.old_code, line)
        if unit is None:
            continue
        if unit.level == "province":
            if only is not None and unit.id != only.id:
                _outside(plan, line, _(
                    "%(name)s (%(code)s) is not your province (%(own)s): you apply a plan of your own province only. "
                    "A plan that merges several provinces is applied by the administrator.",
                    name=unit.name, code=unit.code or "-", own=only.name))
                continue
            if line.new_code not in in_force:
                line.errors.append(_("The code %(code)s is not in the list in force on %(day)s.",
                                     code=line.new_code, day=message_date(day)))
                continue
            if only is not None and line.new_code not in _successors(only, day):
                _outside(plan, line, _(
                    "%(name)s goes on as %(codes)s by the official list, not %(code)s: a province's staff cannot "
                    "make units of another province; the administrator can.", name=only.name,
                    codes=", ".join(sorted(_successors(only, day) & in_force)), code=line.new_code))
                continue
            plan.old_provinces[unit.code] = unit
            plan.new_provinces[unit.code] = line.new_code
        elif unit.level in ("commune", "district"):
            communes_of[line.line] = unit
        else:
            line.errors.append(_("%(code)s is a hamlet: name it in the hamlet column of its commune's line.",
                                 code=line.old_code))
    if not plan.old_provinces:
        if not plan.outside:  # (else its province lines say why)
            plan.errors.append(_("The plan names no old province (a line: old province code -> new province code)."))
        for line_no, unit in communes_of.items():
            if only is not None and unit.province_id != only.id:
                _outside(plan, _line_by_no(lines, line_no), _elsewhere(unit, only))
        return plan
    _check_overlaps(plan, day)

    # Commune and hamlet lines.
    hamlet_target: dict[int, tuple[str, int]] = {}   # hamlet id -> new code, line
    whole_target: dict[int, list[tuple[str, int]]] = defaultdict(list)  # old commune id -> [(new code, line)]
    commune_by_id: dict[int, AdminUnit] = {}
    for line in unit_lines:
        if line.errors or line.line not in communes_of and not line.hamlet:
            continue
        commune = communes_of.get(line.line) or old_unit(line.old_code, line)
        if commune is None:
            continue
        if only is not None and commune.province_id != only.id:
            _outside(plan, line, _elsewhere(commune, only))
            continue
        if commune.level == "district":
            line.errors.append(_("%(code)s is a district: districts end with the reform; list its communes.",
                                 code=line.old_code))
            continue
        province = commune.path.strip("/").split("/")[0]
        old_province = next((p for p in plan.old_provinces.values() if str(p.id) == province), None)
        if old_province is None:
            line.errors.append(_("%(code)s is not in an old province of this plan.", code=line.old_code))
            continue
        if line.new_code not in in_force:
            line.errors.append(_("The code %(code)s is not in the list in force on %(day)s.",
                                 code=line.new_code, day=message_date(day)))
            continue
        parent_code = plan.new_provinces[old_province.code]
        if only is not None and official.two_levels(day) and line.new_code not in {
                u.code for u in official.province_units(parent_code, day)}:
            _outside(plan, line, _(
                "The code %(code)s is not a commune of %(province)s in the list in force on %(day)s: a province's "
                "staff cannot make units of another province; the administrator can.", code=line.new_code,
                province=official.province_units(parent_code, day)[0].name, day=message_date(day)))
            continue
        commune_by_id[commune.id] = commune
        _new_unit(plan, line, parent_code, day)
        if line.hamlet:
            hamlet = _standing_hamlet(commune, line.hamlet, day)
            if hamlet is None:
                line.errors.append(_("%(commune)s has no hamlet named %(hamlet)s.", commune=commune.name,
                                     hamlet=line.hamlet))
            elif hamlet.id in hamlet_target:
                line.errors.append(_("Hamlet %(hamlet)s is already assigned on line %(line)d.",
                                     hamlet=hamlet.name, line=hamlet_target[hamlet.id][1]))
            else:
                hamlet_target[hamlet.id] = (line.new_code, line.line)
        else:
            whole_target[commune.id].append((line.new_code, line.line))

    for commune_id, targets in whole_target.items():
        codes = {code for code, _line_no in targets}
        if len(codes) > 1:
            for _code, line_no in targets[1:]:
                _line_by_no(lines, line_no).errors.append(_(
                    "%(name)s goes to %(codes)s: say which hamlets go where (one line per hamlet).",
                    name=commune_by_id[commune_id].name, codes=", ".join(sorted(codes))))

    # Every commune of the old provinces must be placed, and every hamlet of a split commune; a commune named on
    # a line by its name beside a wrong code is not missing: that line says which code it has.
    miscoded = _miscoded(plan, unknown, before)
    for province in plan.old_provinces.values():
        communes = db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.within(province), AdminUnit.level == "commune",
            AdminUnit.valid_on_clause(before))).all()
        for commune in communes:
            if commune.id in miscoded:
                continue
            if commune.id not in commune_by_id:
                plan.errors.append(_("%(name)s (%(code)s) is not in the plan.", name=commune.name,
                                     code=commune.code or "-"))
                continue
            default = whole_target.get(commune.id, [])
            whole = {c for c, _n in default}
            targets = set()
            groups, endings = _hamlet_groups(commune, day)
            standing = {h.id for group in groups for h in group}
            for group in groups:
                named = sorted((hamlet_target[h.id][1], hamlet_target[h.id][0]) for h in group if h.id in hamlet_target)
                codes = {code for _n, code in named}
                if len(codes) > 1:
                    problem = _joined_by_changes(group, endings, codes)
                    for line_no, code in named:
                        if code != named[0][1]:
                            _line_by_no(lines, line_no).errors.append(problem)
                    continue
                code = next(iter(codes)) if codes else next(iter(whole)) if len(whole) == 1 else None
                if code is None:
                    first_line = min([n for c, n in default] + [n for h, (c, n) in hamlet_target.items()
                                                                  if h in standing] or [0])
                    for hamlet in _named_for(group, endings):
                        message = _("Hamlet %(hamlet)s of %(commune)s, which is split, is not assigned.",
                                    hamlet=hamlet.name, commune=commune.name)
                        if first_line:
                            _line_by_no(lines, first_line).errors.append(message)
                        else:
                            plan.errors.append(message)
                    continue
                targets.add(code)
                plan.hamlet_moves += [(hamlet, commune, code) for hamlet in group]
            targets |= {c for c, _n in default}
            plan.commune_targets[commune.id] = targets
    _check_new_codes(plan, day)
    _follow_areas(plan)
    for line in lines:
        if line.account:
            _check_account(plan, line, listed)
    return plan


def _hamlet_groups(commune: AdminUnit, day: date) -> tuple[list[list[AdminUnit]], dict]:
    """The commune's hamlets that stood on `day` or came into being since (a later merge, split or retirement ended
    some of them, a split made others), grouped by the merges and splits that joined them: each group goes whole to
    one new commune, since the commune that decided such a change held all its hamlets; and how each one a change
    ended ended (app.units.hamlet_changes.endings_of). A province that adopts the app late applies its plan after
    months of such changes on the old map."""
    from app.units.hamlet_changes import endings_of
    hamlets = list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.level == "hamlet",
        sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > day)).order_by(AdminUnit.id)))
    ended = [h.id for h in hamlets if h.retired_on is not None]
    endings = endings_of(ended) if ended else {}
    group_of = {h.id: {h.id} for h in hamlets}
    for hamlet_id, ending in endings.items():
        for into in ending.into:
            if into.id in group_of and group_of[into.id] is not group_of[hamlet_id]:
                joined = group_of[hamlet_id] | group_of[into.id]
                for member in joined:
                    group_of[member] = joined
    by_id = {h.id: h for h in hamlets}
    groups, seen = [], set()
    for hamlet in hamlets:
        if hamlet.id not in seen:
            seen |= group_of[hamlet.id]
            groups.append(sorted((by_id[i] for i in group_of[hamlet.id]),
                                 key=lambda h: (h.retired_on is not None, fold(h.name), h.id)))
    return groups, endings


def _named_for(group: list[AdminUnit], endings: dict) -> list[AdminUnit]:
    """The hamlets of a group a split commune's plan names: those of today, else (all ended since the plan's day)
    those no merge or split ended, which its lines may name as well."""
    return ([h for h in group if h.retired_on is None] or [h for h in group if h.id not in endings]
            or group[:1])


def _standing_hamlet(commune: AdminUnit, name: str, day: date) -> AdminUnit | None:
    """The commune's hamlet of that name that stood on `day` or came since: today's if one bears it, else the
    latest to end."""
    return db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.level == "hamlet", AdminUnit.name_folded == fold(name),
        sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > day))
        .order_by(AdminUnit.retired_on.is_not(None), AdminUnit.retired_on.desc(), AdminUnit.id.desc()).limit(1))


def _ending_words(hamlet: AdminUnit, ending) -> str:
    """How a merge or a split after the plan's day ended the hamlet: "Khu vực 2 was merged into Khu vực 1 from
    01/03/2026"."""
    into = ", ".join(u.name for u in ending.into)
    if ending.kind == "merge":
        return gettext("%(name)s was merged into %(into)s from %(date)s", name=hamlet.name, into=into,
                       date=message_date(ending.on))
    return gettext("%(name)s was split into %(into)s from %(date)s", name=hamlet.name, into=into,
                   date=message_date(ending.on))


def _joined_by_changes(group: list[AdminUnit], endings: dict, codes: set[str]) -> Problem:
    """Hamlets a merge or a split joined after the plan's day, sent by its lines to several new communes: which
    change is in the way, and what to do."""
    ended = sorted((h for h in group if h.id in endings), key=lambda h: (endings[h.id].on, h.id))
    changes = "; ".join(_ending_words(h, endings[h.id]) for h in ended)
    return _("%(changes)s, after the plan's day, so they go to one new commune, not to %(codes)s: give their lines "
             "the same new code.", changes=changes, codes=", ".join(sorted(codes)))


def _follow_areas(plan: Plan) -> None:
    """What becomes of each area of the old provinces: every current one, made before the plan's day or since
    (an area made after it groups the same communes the plan ends). A new commune goes into an area when all it
    takes in was that area's; one taking in communes of several areas, or of an area and of none, is in none:
    which it belongs to is the province's choice, not the plan's guess."""
    areas = db.session.scalars(sa.select(AdminUnit).where(
        sa.or_(*[AdminUnit.within(p) for p in plan.old_provinces.values()]), AdminUnit.level == "area",
        AdminUnit.retired_on.is_(None)).order_by(AdminUnit.id)).all()
    for area in areas:
        plan.areas[area.id] = AreaFate(area, area.name)
    sources: dict[str, set[int | None]] = defaultdict(set)
    for commune_id, codes in plan.commune_targets.items():
        commune = db.session.get(AdminUnit, commune_id)
        area_id = commune.parent_id if commune.parent_id in plan.areas else None
        if area_id is not None:
            plan.areas[area_id].communes.append(commune)
        for code in codes:
            sources[code].add(area_id)
    for code, held in sources.items():
        if len(held) == 1 and None not in held:
            plan.areas[next(iter(held))].holds.add(code)
        elif held != {None}:
            plan.communes_in_no_area[code] = held
    _name_areas(plan)


def _name_areas(plan: Plan) -> None:
    """Two old provinces going into one may each have an area of the same name that carries on: the area of the
    old province whose code the new one takes keeps it (else the first made), the other says whose it was, by its
    old province's name as people say it: "Khu vực Trung tâm (Sóc Trăng)"."""
    def named_first(fate: AreaFate) -> tuple[bool, int]:
        code = _old_province(plan, fate.area).code
        return plan.new_provinces[code] != code, fate.area.id

    names: dict[str, set[str]] = defaultdict(set)   # new province's code -> the folded names of its areas
    for fate in sorted((f for f in plan.areas.values() if f.carries_on), key=named_first):
        old_province = _old_province(plan, fate.area)
        taken = names[plan.new_provinces[old_province.code]]
        if fold(fate.new_name) in taken:
            fate.new_name = f"{fate.area.name} ({official.without_kind(old_province.name)})"
        taken.add(fold(fate.new_name))


def _outside(plan: Plan, line: PlanLine, problem: Problem) -> None:
    line.errors.append(problem)
    plan.outside = True


def _elsewhere(unit: AdminUnit, only: AdminUnit) -> Problem:
    return _("%(name)s (%(code)s) lies in %(province)s, not in your province (%(own)s): you apply a plan of your own "
             "province only. A plan that merges several provinces is applied by the administrator.",
             name=unit.name, code=unit.code or "-", province=db.session.get(AdminUnit, unit.province_id).name,
             own=only.name)


def _successors(province: AdminUnit, day: date) -> set[str]:
    """The codes a province may go on under in its staff's plan: its own, and the new province the official links
    lead it into (Hậu Giang's 93: Cần Thơ's 92)."""
    try:
        return {province.code or "", draft_province_code(province, day)} - {""}
    except ValueError:
        return {province.code or ""} - {""}


def _old_province(plan: Plan, unit: AdminUnit) -> AdminUnit:
    return next(p for p in plan.old_provinces.values() if p.id == unit.province_id)


def _miscoded(plan: Plan, unknown: list[tuple[PlanLine, Problem]], before: date) -> set[int]:
    """The communes of the plan's old provinces that lines name by their old name beside a code no unit bears (a
    typo): such a line says the code the commune has instead of only that its code is unknown."""
    if not unknown or not plan.old_provinces:
        return set()
    communes = db.session.scalars(sa.select(AdminUnit).where(
        sa.or_(*[AdminUnit.within(p) for p in plan.old_provinces.values()]), AdminUnit.level == "commune",
        AdminUnit.valid_on_clause(before))).all()
    by_name: dict[str, list[AdminUnit]] = defaultdict(list)
    for commune in communes:
        by_name[fold(commune.name)].append(commune)
    found = set()
    for line, problem in unknown:
        named = by_name.get(fold(line.old_name)) if line.old_name else None
        if not named or len(named) > 1:
            continue
        commune = named[0]
        line.errors = [_("There is no code %(code)s; does %(name)s have the code %(real)s?", code=line.old_code,
                         name=commune.name, real=commune.code or "-") if e is problem else e
                       for e in line.errors]
        found.add(commune.id)
    return found


def _line_by_no(lines: list[PlanLine], number: int) -> PlanLine:
    return next(line for line in lines if line.line == number)


def _new_unit(plan: Plan, line: PlanLine, province_code: str, day: date) -> None:
    if line.new_code in plan.new_units:
        return
    listed = {u.code: u for u in official.province_units(province_code, day)} if official.two_levels(day) else {}
    known = listed.get(line.new_code)
    name = line.new_name or (known.name if known else "")
    if not name:
        line.errors.append(_("The new unit %(code)s needs a name.", code=line.new_code))
        return
    if province_code not in plan.new_units:
        province = listed.get(province_code)
        plan.new_units[province_code] = (province.name if province else province_code, "province",
                                         province.kind if province else None, "")
    plan.new_units[line.new_code] = (name, "commune", known.kind if known else None, province_code)


def _check_overlaps(plan: Plan, day: date) -> None:
    """A plan dated on or before a reorganization already applied to one of its provinces is refused."""
    ids = [p.id for p in plan.old_provinces.values()]
    later = db.session.scalar(sa.select(Reorganization).join(
        UnitSuccession, UnitSuccession.reorganization_id == Reorganization.id).where(
        UnitSuccession.old_unit_id.in_(ids), Reorganization.effective_on >= day).limit(1))
    if later is not None:
        plan.errors.append(_("This plan overlaps the reorganization effective on %(day)s.",
                             day=message_date(later.effective_on)))


def _check_new_codes(plan: Plan, day: date) -> None:
    """A new code already borne on that day by a unit outside the plan's old units is refused."""
    old_ids = {p.id for p in plan.old_provinces.values()}
    for code in plan.new_units:
        unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code, AdminUnit.valid_on_clause(day))
                                 .limit(1))
        if unit is None or int(unit.path.strip("/").split("/")[0]) in old_ids:
            continue
        first = _visits_under(unit)
        if first is not None:
            plan.errors.append(_("Visits were already logged on the new unit %(name)s (%(code)s) since %(day)s: "
                                 "a plan cannot come after them.", name=unit.name, code=code,
                                 day=message_date(first)))
        else:
            plan.errors.append(_("The code %(code)s is already borne on %(day)s by %(name)s.", code=code,
                                 day=message_date(day), name=unit.name))


def _check_account(plan: Plan, line: PlanLine, listed: dict) -> None:
    from app.auth.models import ROLE_LEVELS, User
    # Only the accounts of the plan's provinces: one elsewhere is as unknown as one that does not exist, so a plan
    # tells nobody which usernames other provinces hold.
    user = db.session.scalar(sa.select(User).where(User.username == line.account, User.unit_id.in_(
        sa.select(AdminUnit.id).where(sa.or_(*[AdminUnit.within(p) for p in plan.old_provinces.values()])))))
    if user is None:
        line.errors.append(_("No account is named %(username)s.", username=line.account))
        return
    if line.new_code and line.new_code not in plan.new_units:
        line.errors.append(_("The code %(code)s is not a new unit of this plan.", code=line.new_code))
        return
    # An area has no code: an account line names one that carries on by its name, in the new unit's name column.
    area = None
    if not line.new_code and line.new_name:
        area = next((fate.area for fate in plan.areas.values()
                     if fate.carries_on and fold(fate.new_name) == fold(line.new_name)), None)
        if area is None:
            line.errors.append(_("No area of this plan carries on under the name %(name)s: name one that does, or "
                                 "leave the new unit's name empty to deactivate the account.", name=line.new_name))
            return
    level = "area" if area is not None else plan.new_units[line.new_code][1] if line.new_code else None
    if level and level not in ROLE_LEVELS.get(user.role, ("province",)) and user.role != "admin":
        line.errors.append(_("%(name)s's role needs a unit of another level.", name=user.shown_name))
        return
    if line.account in listed:
        line.errors.append(_("%(name)s is already on line %(line)d.", name=user.shown_name, line=listed[line.account]))
        return
    listed[line.account] = line.line
    if area is not None:
        plan.area_accounts[line.account] = area.id
    else:
        plan.accounts[line.account] = line.new_code


# ---------------------------------------------------------------------------------------------
# Applying a checked plan.

@dataclass
class Outcome:
    reorganization: Reorganization
    created: list[AdminUnit]
    retired: list[AdminUnit]
    hamlets_moved: int
    teams: list[tuple]      # team, old commune, new commune, their codes
    accounts: list[tuple]   # username, what happened, unit, the old unit's code, the new one's, the person's name


def _former_ancestors(moves: list[tuple[AdminUnit, AdminUnit]], day: date) -> None:
    """Date the ancestors each hamlet leaves for its new parent: they keep counting its events before
    `day` only. One statement per set of ancestors left (the hamlets of one old commune share it)."""
    by_leaving: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for hamlet, new_parent in moves:
        old = {int(p) for p in hamlet.path.strip("/").split("/")[:-1]}
        new = {int(p) for p in new_parent.path.strip("/").split("/")}
        leaving = tuple(sorted(old - new))
        if leaving:
            by_leaving[leaving].append(hamlet.id)
    for leaving, hamlet_ids in by_leaving.items():
        db.session.execute(sa.text(
            "UPDATE unit_ancestors SET until = :day WHERE until IS NULL AND unit_id IN ({}) "
            "AND ancestor_id IN ({})".format(", ".join(str(i) for i in hamlet_ids),
                                              ", ".join(str(i) for i in leaving))), {"day": day})


def _moved_since(hamlet_ids: list[int]) -> dict[int, date]:
    """The day each of these hamlets came under its commune, for those an earlier plan moved: its last move."""
    out: dict[int, date] = {}
    for chunk in chunks(hamlet_ids):
        out.update(db.session.execute(sa.select(UnitPlacement.unit_id, sa.func.max(UnitPlacement.valid_to))
                                      .where(UnitPlacement.unit_id.in_(chunk))
                                      .group_by(UnitPlacement.unit_id)).all())
    return out


def _carry_hamlet_changes(plan: Plan, created: dict[str, AdminUnit], day: date) -> None:
    """The hamlet changes the old communes recorded from the plan's day on were the new communes' (their hamlets
    were theirs from then): their history, and the figures that read it, name the commune each hamlet went to."""
    moved: dict[tuple[int, str], list[int]] = defaultdict(list)
    for hamlet, old_commune, code in plan.hamlet_moves:
        moved[(old_commune.id, code)].append(hamlet.id)
    for (old_id, code), hamlet_ids in moved.items():
        for chunk in chunks(hamlet_ids):
            db.session.execute(sa.update(HamletChange).where(
                HamletChange.commune_id == old_id, HamletChange.effective_on >= day,
                HamletChange.from_unit_id.in_(chunk)).values(commune_id=created[code].id)
                .execution_options(synchronize_session=False))


def _recount(unit_ids: set[int]) -> None:
    """Recompute these units' coverage tallies, as `flask coverage verify` would find them."""
    from app.coverage import hamlet_recount
    hamlet_recount.recount(unit_ids)


def apply_plan(plan: Plan, user=None) -> Outcome:
    """Apply a checked plan in the caller's transaction (which commits, or rolls back on a dry run)."""
    from app.auth.models import User
    from app.teams.models import Team
    from app.units.hamlet_changes import endings_of
    if not plan.ok:
        raise ValueError("refusing to apply a plan with problems")
    day = plan.effective_on
    before = day - timedelta(days=1)
    # End the old units first: the new ones may take their codes (one current bearer per code).
    retired: list[AdminUnit] = []
    old_ids: set[int] = set()
    for province in plan.old_provinces.values():
        # Its areas made since the day before too (_follow_areas): one made after the plan's day ends on it all
        # the same, having stood on no day under the old province.
        for unit in db.session.scalars(sa.select(AdminUnit).where(
                AdminUnit.within(province), AdminUnit.level != "hamlet",
                sa.or_(AdminUnit.valid_on_clause(before), AdminUnit.id.in_(list(plan.areas))))
                .order_by(AdminUnit.depth, AdminUnit.id)):
            unit.retired_on = day
            retired.append(unit)
            old_ids.add(unit.id)
    db.session.flush()

    created: dict[str, AdminUnit] = {}
    # The provinces, then the areas that carry on, then the communes under their area or their province.
    for code, (name, level, kind, _parent) in plan.new_units.items():
        if level == "province":
            created[code] = unit_ops.create_unit(name, level, None, code, user=user)
            created[code].kind, created[code].valid_from = kind, day
    db.session.flush()
    areas_made = _make_areas(plan, created, day, user)
    area_of = {code: areas_made[area_id] for area_id, fate in plan.areas.items() if fate.carries_on
               for code in fate.holds}
    for code, (name, level, kind, parent_code) in plan.new_units.items():
        if level == "province":
            continue
        unit = unit_ops.create_unit(name, level, area_of.get(code) or created[parent_code], code, user=user)
        unit.kind, unit.valid_from = kind, day
        created[code] = unit
    db.session.flush()

    reorg = Reorganization(province_id=created[next(iter(plan.new_provinces.values()))].id, effective_on=day,
                           source_name=plan.source_name[:255], applied_by_id=getattr(user, "id", None), summary={})
    db.session.add(reorg)
    db.session.flush()

    # Every hamlet at once: its placement until the day (since an earlier plan moved it, if one did: placements
    # of one hamlet never overlap, or its map of a day before would name two communes), its former ancestors
    # dated (before the path changes, whose trigger keeps dated rows), then its new path. A hamlet a split made
    # after the day never stood under the old commune on a day it stood: it has neither.
    stood = [(hamlet, old, code) for hamlet, old, code in plan.hamlet_moves
             if hamlet.valid_from is None or hamlet.valid_from < day]
    moved_since = _moved_since([hamlet.id for hamlet, _old, _code in stood])
    db.session.add_all([UnitPlacement(unit_id=hamlet.id, parent_id=old_commune.id,
                                      valid_from=moved_since.get(hamlet.id, hamlet.valid_from), valid_to=day)
                        for hamlet, old_commune, _code in stood])
    db.session.flush()
    _former_ancestors([(hamlet, created[code]) for hamlet, _old, code in stood], day)
    for hamlet, _old_commune, code in plan.hamlet_moves:
        hamlet.place_under(created[code])
    db.session.flush()
    _carry_hamlet_changes(plan, created, day)
    touched = old_ids | {u.id for u in created.values()} | {u.id for u in areas_made.values()}
    if plan.hamlet_moves:
        _recount(touched)

    for commune_id, codes in plan.commune_targets.items():
        for code in sorted(codes):
            db.session.add(UnitSuccession(reorganization_id=reorg.id, old_unit_id=commune_id,
                                          new_unit_id=created[code].id, split=len(codes) > 1))
    for old_code, new_code in plan.new_provinces.items():
        db.session.add(UnitSuccession(reorganization_id=reorg.id, old_unit_id=plan.old_provinces[old_code].id,
                                      new_unit_id=created[new_code].id, split=False))

    # Teams follow their hamlets: to the new commune holding most of them (the whole commune's heir
    # when it went whole).
    from app.teams.models import TeamPlacement, team_hamlets
    moved_to = {h.id: created[c] for h, _o, c in plan.hamlet_moves}
    teams_out = []
    moved_before = dict(db.session.execute(
        sa.select(TeamPlacement.team_id, sa.func.max(TeamPlacement.valid_to))
        .join(Team, Team.id == TeamPlacement.team_id).where(Team.commune_id.in_(old_ids))
        .group_by(TeamPlacement.team_id)).all())
    for team in db.session.scalars(sa.select(Team).where(Team.commune_id.in_(old_ids)).order_by(Team.id)):
        targets = plan.commune_targets.get(team.commune_id, set())
        if len(targets) == 1:
            dest = created[next(iter(targets))]
        else:
            hamlets = db.session.scalars(sa.select(team_hamlets.c.hamlet_id).where(
                team_hamlets.c.team_id == team.id)).all()
            votes = Counter(moved_to[h].id for h in hamlets if h in moved_to)
            dest_id = votes.most_common(1)[0][0] if votes else created[sorted(targets)[0]].id
            dest = next(u for u in created.values() if u.id == dest_id)
        old = db.session.get(AdminUnit, team.commune_id)
        record("move", "team", team.id, dest.id, before={"commune": old.name, "commune_id": old.id},
               after={"commune": dest.name, "commune_id": dest.id, "on": day.isoformat()}, user=user)
        # Where it was until the effective day, for the map as it was (since its previous move, if any).
        db.session.add(TeamPlacement(team_id=team.id, commune_id=old.id, valid_from=moved_before.get(team.id),
                                     valid_to=day))
        team.commune_id = dest.id
        teams_out.append((team.name, old.name, dest.name, old.code, dest.code))

    # Members' phones are unique per province (the database refuses a second active one): they
    # belong to the new province now, so a number taken there is still refused.
    from app.teams.models import Member
    for old_code, new_code in plan.new_provinces.items():
        db.session.execute(sa.update(Member).where(Member.province_id == plan.old_provinces[old_code].id)
                           .values(province_id=created[new_code].id).execution_options(synchronize_session=False))

    carried = {}
    for old_code, new_code in plan.new_provinces.items():
        # The same province going on under a new unit: a later reorganization of the two-level map. (On the
        # reform's own day a new province that reuses an old one's code is another province: Tiền Giang's 82 is
        # Đồng Tháp's from 1 July 2025, and sets its own targets.)
        if old_code == new_code and official.two_levels(before):
            carried = _carry_province_settings(plan.old_provinces[old_code], created[new_code])

    # Who was bound to each area, to say what became of its officers.
    areas = [u for u in retired if u.level == "area"]
    officers: dict[int, list[str]] = defaultdict(list)
    for username, unit_id in db.session.execute(sa.select(User.username, User.unit_id).where(
            User.unit_id.in_([a.id for a in areas])).order_by(User.username)):
        officers[unit_id].append(username)
    accounts_out = []
    for account in db.session.scalars(sa.select(User).where(User.unit_id.in_(old_ids)).order_by(User.username)):
        if account.username in plan.area_accounts:
            dest = areas_made[plan.area_accounts[account.username]]
        elif account.username in plan.accounts:
            code = plan.accounts[account.username]
            dest = created.get(code) if code else None
        elif account.team_id is not None:
            dest = db.session.get(AdminUnit, db.session.get(Team, account.team_id).commune_id)
        else:
            dest = _heir(plan, created, account, areas_made)
        old = db.session.get(AdminUnit, account.unit_id)
        if dest is None:
            if account.is_enabled:
                account.is_enabled = False
                account.end_sessions()
            record("disable", "user", account.id, old.id, before={"is_enabled": True, "unit": old.name},
                   after={"is_enabled": False, "username": account.username, "reason": "reorganization"}, user=user)
            accounts_out.append((account.username, "deactivated", old.name, old.code, None, account.full_name))
        else:
            account.unit_id = dest.id
            record("update", "user", account.id, dest.id, before={"unit": old.name},
                   after={"unit": dest.name, "username": account.username}, user=user)
            accounts_out.append((account.username, "moved", dest.name, old.code, dest.code, account.full_name))

    reorg.summary = {
        "effective_on": day.isoformat(),
        "created": [[u.code, u.name] for u in created.values()],
        "retired": [[u.code, u.name] for u in retired],
        "hamlets_moved": len(plan.hamlet_moves),
        "teams": [list(t) for t in teams_out],
        "accounts": [list(a) for a in accounts_out],
        "carried": carried,
        # Each area: its old communes, who was bound to it, and the name it goes on under with the new communes it
        # holds (None, []: it ended); the new communes that took in communes of several areas, or of one and of none.
        "areas_ended": [u.name for u in areas if u.id not in areas_made],
        "areas": [[area.name, [[u.code, u.name] for u in retired if u.parent_id == area.id and u.level == "commune"],
                   officers[area.id], areas_made[area.id].name if area.id in areas_made else None,
                   [[code, created[code].name] for code in sorted(plan.areas[area.id].holds)]
                   if area.id in areas_made else []] for area in areas],
        "communes_in_no_area": [[code, created[code].name,
                                 sorted((plan.areas[a].area.name for a in held if a), key=sort_key), None in held]
                                for code, held in sorted(plan.communes_in_no_area.items())],
        "provinces": [[old_code, plan.old_provinces[old_code].name, new_code, created[new_code].name]
                      for old_code, new_code in plan.new_provinces.items()],
        "districts_ended": [[u.code, u.name] for u in retired if u.level == "district"],
        **record_communes(plan.commune_targets, plan.hamlet_moves, created,
                          {u.id: u for u in retired if u.level == "commune"}),
        "hamlets_ended": record_ended_hamlets(plan.hamlet_moves, created, endings_of(
            [hamlet.id for hamlet, _old, _code in plan.hamlet_moves if hamlet.retired_on is not None])),
    }
    record("reorganize", "unit", reorg.id, reorg.province_id, after={
        "effective_on": day.isoformat(), "source": plan.source_name, "created": len(created),
        "retired": len(retired), "hamlets_moved": len(plan.hamlet_moves)}, user=user)
    return Outcome(reorg, list(created.values()), retired, len(plan.hamlet_moves), teams_out, accounts_out)


def _carry_province_settings(old: AdminUnit, new: AdminUnit) -> dict[str, int]:
    """What a province set for itself goes on with it when it keeps its code under a new unit: its services'
    target milestones, its adult-indicator milestones and its own class topics are copied to the new unit (the
    old one keeps its own, for the months before). How many of each were carried."""
    from app.activities.models import Topic
    from app.coverage.models import AdultTarget
    from app.visits.models import Target
    copies = {
        "targets": [Target(service_id=t.service_id, province_id=new.id, share=t.share, due_on=t.due_on)
                    for t in db.session.scalars(sa.select(Target).where(Target.province_id == old.id))],
        "adult_targets": [AdultTarget(province_id=new.id, indicator=t.indicator, share=t.share, due_on=t.due_on)
                          for t in db.session.scalars(sa.select(AdultTarget).where(AdultTarget.province_id == old.id))],
        "topics": [Topic(province_id=new.id, code=t.code, name=t.name, name_en=t.name_en, position=t.position,
                         active=t.active)
                   for t in db.session.scalars(sa.select(Topic).where(Topic.province_id == old.id))],
    }
    for rows in copies.values():
        db.session.add_all(rows)
    db.session.flush()
    return {kind: len(rows) for kind, rows in copies.items()}


def _make_areas(plan: Plan, created: dict[str, AdminUnit], day: date, user=None) -> dict[int, AdminUnit]:
    """Each area that carries on, made again under its new province from the plan's day (or from the day it was
    made, if later): old area id -> the new one."""
    made = {}
    for area_id, fate in plan.areas.items():
        if not fate.carries_on:
            continue
        province = created[plan.new_provinces[_old_province(plan, fate.area).code]]
        unit = unit_ops.create_unit(fate.new_name, "area", province, user=user)
        unit.valid_from = max(day, fate.area.valid_from or day)
        made[area_id] = unit
    db.session.flush()
    return made


def _heir(plan: Plan, created: dict[str, AdminUnit], account, areas_made: dict[int, AdminUnit]) -> AdminUnit | None:
    """Where an account of an ended unit goes when the plan does not say: the one successor of its
    unit at its role's level (an area's officer: the area, where it carries on), or nowhere (a district
    officer; an officer of a split commune or of an area that ends)."""
    unit = db.session.get(AdminUnit, account.unit_id)
    if unit.level == "area":
        return areas_made.get(unit.id)
    if unit.level == "province":
        code = plan.new_provinces.get(unit.code)
        return created.get(code) if code else None
    if unit.level == "commune":
        targets = plan.commune_targets.get(unit.id, set())
        return created[next(iter(targets))] if len(targets) == 1 else None
    return None


# ---------------------------------------------------------------------------------------------
# A draft plan from the official links, for the province to review and complete.

def draft_rows(new_province_code: str, day: date) -> list[list]:
    """Lines of a plan for a new province from the official old -> new links (the order of plan_sheet.HEADER).

    A split commune gets one line per hamlet it has in the database, its new code left for the
    province to choose among the official candidates written in the name column. A province already on
    the two-level map, which the links lead to and no further, gets its communes as they stand instead.
    """
    before = day - timedelta(days=1)
    current = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == new_province_code, AdminUnit.level == "province", AdminUnit.valid_on_clause(before)))
    if current is not None and current.valid_from is not None and official.two_levels(current.valid_from):
        return _rows_as_they_stand(current, day)
    links = official.links_into(new_province_code)
    new_names = {u.code: u.name for u in official.province_units(new_province_code, day)}
    old_provinces = sorted({link.old_province_code for link in links})
    rows = [[day, code, "", "", new_province_code, new_names[new_province_code], ""]
            for code in old_provinces]
    by_old: dict[str, list[str]] = defaultdict(list)
    for link in links:
        by_old[link.old_code].append(link.new_code)
    for old_code in sorted(by_old):
        targets = sorted(set(by_old[old_code]))
        unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == old_code,
                                                            AdminUnit.valid_on_clause(day - timedelta(days=1))))
        old_name = unit.name if unit else ""
        if len(targets) == 1:
            rows.append([day, old_code, old_name, "", targets[0], new_names.get(targets[0], ""), ""])
            continue
        choices = " | ".join(f"{c} {new_names.get(c, '')}" for c in targets)
        # Its hamlets of today; one ended since the day by a merge or a split goes with the hamlets it went into.
        groups, endings = _hamlet_groups(unit, day) if unit else ([], {})
        hamlets = [hamlet for group in groups for hamlet in _named_for(group, endings)]
        for hamlet in sorted(hamlets, key=lambda h: fold(h.name)) or [None]:
            rows.append([day, old_code, old_name, hamlet.name if hamlet else "", "", choices, ""])
    return rows


def _rows_as_they_stand(province: AdminUnit, day: date) -> list[list]:
    """A plan that changes nothing: the province and each of its communes to itself, for its staff to
    change the lines of the communes that change."""
    communes = db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.within(province), AdminUnit.level == "commune",
        AdminUnit.valid_on_clause(day - timedelta(days=1))).order_by(AdminUnit.code)).all()
    return [[day, unit.code or "", unit.name, "", unit.code or "", unit.name, ""]
            for unit in [province, *communes]]


def on_two_level_map(province: AdminUnit) -> bool:
    """Whether the province came with the two-level list (or a later reorganization), beyond the official links."""
    return province.valid_from is not None and official.two_levels(province.valid_from)


def draft_province_code(province: AdminUnit, day: date) -> str:
    """The code whose draft the staff of `province` get for a plan effective on `day`: the new province that takes
    it in by the official links, or its own once it is on the two-level map. ValueError saying what to choose
    or do instead, when there is none."""
    if not province.code:
        raise ValueError(_("No official link leads from %(name)s to a province of the list in force: write the "
                           "plan yourself, one line per commune.", name=province.name))
    if on_two_level_map(province):
        if day <= province.valid_from:
            raise ValueError(_("%(name)s is on the map from %(day)s: a plan for it takes effect after that day.",
                               name=province.name, day=message_date(province.valid_from)))
        return province.code
    if not official.two_levels(day):
        raise ValueError(_("The official links lead to the list in force from %(day)s: choose that day or a "
                           "later one.", day=message_date(official.TWO_LEVELS_FROM)))
    elsewhere = official.province_in_the_other_list(province.code, day)
    if elsewhere is None or elsewhere.successor is None:
        raise ValueError(_("No official link leads from %(name)s to a province of the list in force: write the "
                           "plan yourself, one line per commune.", name=province.name))
    return elsewhere.successor[0]


def draft_default_day(province: AdminUnit) -> date:
    """The day a province's draft is first offered for: the reform's, or for a province already on the two-level
    map the first day of next month (a reorganization takes effect on a month's first day)."""
    if not on_two_level_map(province):
        return official.TWO_LEVELS_FROM
    today = today_vn()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def province_draft(province: AdminUnit, day: date) -> list[list]:
    """The draft of `draft_rows` kept to the lines of this province and its communes (the links also name the
    other provinces that go into the same new one, which its staff neither see nor reorganize)."""
    rows = draft_rows(draft_province_code(province, day), day)
    held = {province.code} | set(db.session.scalars(sa.select(AdminUnit.code).where(
        AdminUnit.within(province), AdminUnit.code.is_not(None), AdminUnit.valid_on_clause(day - timedelta(days=1)))))
    return [row for row in rows if row[1] in held]


def describe(outcome: Outcome, preview: bool = False) -> Description:
    """What applying did, for the CLI and the pages; `preview`: what it would do, said so, for a plan not applied."""
    return describe_summary(outcome.reorganization.summary, preview=preview)
