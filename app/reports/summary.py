"""The monthly (or quarterly) summary of a unit: one set of figures behind the page, the exports, the CLI
and the API.

`compute_figures` counts everything for a subtree once (plain counts, JSON-ready, also what a
month closing stores); `build_summary` turns those counts into the rows a report shows.
"""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.dates import VN, month_start, today_vn
from app.extensions import db
from app.reports import queries
from app.reports.periods import Period
from app.text import sort_key
from app.units.models import AdminUnit

COUNT_KEYS = ("teams", "active_teams", "members", "visits", "reached_month", "households", "reached")
LEVEL_NAMES = {"province": _l("Province"), "district": _l("District"), "area": _l("Commune area"),
               "commune": _l("Commune"), "hamlet": _l("Hamlet")}
LEVEL_RANK = {level: i for i, level in enumerate(("province", "district", "area", "commune", "hamlet"))}
LEVEL_PLURALS = {"province": _l("Provinces"), "district": _l("Districts"), "area": _l("Commune areas"),
                 "commune": _l("Communes"), "hamlet": _l("Hamlets")}


def level_name(level: str) -> str:
    return str(LEVEL_NAMES.get(level, level))


class MonthError(ValueError):
    """A month that cannot be reported: malformed or not yet begun."""


def check_month(value: str | None) -> tuple[int, int]:
    """'2024-10' (or '10/2024') -> (2024, 10), or MonthError with a message for the user."""
    from flask_babel import gettext as _

    from app.dates import parse_month
    parsed = parse_month((value or "").strip())
    if parsed is None:
        raise MonthError(_("Enter the month as YYYY-MM (or MM/YYYY), for example 2024-10."))
    if month_start(*parsed) > today_vn():
        raise MonthError(_("This month has not begun yet; choose the current or an earlier month."))
    return parsed


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _needed(units: list[AdminUnit], root: AdminUnit, full: bool) -> set[int]:
    """Units the report shows: every level below the root except hamlets, unless they are the
    level directly below it; `full` (a month closing) keeps every unit, so any unit's report of
    that month can be served from the snapshot."""
    return {u.id for u in units
            if full or u.level != "hamlet" or u.parent_id == root.id or u.id == root.id}


@dataclass
class _Placed:
    """A unit where it stood in the month reported (its parent and depth then)."""
    id: int
    code: str | None
    name: str
    level: str
    parent_id: int | None
    depth: int
    retired_on: date | None = None


def _units_then(root: AdminUnit, end: date) -> list[_Placed]:
    from app.units.history import map_on
    tree = map_on(root, end)
    return [_Placed(u.id, u.code, u.name, u.level, tree.parents.get(u.id, root.parent_id), tree.depths[u.id])
            for u in tree.units.values()]


