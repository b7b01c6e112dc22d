"""Coverage figures for any administrative unit, as of a date: the SQL the pages, reports and API share.

Public API (other features call these; they never compute coverage themselves):

    households_by_unit(units, on) -> dict[unit_id, int]
        Official households of each unit as of `on`. A unit with child units active on `on` is
        the sum of those children (recursively); a unit without any is its own HouseholdCount in
        effect on `on` (0 if none). A unit retired on or before `on` no longer counts in its
        parent; one retired after `on` still does. Roll-ups are therefore exact sums.

    coverage(unit, on) -> CoverageTable
        .total  CoverageRow for the unit itself;
        .rows   one CoverageRow per child unit active on `on` (for a hamlet: one per team that
                serves it or logged a visit there; teams share the hamlet's households, so these
                rows do not add up to the total);
        .services  the active services, by position.

    monthly_series(unit, months) -> list[CoverageMonth]
        The unit's own figures as of the end of each (year, month), in the order given.

    month_key(year, month) / default_month(now=None) helpers for the views.

A household is counted once per service (Adoption's primary key is household + service) and once
for reach; households merged into another (Household.merged_into_id) are not counted at all.
Every share is a ratio of sums (adopters of the subtree ÷ households of the subtree), never an
average of the children's percentages; share is None when households is 0.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from app.catalogue.operations import form_services, in_force, province_milestones
from app.coverage.models import CoverageTally, CoverageTotal, HouseholdReach, UnitAncestor
from app.coverage.rollup import LiveSubtree, Subtree, subtree_of
from app.coverage.store import moves_sql
from app.dates import VN, month_end, month_start, today_vn
from app.extensions import db
from app.households.models import Household
from app.id_lists import IdListStatement
from app.paging import RowPage
from app.request_memo import per_request
from app.units.models import AdminUnit, HouseholdCount, HouseholdMove
from app.visits.models import Adoption, Service, Visit

REACH = 0  # the service id under which reach (any visit) is tallied


@dataclass(slots=True)
class ServiceFigure:
    """One service in one row: adopting households, their share, and the province's target."""
    service: Service
    adopted: int
    share: float | None
    target_share: float | None = None
    target_date: date | None = None

    @property
    def gap(self) -> float | None:
        """share − target (a fraction; negative = below target); None without a target or households."""
        if self.share is None or self.target_share is None:
            return None
        return self.share - self.target_share

    @property
    def below_target(self) -> bool:
        return self.gap is not None and self.gap < 0


class CoverageRow:
    """A unit's (or a team's) households, reached, and per service code its ServiceFigure.

    Built either with its figures (`services`), or from a tally and the request's RowPlan
    (`CoverageRow.tallied`): then it keeps only the adopters per service, in the plan's order, and makes
    its ServiceFigures when something first reads `services` (an unset slot: `__getattr__` fills it, and
    later reads are plain attribute reads). A table page whose rows' markup this worker has written
    already never reads it (app/coverage/cells.py keys the markup on `tallied_key`): ten figure objects a
    row not made (bench/README.md, round 17)."""
    __slots__ = ("households", "reached", "unit", "team", "services", "_plan", "_adopted")

    def __init__(self, households: int, reached: int, services: dict[str, ServiceFigure] | None = None,
                 unit: AdminUnit | sa.Row | None = None, team: object | None = None):
        self.households, self.reached = households, reached
        # The row's unit; in coverage_by_name's rows, its plain row (rollup.LiveSubtree.child_rows) instead.
        self.unit = unit
        self.team = team  # app.teams.models.Team for a hamlet's per-team rows
        self._plan = self._adopted = None
        if services is not None:
            self.services = services

    @classmethod
    def tallied(cls, households: int, tally: dict[int, int], plan: RowPlan, unit=None, team=None) -> CoverageRow:
        """The row of a tally ({service id or REACH: households}): its adopters read now, figures on demand."""
        row = cls(households, tally.get(REACH, 0), None, unit, team)
        get = tally.get
        row._plan, row._adopted = plan, tuple([get(i, 0) for i in plan.ids])
        return row

    def __getattr__(self, name: str):
        """Only for `services` not made yet (a row made by `tallied`): its figures, made once."""
        if name != "services" or self._plan is None:
            raise AttributeError(name)
        households = self.households
        self.services = services = {
            code: ServiceFigure(service=service, adopted=n, share=n / households if households else None,
                                target_share=target_share, target_date=target_date)
            for (service, code, target_share, target_date), n in zip(self._plan.entries, self._adopted)}
        return services

    def tallied_key(self) -> tuple | None:
        """For a row made by `tallied`: everything its figures are made of (the plan's codes and targets,
        households, reached, the adopters per service); None for a row given its figures."""
        if self._plan is None:
            return None
        return self._plan.key, self.households, self.reached, self._adopted

    @property
    def reach_share(self) -> float | None:
        return self.reached / self.households if self.households else None

    @property
    def name(self) -> str:
        return self.unit.name if self.unit is not None else self.team.name

    @property
    def below_any_target(self) -> bool:
        return any(f.below_target for f in self.services.values())

    def __eq__(self, other) -> bool:
        if not isinstance(other, CoverageRow):
            return NotImplemented
        return ((self.households, self.reached, self.services, self.unit, self.team)
                == (other.households, other.reached, other.services, other.unit, other.team))

    __hash__ = None

    def __repr__(self) -> str:
        return (f"CoverageRow(households={self.households!r}, reached={self.reached!r}, "
                f"services={self.services!r}, unit={self.unit!r}, team={self.team!r})")