def compute_figures(root: AdminUnit, year: int, month: int, full: bool = False, as_then: bool = False,
                    first: int | None = None) -> dict:
    """Counts for the root and the units below it that a report shows, as plain JSON-ready data.
    The month `month`, or months `first` to `month` of the year (a quarter: app/reports/periods.py):
    activity over them all, what stands at a date at the end of the last.

    Activity in the month comes from app.reports.queries; cumulative households, reach and
    adoptions at the end of the month come from app.coverage.queries (the one coverage computation).
    `as_then`: the units as the map was at the end of the month (app.coverage.maps), not today's.
    """
    from app.coverage.maps import coverage_then
    from app.coverage.queries import coverage
    from app.coverage.queries import coverage as coverage_today

    period = Period(year, first or month, month)
    end = period.end
    if as_then:
        units = _units_then(root, end)
        ended = queries.hamlets_ended_during([u.id for u in units], period)
        units += _ended_placed(units, ended)
        within = [u.id for u in units]

        def coverage(unit, on):  # noqa: F811 - the same table, on the map of the month
            return coverage_then(unit, on).table
    else:
        # Units retired by the end of the month no longer count, with everything below them; but a hamlet a merge
        # or a split ended during it stood on its first days, and its visits of those days are the month's.
        ended = queries.hamlets_ended_during(root, period)
        retired: set[int] = set()
        units = []
        for u in queries.subtree_units(root):
            if u.id != root.id and (u.parent_id in retired or (u.retired_on is not None and u.retired_on <= end
                                                              and u.id not in ended)):
                retired.add(u.id)
            elif u.level == "hamlet" and u.valid_from is not None and u.valid_from > end:
                # A hamlet a merge or a split made after the period: not yet there, its households' visits of the
                # period are the hamlet they were in then (as the coverage page of that month has them).
                retired.add(u.id)
            else:
                units.append(u)
        within = root
    needed = _needed(units, root, full)
    services = queries.report_services(root.province_id, end)
    visits, reached_month, teams_in_hamlet, active_teams = queries.period_activity(within, period)
    new = queries.new_adoptions_in(within, period)
    teams_c = queries.teams_by_commune(within, end, active_teams, in_time=as_then)
    teams_h = queries.teams_by_hamlet(within, end, teams_in_hamlet)

    children: dict[int, list[int]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)

    cumulative: dict[int, tuple[int, int, dict[str, int]]] = {}

    def keep(row) -> tuple[int, int, dict[str, int]]:
        by_code = {code: f.adopted for code, f in row.services.items()}
        return row.households, row.reached, by_code

    for u in units:
        if u.id in needed and any(c in needed for c in children.get(u.id, [])):
            table = coverage(db.session.get(AdminUnit, u.id) if as_then else u, end)
            cumulative[u.id] = keep(table.total)
            for r in table.rows:
                if r.unit is not None:
                    cumulative[r.unit.id] = keep(r)
    if root.id not in cumulative:
        cumulative[root.id] = keep(coverage(root, end).total)
    for hamlet in units:
        if hamlet.id in ended and hamlet.id in needed and hamlet.id not in cumulative:
            # No household is counted in it at the end; what its households took up before the change is its own,
            # as the commune's total counts it (app.coverage.queries.coverage: a carried hamlet).
            _households, reached, by_code = keep(coverage_today(db.session.get(AdminUnit, hamlet.id), end).total)
            cumulative[hamlet.id] = 0, reached, by_code
    code_of = {s["id"]: s["code"] for s in services}

    figures: dict[int, dict] = {}
    # Deepest first, so every child's activity is complete before its parent sums it.
    for u in sorted(units, key=lambda u: -u.depth):
        f = {k: 0 for k in COUNT_KEYS}
        f["new"] = {}
        if u.level == "hamlet":
            f["visits"], f["reached_month"] = visits.get(u.id, 0), reached_month.get(u.id, 0)
            f["new"] = {code_of[s]: n for s, n in new.get(u.id, {}).items() if s in code_of}
            f["teams"], f["active_teams"], f["members"] = teams_h.get(u.id, (0, 0, 0))
        else:
            for cid in children.get(u.id, []):
                cf = figures[cid]
                for k in ("visits", "reached_month"):
                    f[k] += cf[k]
                if u.level != "commune":  # teams belong to communes; above them they add up
                    for k in ("teams", "active_teams", "members"):
                        f[k] += cf[k]
                for s, n in cf["new"].items():
                    f["new"][s] = f["new"].get(s, 0) + n
            if u.level == "commune":
                f["teams"], f["active_teams"], f["members"] = teams_c.get(u.id, (0, 0, 0))
        if u.id in cumulative:
            f["households"], f["reached"], f["adopted"] = cumulative[u.id]
        figures[u.id] = f
    _count_movers_once(figures, units, within, period, ended)
    # A commune a household moved in with a service it used already: its report says where new adoptions count.
    parent_of = {u.id: u.parent_id for u in units}
    for hamlet_id in queries.hamlets_adopters_moved_into(within, period):
        if parent_of.get(hamlet_id) in figures:
            figures[parent_of[hamlet_id]]["moved_new"] = True
    # The adult indicators of every unit shown: a measure of their own, beside the household figures.
    from app.coverage.adults import adult_months, adult_months_then, adult_targets
    # On the map as it was the rows are placements; the adult figures are those of the units that stood
    # below each one then, as the coverage page's adult section counts them on that map.
    shown = [u for u in units if u.id in needed]
    if as_then:
        shown = list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_([u.id for u in shown]))))
    for uid, by_month in (adult_months_then if as_then else adult_months)(shown, period.months).items():
        figures[uid]["adults"] = _over_period([by_month[m] for m in period.months])
        if uid in ended:  # no adult is counted in it at the end either (the commune counts its hamlets then)
            figures[uid]["adults"].update(adults=0, named_share=None)
    # What a commune's hamlet rows count beyond its total (a learner in two hamlets, a class another commune recorded
    # in one), so that its figures in no hamlet, a row of their own, are its total less its hamlets plus these.
    hamlet_commune = {u.id: u.parent_id for u in units
                      if u.level == "hamlet" and u.id in needed and u.parent_id in needed and u.id in figures}
    for commune_id, beyond in queries.hamlets_beyond_commune(hamlet_commune, period, heirs=not as_then).items():
        beyond["working"] = {code_of[s]: n for s, n in beyond["working"].items() if s in code_of}
        figures[commune_id]["hamlets_beyond"] = beyond
    endings_now = _endings([u.id for u in units if u.id in ended and u.id in needed])
    return {
        "year": year, "month": month, "root_id": root.id, **({"first": period.first} if first else {}),
        "services": services,
        "adult_targets": {t.indicator: {"share": float(t.share), "date": t.due_on.isoformat()}
                          for t in adult_targets(root.province_id, end).values()},
        # A hamlet that ended during the period says from when (its row is the period's first days), and where its
        # households went as the hamlets were named then: a closed month's report keeps it (hamlet_changes.endings_of).
        "units": {str(u.id): {"id": u.id, "code": u.code, "name": u.name, "level": u.level,
                              "parent_id": u.parent_id, "depth": u.depth,
                              **({"ended_on": u.retired_on.isoformat(), "ending": endings_now.get(u.id)}
                                 if u.id in ended else {})}
                  for u in units if u.id in needed},
        "figures": {str(k): v for k, v in figures.items() if k in needed},
    }


def _ended_placed(units: list[_Placed], ended: dict[int, int]) -> list[_Placed]:
    """The hamlets a merge or a split ended during the period ({hamlet: commune}), under their commune on the
    map of the period's end (which holds only the units that stood on its last day)."""
    placed = {u.id: u for u in units}
    wanted = [h for h, c in ended.items() if h not in placed and c in placed]
    return [_Placed(h.id, h.code, h.name, h.level, ended[h.id], placed[ended[h.id]].depth + 1, h.retired_on)
            for h in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(wanted)))] if wanted else []


def _count_movers_once(figures: dict[int, dict], units: list, within, period: Period, ended: dict[int, int]) -> None:
    """A household reached during the period counts once. One that moved to another hamlet during it counts in the
    hamlet it was in at the period's end, and in none it left, though its visits stay where they were made; the
    communes say how many (`moved_households`), for the page's note. A hamlet a merge or a split ended during the
    period keeps its households of its first days (its row is those days): one visited there and in its new hamlet
    is in both rows, and once in the commune and above."""
    parent_of = {u.id: u.parent_id for u in units}

    def add(unit_id: int | None, n: int) -> None:  # to a hamlet's row and every row above it
        while unit_id in figures:
            figures[unit_id]["reached_month"] += n
            unit_id = parent_of.get(unit_id)

    for mover in queries.movers_visited(within, period).values():
        rows = {h for h in mover.visited_in if h in figures}
        standing = rows - set(ended)
        if standing and mover.at_end not in ended and standing != {mover.at_end}:
            for h in standing - {mover.at_end}:
                add(h, -1)
            if mover.at_end in figures and mover.at_end not in standing:
                add(mover.at_end, 1)
            rows = (rows - standing) | ({mover.at_end} & figures.keys())
            commune = figures.get(parent_of.get(mover.at_end))
            if commune is not None:
                commune["moved_households"] = commune.get("moved_households", 0) + 1
        above_rows: dict[int, int] = {}
        for h in rows:
            above = parent_of.get(h)
            while above in figures:
                above_rows[above] = above_rows.get(above, 0) + 1
                above = parent_of.get(above)
        for above, n in above_rows.items():
            figures[above]["reached_month"] -= n - 1