@dataclass(frozen=True, slots=True)
class RowPlan:
    """Per active service, what every row of a request repeats: (the service, its code, the province's
    target share and date); the services' ids in that order; and `key`, the (code, target share) pairs a
    row's markup takes from it."""
    entries: tuple[tuple[Service, str, float | None, date | None], ...]
    ids: tuple[int, ...]
    key: tuple[tuple[str, float | None], ...]


@dataclass
class CoverageTable:
    unit: AdminUnit
    on: date
    services: list[Service]
    total: CoverageRow
    rows: list[CoverageRow] = field(default_factory=list)
    # Hamlets a merge or a split recorded before households' moves were ended, whose visits before it count in the
    # total but in no row (their households are in the rows' hamlets now).
    carried: list[AdminUnit] = field(default_factory=list)


@dataclass
class CoverageMonth:
    year: int
    month: int
    on: date
    row: CoverageRow


def month_key(year: int, month: int) -> int:
    return year * 100 + month


def default_month(now: datetime | None = None) -> tuple[int, int]:
    """The current calendar month in Vietnam (an instant in UTC late on the 31st is already the 1st)."""
    local = (now or datetime.now(VN)).astimezone(VN)
    return local.year, local.month


def _per_request(key, load):
    """A page's table and trend both need the services and targets: load them once per request."""
    return per_request(("coverage", key), load)


def services_and_targets(unit: AdminUnit, on: date | None = None) -> tuple[list, dict]:
    """The active services (the visit form's rows: id, code, names) and, by service id, the province's
    target milestone in force on `on` (the end of the month shown; today if not given). Both kept per
    worker under their tokens (app/catalogue/operations.py)."""
    services = form_services()
    milestones = province_milestones(unit.province_id)
    return services, in_force({s.id: milestones[s.id] for s in services if s.id in milestones}, on)


def households_by_unit(units: list[AdminUnit], on: date) -> dict[int, int]:
    tree = Subtree(units)
    return {u.id: tree.households(u.id, on) for u in units}


# ---------------------------------------------------------------------------------------------
# Tallies: distinct households per (unit, service) as of a date. REACH (0) stands for any visit.

_TALLY, _TOTAL = CoverageTally.__table__.c, CoverageTotal.__table__.c
# Built once per form (app/id_lists.py: the ids as one array on PostgreSQL), Core columns, so no ORM
# machinery per call. Each unit's running totals, less the months after the one shown: none for the
# current month, the page everyone opens, so it reads one row per unit and service instead of summing
# every month since the first visit.
def _sums_upto(recent: bool) -> IdListStatement:
    def build(among):
        if recent:
            # The month shown is this one or the last: few tallies come after it, summed in Python
            # (_sums adds up whatever rows come). Grouped in SQL, SQLite picks the primary key (unit,
            # service, month), which groups without sorting, and reads every month of the units to find
            # those few: 7,503 rows for Xã Cái Bè's 19 units to find none (0.46 ms); ungrouped, the
            # (unit, month) index reads only them (0.08 ms). Far back, the later months are most of a
            # unit's rows, and grouping in SQL is the faster (bench/README.md, round 14).
            later = (sa.select(_TALLY.unit_id, _TALLY.service_id, -_TALLY.households)
                     .where(among(_TALLY.unit_id, "units"), _TALLY.month > sa.bindparam("upto")))
        else:
            later = (sa.select(_TALLY.unit_id, _TALLY.service_id, -sa.func.sum(_TALLY.households))
                     .where(among(_TALLY.unit_id, "units"), _TALLY.month > sa.bindparam("upto"))
                     .group_by(_TALLY.unit_id, _TALLY.service_id))
        return sa.union_all(
            sa.select(_TOTAL.unit_id, _TOTAL.service_id, _TOTAL.households).where(among(_TOTAL.unit_id, "units")),
            later)
    return IdListStatement(build)


_SUMS_UPTO, _SUMS_UPTO_RECENT = _sums_upto(recent=False), _sums_upto(recent=True)
# The running totals (month 0) and every month from the first one a trend shows.
_MONTHS_FROM = IdListStatement(lambda among: sa.union_all(
    sa.select(_TOTAL.unit_id, _TOTAL.service_id, sa.literal(0), _TOTAL.households)
    .where(among(_TOTAL.unit_id, "units")),
    sa.select(_TALLY.unit_id, _TALLY.service_id, _TALLY.month, _TALLY.households)
    .where(among(_TALLY.unit_id, "units"), _TALLY.month >= sa.bindparam("first"))))


def _month_before(day: date) -> int:
    """The month_key of the month before `day`'s."""
    return month_key(day.year, day.month - 1) if day.month > 1 else month_key(day.year - 1, 12)


def _sums(unit_ids: list[int], on: date) -> dict[int, dict[int, int]]:
    """{unit: {service or REACH: households}} from the live tallies, everything under each unit.

    Whole months come from coverage_totals less coverage_tallies of later months; when `on` is
    not a month's last day, the days of its month up to `on` are counted from adoptions and
    household_reach directly.
    """
    out: dict[int, dict[int, int]] = {u: defaultdict(int) for u in unit_ids}
    if not unit_ids:
        return out
    is_month_end = on == month_end(on.year, on.month)
    upto = month_key(on.year, on.month) if is_month_end else _month_before(on)
    sums_upto = _SUMS_UPTO_RECENT if upto >= _month_before(today_vn()) else _SUMS_UPTO  # same rows, two plans
    for statement, chunk in sums_upto.chunked(unit_ids):
        for unit_id, service_id, n in db.session.execute(statement, {"units": chunk, "upto": upto}).all():
            out[unit_id][service_id] += int(n or 0)
        if not is_month_end:
            first = month_start(on.year, on.month)
            live = Household.merged_into_id.is_(None)
            for unit_id, service_id, n in db.session.execute(
                    sa.select(UnitAncestor.ancestor_id, Adoption.service_id, sa.func.count())
                    .select_from(Adoption).join(UnitAncestor, UnitAncestor.unit_id == Adoption.hamlet_id)
                    .join(Household, Household.id == Adoption.household_id)
                    .where(live, UnitAncestor.ancestor_id.in_(chunk), Adoption.adopted_on.between(first, on))
                    .group_by(UnitAncestor.ancestor_id, Adoption.service_id)):
                out[unit_id][service_id] += n
            for unit_id, n in db.session.execute(
                    sa.select(UnitAncestor.ancestor_id, sa.func.count())
                    .select_from(HouseholdReach).join(UnitAncestor, UnitAncestor.unit_id == HouseholdReach.hamlet_id)
                    .join(Household, Household.id == HouseholdReach.household_id)
                    .where(live, UnitAncestor.ancestor_id.in_(chunk),
                           HouseholdReach.first_visited_on.between(first, on))
                    .group_by(UnitAncestor.ancestor_id)):
                out[unit_id][REACH] += n
            for unit_id, service_id, n in db.session.execute(_MOVED_IN_DAYS, {"ids": chunk, "first": first, "on": on}):
                out[unit_id][service_id] += int(n)
    return out