def _over_period(months: list) -> dict:
    """A period's adult figures from its months' (app.coverage.adults.AdultFigures, oldest first): the
    adults and named learners standing at its end, the classes' and shifts' flows added up."""
    from app.coverage.adults import AdultFigures
    last = months[-1]
    if len(months) == 1:
        return last.as_dict()
    total = AdultFigures(adults=last.adults, named=last.named)
    for f in months:
        total.attendances += f.attendances
        total.online += f.online
        total.online_counted += f.online_counted
        total.commune_dossiers += f.commune_dossiers
        for code, n in f.working.items():
            total.working[code] = total.working.get(code, 0) + n
    return total.as_dict()


@dataclass
class Summary:
    unit: dict
    year: int
    month: int
    services: list[dict]
    total: dict
    children: list[dict]
    levels: list[tuple[str, list[dict]]] = field(default_factory=list)
    closed_at: object = None
    produced_on: date = field(default_factory=today_vn)
    # None for a month closed before the adult figures existed: its snapshot has none.
    adult_targets: dict | None = None
    first: int | None = None  # a quarter's first month; None: the month alone
    # Per level whose units do not hold the whole unit (a province's areas beside communes in none): the
    # rest added up, a row of its own (with its number of units, "count"), so the level's rows and it make the total.
    outside: dict[str, dict] = field(default_factory=dict)
    # Per level, what the total's adult figures count in none of its rows (a commune's classes and shifts in no
    # hamlet), a row of its own (in_no_row); `in_no_child` the same for the rows the page lists (the children).
    unplaced: dict[str, dict] = field(default_factory=dict)
    in_no_child: dict | None = None
    # What the hamlet rows count beyond the commune's total (app.reports.queries.hamlets_beyond_commune), so the
    # page can say why a column of them adds up to more than it; None when the rows are no commune's hamlets.
    hamlets_beyond: dict | None = None
    # How many households reached during the period moved to another hamlet of the commune during it, each counted in
    # the hamlet it was in at the end (_count_movers_once), so the page can say why a hamlet row counts a household it
    # has no visit of, or none it has; None when the rows are no commune's hamlets (or a month closed before).
    moved_households: int | None = None
    # Whether a household moved to another hamlet of the commune during the period with a service it used already,
    # so the page can say that each household's new adoptions count in the hamlet it was in at the end, and only
    # the period's (app.reports.queries.new_adoptions_in).
    moved_new: bool = False

    @property
    def period(self) -> Period:
        return Period(self.year, self.first or self.month, self.month)

    @property
    def month_label(self) -> str:
        """The period as the address and the file name carry it: 2026-10, or 2026-Q4."""
        return self.period.label

    @property
    def words(self) -> dict:
        return self.period.words

    def level_title(self, level: str) -> str:
        return str(LEVEL_PLURALS.get(level, level))


def _outside_level(units: dict, kids: dict[str, list[str]], uid: str, level: str) -> list[str]:
    """The widest units below `uid` that are neither of `level` nor inside one of it, nor hold one."""
    def holds(key: str) -> bool:
        return units[key]["level"] == level or any(holds(k) for k in kids.get(key, []))

    out, stack = [], list(kids.get(uid, []))
    while stack:
        key = stack.pop()
        if units[key]["level"] == level:
            continue
        if holds(key):
            stack.extend(kids.get(key, []))
        else:
            out.append(key)
    return out


def _sum_row(data: dict, keys: list[str]) -> dict:
    """The row of several units added up: counts summed, shares the ratio of the sums."""
    from app.coverage.adults import AdultFigures
    figures = [data["figures"][k] for k in keys]
    f = {k: sum(x[k] for x in figures) for k in COUNT_KEYS}
    f["new"], f["adopted"] = {}, {}
    for x in figures:
        for part in ("new", "adopted"):
            for code, n in x[part].items():
                f[part][code] = f[part].get(code, 0) + n
    adults = [x["adults"] for x in figures if x.get("adults") is not None]
    if adults:
        total = AdultFigures()
        for a in adults:
            for k in ("adults", "attendances", "named", "online", "online_counted", "commune_dossiers"):
                setattr(total, k, getattr(total, k) + a[k])
            for code, n in a["working"].items():
                total.working[code] = total.working.get(code, 0) + n
        f["adults"] = total.as_dict()
    meta = {"id": None, "code": None, "name": "", "level": "", "parent_id": None, "depth": None}
    return {**_row_of(meta, f, data["services"]), "count": len(keys)}


ADULT_COUNTS = ("adults", "attendances", "named", "online", "online_counted", "commune_dossiers")