# The households' moves of the month's days (app/coverage/store.py `moves_sql`), per ancestor; none most months.
_MOVED_IN_DAYS = sa.text(
    f"SELECT ua.ancestor_id, x.service_id, sum(x.n) FROM ({moves_sql(where='m.moved_on BETWEEN :first AND :on')}) "
    "x JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id "
    "WHERE ua.ancestor_id IN :ids GROUP BY ua.ancestor_id, x.service_id"
).bindparams(sa.bindparam("ids", expanding=True), sa.bindparam("first", type_=sa.Date),
             sa.bindparam("on", type_=sa.Date))


def _tallies(tree: Subtree | LiveSubtree, unit_ids: list[int], on: date) -> dict[int, dict[int, int]]:
    """For each unit, {service_id or REACH: households}, without what lies in retired subunits."""
    excluded = {u: tree.excluded_below(u, on) for u in unit_ids}
    sums = _sums(list(set(unit_ids) | {r for rs in excluded.values() for r in rs}), on)
    out: dict[int, dict[int, int]] = {}
    for u in unit_ids:
        tally = defaultdict(int, sums[u])
        for r in excluded[u]:
            for key, n in sums[r].items():
                tally[key] -= n
        out[u] = tally
    return out


def _row_plan(unit: AdminUnit, on: date) -> RowPlan:
    """Per active service, what every row repeats (the service, its code, the province's target in force
    on `on`): worked out once per request, not once per row (a district page has ~26 rows)."""
    def load():
        services, targets = services_and_targets(unit, on)
        entries = tuple((s, s.code, float(targets[s.id].share) if s.id in targets else None,
                         targets[s.id].due_on if s.id in targets else None) for s in services)
        return RowPlan(entries, tuple(s.id for s in services), tuple((code, share) for _s, code, share, _d in entries))
    return _per_request(("row_plan", unit.province_id, on), load)


def coverage(unit: AdminUnit, on: date) -> CoverageTable:
    services, _targets = services_and_targets(unit, on)
    tree = subtree_of(unit)
    child_ids = tree.active_children(unit.id, on)
    carried = tree.carried_children(unit.id, on)
    if child_ids:
        tallies = _tallies(tree, child_ids + carried, on)
        # The unit's own figures are the sum of its children's: a ratio of sums by construction. A hamlet a merge
        # or a split ended adds its visits before the change, whose households are in the children now.
        tallies[unit.id] = defaultdict(int)
        for c in child_ids + carried:
            for key, n in tallies[c].items():
                tallies[unit.id][key] += n
    else:
        tallies = _tallies(tree, [unit.id], on)
    children = _units(child_ids)
    plan = _row_plan(unit, on)
    rows = [CoverageRow.tallied(tree.households(c, on), tallies[c], plan, unit=children[c])
            for c in sorted(child_ids, key=lambda c: (children[c].name_folded, c))]
    total = CoverageRow.tallied(tree.households(unit.id, on), tallies[unit.id], plan, unit=unit)
    if not child_ids and unit.level == "hamlet":
        rows = _team_rows(unit, on, total.households, plan)
    # A change recorded since the households' moves are (app/units/hamlet_changes.py) leaves its ended hamlet
    # nothing to carry; one recorded before leaves the visits before it there, which the page says.
    still = [c for c in carried if any(tallies[c].values())] if child_ids else []
    return CoverageTable(unit=unit, on=on, services=services, total=total, rows=rows,
                         carried=list(_units(still).values()))


def coverage_by_name(unit: AdminUnit, on: date, asked_page: str | None,
                     descending: bool = False) -> tuple[CoverageTable, RowPage]:
    """The table in name order (Vietnamese, as the page sorts it) with only the asked page of its rows
    built (app/paging.py), and which page that is: a page of a province's 168 communes reads the
    tallies of 20 and the province's own.

    The total is then the unit's own running tallies, which are the sum of its children's where no
    unit below it is retired (LiveSubtree: every leaf's tallies reach each ancestor through
    unit_ancestors). Elsewhere (units retired below, a hamlet's team rows) the whole table is built
    and sliced. tests/test_coverage_paging.py holds both ways to the same rows and total."""
    from app.text import sort_key
    tree = subtree_of(unit)
    child_ids = tree.active_children(unit.id, on)
    if not isinstance(tree, LiveSubtree) or not child_ids:
        table = coverage(unit, on)
        table.rows.sort(key=lambda r: sort_key(r.name), reverse=descending)
        page = RowPage.asked(len(table.rows), asked_page)
        table.rows = page.of(table.rows)
        return table, page
    services, _targets = services_and_targets(unit, on)
    # The children as plain (id, name, name_folded) rows, in name order as this worker keeps them
    # (rollup.Children), each the row's unit on the page (which shows its name and links to its id);
    # no unit object made for any of them.
    named = tree.child_rows
    ordered = list(tree.children_by_name(descending))
    page = RowPage.asked(len(ordered), asked_page)
    shown = page.of(ordered)
    tallies = _tallies(tree, shown + [unit.id], on)
    plan = _row_plan(unit, on)
    rows = [CoverageRow.tallied(tree.households(c, on), tallies[c], plan, unit=named[c]) for c in shown]
    total = CoverageRow.tallied(tree.households(unit.id, on), tallies[unit.id], plan, unit=unit)
    return CoverageTable(unit=unit, on=on, services=services, total=total, rows=rows), page


def child_units(unit: AdminUnit, on: date) -> list:
    """The units of `unit`'s coverage table on `on` (today's map), as coverage() finds them, in the
    table's name order (app.text.by_name): each with its id, name, name_folded, level and path; plain
    rows where no unit below is retired (the adult section reads no more of them), in the order this
    worker keeps them."""
    from app.text import by_name
    tree = subtree_of(unit)
    if isinstance(tree, LiveSubtree):
        return list(tree.rows_by_name)
    return by_name(list(_units(tree.active_children(unit.id, on)).values()))


def sum_rows(rows: list[CoverageRow]) -> CoverageRow:
    """Several units' rows as one (a team's hamlets): households and adopters summed, shares a ratio of sums."""
    households = sum(r.households for r in rows)
    figures = {}
    for code, f in (rows[0].services.items() if rows else ()):
        adopted = sum(r.services[code].adopted for r in rows)
        figures[code] = ServiceFigure(service=f.service, adopted=adopted,
                                      share=adopted / households if households else None,
                                      target_share=f.target_share, target_date=f.target_date)
    return CoverageRow(households=households, reached=sum(r.reached for r in rows), services=figures)


# Built once; the ids as one array on PostgreSQL (app/id_lists.py), so a page of 20 units and a
# section of 168 are the same prepared statement.
_UNITS_BY_ID = IdListStatement(lambda among: sa.select(AdminUnit).where(among(AdminUnit.id, "ids")))


def _units(ids: list[int]) -> dict[int, AdminUnit]:
    """Units by id, from the session when this request has already loaded them (one round trip less)."""
    found = {i: db.session.identity_map.get(db.session.identity_key(AdminUnit, i)) for i in ids}
    missing = [i for i, u in found.items() if u is None]
    if missing:
        for statement, chunk in _UNITS_BY_ID.chunked(missing):
            found.update({u.id: u for u in db.session.scalars(statement, {"ids": chunk})})
    return found


def counted_in(hamlet: AdminUnit, on: date, household_id, recorded_in, day) -> sa.ColumnElement[bool]:
    """Whether an event (a visit, an adoption: its household, the hamlet it was recorded in, its day) counts in
    the hamlet as of `on`: in the hamlet it was recorded in, unless a household's move (HouseholdMove) has taken
    it on since, then in the hamlet the latest such move reached; as the coverage tallies count it."""
    m = HouseholdMove
    moved_to = (sa.select(m.to_hamlet_id)
                .where(m.household_id == household_id, m.recorded_in_id == recorded_in, day < m.moved_on,
                       m.moved_on <= on)
                .order_by(m.moved_on.desc(), m.id.desc()).limit(1).scalar_subquery())
    arrived = sa.select(m.household_id).where(m.to_hamlet_id == hamlet.id, m.moved_on <= on)
    return sa.and_(sa.or_(recorded_in == hamlet.id, household_id.in_(arrived)),
                   sa.func.coalesce(moved_to, recorded_in) == hamlet.id)