def unplaced_label(level: str) -> str:
    """The row of what a level's total counts in none of its units."""
    if level == "hamlet":
        return str(_l("Classes, shifts and learners of the commune in no hamlet"))
    return str(_l("Counted in the total but in none of the units above"))


def in_no_row(total: dict, rows: list[dict], services: list[dict], level: str,
              beyond: dict | None = None) -> dict | None:
    """What the total's adult figures count in none of the rows (a commune's classes held in no hamlet, its
    one-stop-centre shifts, learners living in no hamlet given) as a row of its own: the total less the rows, plus
    what the rows count beyond it (`beyond`: a learner counted in two hamlets, once in the commune); None when
    the rows hold it all. Its shares are left blank: they are no unit's. A figure that still comes out below zero
    (a month closed before `beyond` was kept with it) is not known, and left blank too."""
    t = total.get("adults")
    if t is None:
        return None
    beyond = beyond or {}
    figures = [r.get("adults") or {} for r in rows]

    def rest(n: int) -> int | None:
        return n if n >= 0 else None

    adults = {k: rest(t.get(k, 0) - sum(f.get(k, 0) for f in figures) + beyond.get(k, 0)) for k in ADULT_COUNTS}
    working = {s["code"]: rest((t.get("working") or {}).get(s["code"], 0)
                               - sum((f.get("working") or {}).get(s["code"], 0) for f in figures)
                               + (beyond.get("working") or {}).get(s["code"], 0))
               for s in services}
    if not any(adults.values()) and not any(working.values()) and None not in (*adults.values(), *working.values()):
        return None
    return {"id": None, "code": None, "name": unplaced_label(level), "level": level, "parent_id": None,
            "parent_name": "", "ended_on": None, "unplaced": True,
            "adults": {**adults, "working": working, "named_share": None, "online_share": None}}


def _row(data: dict, uid: str, parent_name: str = "") -> dict:
    return _row_of(data["units"][uid], data["figures"][uid], data["services"], parent_name)


def _row_of(meta: dict, f: dict, services: list[dict], parent_name: str = "") -> dict:
    row = dict(meta)
    row["ended_on"] = date.fromisoformat(meta["ended_on"]) if meta.get("ended_on") else None
    row["parent_name"] = parent_name
    for k in COUNT_KEYS:
        row[k] = f[k]
    row["reach_share"] = _ratio(f["reached"], f["households"])
    row["adults"] = f.get("adults")
    row["services"] = []
    for s in services:
        adopted = f["adopted"].get(s["code"], 0)
        row["services"].append({"code": s["code"], "new": f["new"].get(s["code"], 0),
                                "adopted": adopted, "coverage": _ratio(adopted, f["households"]),
                                "target": s["target_share"]})
    return row


def _endings(ids: list[int]) -> dict[int, dict]:
    """How each of these hamlets a merge or a split ended: {id: {"kind", "on" (ISO), "into": [{"id", "name"}]}}, as
    the figures keep it (JSON)."""
    from app.units.hamlet_changes import endings_of
    return {h: {"kind": e.kind, "on": e.on.isoformat(), "into": [{"id": u.id, "name": u.name} for u in e.into]}
            for h, e in endings_of(ids).items()}


def _say_endings(rows: list[dict]) -> None:
    """Each row of a hamlet that a merge or a split ended during the period gets `ending`: how, and the hamlets its
    households went to, as its figures recorded it (a month closed before they did: read now)."""
    unrecorded = _endings([r["id"] for r in rows if r.get("ended_on") and r.get("id") and "ending" not in r])
    for r in rows:
        e = (r["ending"] if "ending" in r else unrecorded.get(r.get("id"))) if r.get("ended_on") else None
        r["ending"] = {**e, "on": date.fromisoformat(e["on"])} if e else None


def summary_from_figures(data: dict, unit_id: int, closed_at=None) -> Summary:
    units = data["units"]
    uid = str(unit_id)
    kids: dict[str, list[str]] = {}
    for key, meta in units.items():
        if meta["parent_id"] is not None:
            kids.setdefault(str(meta["parent_id"]), []).append(key)

    def order(key: str):
        return sort_key(units[key]["name"])

    # Walk the subtree depth-first so rows of a level are grouped under their parents.
    below: list[str] = []
    stack = sorted(kids.get(uid, []), key=order, reverse=True)
    while stack:
        key = stack.pop()
        below.append(key)
        stack.extend(sorted(kids.get(key, []), key=order, reverse=True))
    # One list per level (every commune together, whether under an area or straight under the province),
    # the levels from the widest down.
    by_level: dict[str, list[str]] = {}
    for key in below:
        level = units[key]["level"]
        # Hamlets only when they are the level directly below: a province's hamlets are too many.
        if level == "hamlet" and units[key]["depth"] != units[uid]["depth"] + 1:
            continue
        by_level.setdefault(level, []).append(key)
    total = _row(data, uid)
    beyond = data["figures"][uid].get("hamlets_beyond")
    levels, outside, unplaced = [], {}, {}
    for level in sorted(by_level, key=lambda lv: (LEVEL_RANK.get(lv, len(LEVEL_RANK)), lv)):
        keys = by_level[level]
        rows = [_row(data, k, units[str(units[k]["parent_id"])]["name"]) for k in keys]
        levels.append((level, rows))
        rest = _outside_level(units, kids, uid, level)
        if rest:
            outside[level] = _sum_row(data, rest)
            rows = rows + [outside[level]]
        row = in_no_row(total, rows, data["services"], level, beyond if level == "hamlet" else None)
        if row is not None:
            unplaced[level] = row
    direct = [_row(data, k, units[uid]["name"]) for k in below if units[k]["parent_id"] == unit_id]
    _say_endings([r for _, rows in levels for r in rows] + direct)
    hamlets = bool(direct) and all(r["level"] == "hamlet" for r in direct)
    child_level = "hamlet" if hamlets else ""
    # A closed month's report is the one made when it was closed: dated that day (in Vietnam), not the day
    # it is downloaded, so its file is the same bytes whenever it is produced.
    return Summary(unit=dict(units[uid]), year=data["year"], month=data["month"], first=data.get("first"),
                   services=data["services"], total=total,
                   children=direct, levels=levels, outside=outside, closed_at=closed_at, unplaced=unplaced,
                   in_no_child=in_no_row(total, direct, data["services"], child_level, beyond if hamlets else None)
                   if direct else None,
                   hamlets_beyond=(beyond or {"named": 0, "attendances": 0, "working": {}}) if hamlets else None,
                   moved_households=data["figures"][uid].get("moved_households") if hamlets else None,
                   moved_new=bool(data["figures"][uid].get("moved_new")) and hamlets,
                   adult_targets=data.get("adult_targets"),
                   produced_on=closed_at.astimezone(VN).date() if closed_at is not None else today_vn())


def closure_for(unit: AdminUnit, year: int, month: int):
    from app.reports.models import MonthClosure
    return db.session.scalar(sa.select(MonthClosure).where(
        MonthClosure.province_id == unit.province_id, MonthClosure.year == year,
        MonthClosure.month == month))


def build_summary(unit: AdminUnit, year: int, month: int, as_then: bool = False) -> Summary:
    """The summary as reported: a closed month from its snapshot, an open one counted now
    (`as_then`: on the units as the map was that month, else on today's)."""
    closure = closure_for(unit, year, month)
    if closure is not None:
        data = closure.snapshot_data
        if str(unit.id) in data.get("units", {}):
            return summary_from_figures(data, unit.id, closed_at=closure.closed_at)
    return summary_from_figures(compute_figures(unit, year, month, as_then=as_then), unit.id)


def summary_of(unit: AdminUnit, period: Period, as_then: bool = False) -> Summary:
    """The summary of a month (a closed one from its snapshot) or of a quarter."""
    if period.kind == "month":
        return build_summary(unit, period.year, period.last, as_then=as_then)
    return build_quarter_summary(unit, period.year, period.quarter_number, as_then=as_then)


def build_quarter_summary(unit: AdminUnit, year: int, quarter: int, as_then: bool = False) -> Summary:
    """A quarter counted from the records as they stand (closed months' snapshots keep no households or
    teams by month that a quarter could count once)."""
    period = Period.quarter(year, quarter)
    return summary_from_figures(compute_figures(unit, year, period.last, as_then=as_then, first=period.first),
                                unit.id)