def _team_rows(hamlet: AdminUnit, on: date, households: int, plan: RowPlan) -> list[CoverageRow]:
    """Per team serving a hamlet: the households it reached and the adoptions its visits established, of the
    visits that count in the hamlet (those its households had before a merge or a split brought them too)."""
    from app.teams.models import Team, team_hamlets
    live = Household.merged_into_id.is_(None)
    tally: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for team_id, n in db.session.execute(
            sa.select(Visit.team_id, sa.func.count(sa.distinct(Visit.household_id)))
            .join(Household, Household.id == Visit.household_id)
            .where(live, counted_in(hamlet, on, Visit.household_id, Visit.hamlet_id, Visit.visited_on),
                   Visit.visited_on <= on, Visit.team_id.isnot(None))
            .group_by(Visit.team_id)):
        tally[team_id][REACH] = n
    for team_id, service_id, n in db.session.execute(
            sa.select(Visit.team_id, Adoption.service_id, sa.func.count())
            .join(Visit, Visit.id == Adoption.visit_id)
            .join(Household, Household.id == Adoption.household_id)
            .where(live, counted_in(hamlet, on, Adoption.household_id, Adoption.hamlet_id, Adoption.adopted_on),
                   Adoption.adopted_on <= on, Visit.team_id.isnot(None))
            .group_by(Visit.team_id, Adoption.service_id)):
        tally[team_id][service_id] = n
    serving = set(db.session.scalars(sa.select(team_hamlets.c.team_id).where(team_hamlets.c.hamlet_id == hamlet.id)))
    team_ids = serving | set(tally)
    if not team_ids:
        return []
    teams = db.session.scalars(sa.select(Team).where(Team.id.in_(team_ids)).order_by(Team.name_folded, Team.id))
    return [CoverageRow.tallied(households, tally[t.id], plan, team=t) for t in teams]


def monthly_series(unit: AdminUnit, months: list[tuple[int, int]]) -> list[CoverageMonth]:
    if not months:
        return []
    tree = subtree_of(unit)
    # The unit's monthly tallies and those of every retired unit below it (subtracted from the
    # month of their retirement on), in one query.
    retired = [u for u in tree.retired_ids() if u != unit.id]  # a hamlet a merge or split ended goes on counting
    first = min(month_key(y, m) for y, m in months)
    last = max(month_key(y, m) for y, m in months)
    per: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for statement, chunk in _MONTHS_FROM.chunked([unit.id] + retired):
        # The months before the first one shown become one sum per service (month key 0): the
        # running total less every month from the first one on; then the months shown.
        before: dict[tuple[int, int], int] = defaultdict(int)
        for unit_id, service_id, month, n in db.session.execute(statement, {"units": chunk, "first": first}):
            if month == 0:
                before[unit_id, service_id] += int(n or 0)
                continue
            before[unit_id, service_id] -= n
            if month <= last:
                per[unit_id][service_id].append((month, n))
        for (unit_id, service_id), n in before.items():
            per[unit_id][service_id].append((0, n))

    def upto(unit_id: int, key: int) -> dict[int, int]:
        return {sid: sum(n for m, n in entries if m <= key) for sid, entries in per[unit_id].items()}

    out = []
    for year, month in months:
        on = month_end(year, month)
        key = month_key(year, month)
        tally = defaultdict(int, upto(unit.id, key))
        for r in tree.excluded_below(unit.id, on):
            for sid, n in upto(r, key).items():
                tally[sid] -= n
        # Each month against the target milestone in force at its end.
        row = CoverageRow.tallied(tree.households(unit.id, on), tally, _row_plan(unit, on), unit=unit)
        out.append(CoverageMonth(year, month, on, row))
    return out


def last_months(year: int, month: int, count: int = 12) -> list[tuple[int, int]]:
    """The `count` months ending with (year, month), oldest first."""
    index = year * 12 + month - 1
    return [((i // 12), (i % 12) + 1) for i in range(index - count + 1, index + 1)]


def first_data_month() -> tuple[int, int] | None:
    """The earliest month with a visit or a household count: nothing to show before it."""
    firsts = [db.session.scalar(sa.select(sa.func.min(Visit.visited_on))),
              db.session.scalar(sa.select(sa.func.min(HouseholdCount.effective_on)))]
    firsts = [d for d in firsts if d is not None]
    if not firsts:
        return None
    d = min(firsts)
    return d.year, d.month


__all__ = ["REACH", "ServiceFigure", "CoverageRow", "CoverageTable", "CoverageMonth", "households_by_unit",
           "coverage", "monthly_series", "last_months", "month_key", "default_month", "services_and_targets",
           "first_data_month", "month_start", "sum_rows"]
