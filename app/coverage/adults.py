"""The adult indicators ("Bình dân học vụ số") of any unit and month, next to the household coverage.

Adults are a measure of their own: nothing here reads or changes the household tallies, and no
figure mixes households with adults. Every share is a ratio of sums over the unit's subtree.

    adults_by_unit(units, on) -> {unit_id: adults}
        The official adults (aged 15 and over) as of `on`, rolled up as households are: a unit with
        child units counted on `on` is the sum of those children, a leaf its latest AdultCount in
        effect (0 if none); a unit retired on or before `on` no longer counts in its parent.

    adult_months(units, months) -> {unit_id: {(year, month): AdultFigures}}
        The indicators of each unit for each month (Asia/Ho_Chi_Minh calendar: a class's date is
        its local date), everything recorded in the unit's subtree (unit_ancestors) counted:
        - attendances: learners of classes held that month ("lượt người học": counted learners
          cannot be told apart, so one person at two classes counts twice);
        - named: distinct named learners (person_key) of classes held up to the month's end,
          and named_share = named ÷ adults (both sums over the subtree);
        - working: per service code, learners who came away with it working, classes of the month;
        - online: dossiers filed online with the teams' help at one-stop-centre shifts that month;
          online_share = online dossiers of the communes that entered their month's total ÷ those
          totals (a commune without a total adds to neither side).
    adult_months_then(units, months)
        The same as the map was in each month (the `?map=then` pages): the units valid then, each
        under its parent then, or a unit's predecessors before it existed (app.units.history).
    A class counts under its commune and the units above it, and under the hamlet it was held in;
    a named learner under the class's commune, and under the hamlet they live in (when given, else
    the hamlet the class was held in). On today's map a commune a reorganization ended counts under the
    new commune that carries it (app.units.history.commune_heirs), a learner of several of its old
    communes once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.activities.models import ClassLearner, CommuneDossierTotal
from app.catalogue.operations import service_codes
from app.coverage import activity_months, by_commune, rollup
from app.coverage.models import ADULT_TARGET_INDICATORS, ActivityMonth, AdultTarget, NamedLearnerMonth, UnitAncestor
from app.dates import month_end
from app.extensions import db
from app.id_lists import chunks
from app.units.history import predecessors_on, same_map_since, shape_on
from app.units.models import AdminUnit, AdultCount


@dataclass
class AdultFigures:
    """One unit's adult indicators for one month: plain counts, shares derived from them."""
    adults: int = 0
    attendances: int = 0
    named: int = 0
    working: dict[str, int] = field(default_factory=dict)
    online: int = 0
    online_counted: int = 0    # online dossiers of the communes that entered their month's total
    commune_dossiers: int = 0  # those totals

    @property
    def named_share(self) -> float | None:
        return self.named / self.adults if self.adults else None

    @property
    def online_share(self) -> float | None:
        return self.online_counted / self.commune_dossiers if self.commune_dossiers else None

    def as_dict(self) -> dict:
        """JSON-ready (what a month closing stores and the API sends)."""
        return {"adults": self.adults, "attendances": self.attendances, "named": self.named,
                "named_share": self.named_share, "working": dict(self.working), "online": self.online,
                "online_counted": self.online_counted, "commune_dossiers": self.commune_dossiers,
                "online_share": self.online_share}


def _counted(retired_on: date | None, on: date) -> bool:
    return retired_on is None or retired_on > on


class AdultTree:
    """The units below some roots with every adult count they ever had: one query each."""

    def __init__(self, roots: list[AdminUnit]):
        self.retired: dict[int, date | None] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self._memo: dict[tuple[int, date], int] = {}
        if not roots:
            return
        cond = sa.or_(*[AdminUnit.within(r) for r in roots])
        rows = db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on).where(cond)).all()
        for uid, _parent, retired_on in rows:
            self.retired[uid] = retired_on
        for uid, parent, _retired in rows:
            if parent in self.retired:
                self.children[parent].append(uid)
        for unit_id, effective_on, adults in db.session.execute(
                sa.select(AdultCount.unit_id, AdultCount.effective_on, AdultCount.adults)
                .where(AdultCount.unit_id.in_(sa.select(AdminUnit.id).where(cond)))
                .order_by(AdultCount.effective_on)):
            self.counts[unit_id].append((effective_on, adults))

    def adults(self, unit_id: int, on: date) -> int:
        key = (unit_id, on)
        if key not in self._memo:
            kids = [c for c in self.children.get(unit_id, ()) if _counted(self.retired[c], on)]
            if kids:
                value = sum(self.adults(k, on) for k in kids)
            else:
                value = 0
                for effective_on, adults in self.counts.get(unit_id, ()):
                    if effective_on > on:
                        break
                    value = adults
            self._memo[key] = value
        return self._memo[key]


def adults_by_unit(units: list[AdminUnit], on: date) -> dict[int, int]:
    tree = AdultTree(units)
    return {u.id: tree.adults(u.id, on) for u in units}


def _topmost(units: list[AdminUnit]) -> list[AdminUnit]:
    """The units not inside another of the list: their subtrees cover everyone's (a unit, or a plain
    row with its id, level and path: queries.child_units)."""
    ordered = sorted({u.id: u for u in units}.values(), key=lambda u: len(u.path))
    out: list[AdminUnit] = []
    for u in ordered:
        if not any(AdminUnit.path_within(u.path, t.path) for t in out):
            out.append(u)
    return out


def _key(year: int, month: int) -> int:
    return year * 100 + month


def adult_months(units: list[AdminUnit], months: list[tuple[int, int]],
                 heirs: bool = True) -> dict[int, dict[tuple[int, int], AdultFigures]]:
    """`heirs`: on today's map, a new commune counts the classes, learners, shifts and dossier totals of the old
    communes it carries (app/coverage/by_commune.py); as the map was (adult_months_then's fast path) it does not."""
    out = {u.id: {m: AdultFigures() for m in months} for u in units}
    if not units or not months:
        return out
    roots = _topmost(units)
    # Rolled up in SQL and kept under a token (app/coverage/rollup.py) unless a unit below is retired.
    token, activity, any_retired = rollup.adult_tokens_and_retired(roots)
    tree = AdultTree(roots) if any_retired else rollup.adult_roll_up(token, [u.id for u in units])
    ends = [(m, month_end(*m)) for m in months]  # made once, not per unit
    for u in units:
        figures_of = out[u.id]
        for m, end in ends:
            figures_of[m].adults = tree.adults(u.id, end)
    hamlets = [u.id for u in units if u.level == "hamlet"]
    upper = [u.id for u in units if u.level != "hamlet"]
    # The month sums and first-class months are kept per commune and hamlet as classes and shifts
    # change (app/coverage/activity_months.py, named_learners.py), each commune's rows read once and
    # added up per unit, and the result kept between pages under the tokens (app/coverage/by_commune.py).
    first_key, last_key = _key(*min(months)), _key(*max(months))
    codes = service_codes()
    for asked, read in ((upper, by_commune.month_figures), (hamlets, by_commune.hamlet_figures)):
        if not asked:
            continue
        figures = read(asked, token, activity, first_key, last_key, heirs)
        shown = {_key(*m): m for m in months}  # a month key -> the month asked for (others are left out)
        for unit_id, key, measure, n, counted in figures.sums:
            if key in shown:
                _add(out[unit_id][shown[key]], codes, measure, n, counted)
        for (unit_id, key), n in figures.dossiers.items():
            if key in shown:
                out[unit_id][shown[key]].commune_dossiers = n
        _cumulate(out, months, figures.firsts)
    return out


@dataclass
class _Then:
    """What a unit stood for in a month as the map was: the units valid then below it (or below its
    predecessors, when it did not exist yet), the leaves among them, and for a hamlet its commune then."""
    ids: set[int] = field(default_factory=set)
    leaves: set[int] = field(default_factory=set)
    hamlets: list[tuple[int, int | None]] = field(default_factory=list)  # (hamlet, its commune then)


def _parent_then(unit: AdminUnit, on: date) -> int | None:
    from app.units.models import UnitPlacement
    placed = db.session.scalar(sa.select(UnitPlacement.parent_id).where(
        UnitPlacement.unit_id == unit.id, sa.or_(UnitPlacement.valid_from.is_(None), UnitPlacement.valid_from <= on),
        sa.or_(UnitPlacement.valid_to.is_(None), UnitPlacement.valid_to > on)))
    return placed if placed is not None else unit.parent_id


def _then_groups(units: list[AdminUnit], on: date) -> dict[int, _Then]:
    """Each unit as the map was on `on` (app.units.history.map_on, its ids kept per worker: shape_on):
    one tree for a unit and the units of the list inside it, as the coverage table of that month has them."""
    trees = []

    def tree_of(unit: AdminUnit):
        for t in trees:
            if t.holds(unit.id):
                return t
        trees.append(shape_on(unit, on))
        return trees[-1]

    def stood(unit: AdminUnit, group: _Then) -> None:
        t = tree_of(unit)
        stack = [unit.id]
        while stack:
            u = stack.pop()
            group.ids.add(u)
            stack.extend(t.children.get(u, ()))
        group.leaves.update(t.leaves_below(unit.id))
        if unit.level == "hamlet":
            group.hamlets.append((unit.id, t.parents.get(unit.id) or _parent_then(unit, on)))

    out = {}
    for unit in sorted(units, key=lambda u: len(u.path)):  # the widest first: their trees serve the rest
        group = out[unit.id] = _Then()
        if unit.valid_on(on):
            stood(unit, group)
        else:
            for old, _split in predecessors_on(unit, on):
                stood(old, group)
    return out


def adult_months_then(units: list[AdminUnit],
                      months: list[tuple[int, int]]) -> dict[int, dict[tuple[int, int], AdultFigures]]:
    """adult_months as the map was in each month: a unit's figures are those of the units that stood
    below it then (its predecessors' before it existed), whatever moved since. The plain way, from
    the leaves and communes of that month's tree: adults are its leaves' counts in effect at the
    month's end; classes, shifts and named learners count under the commune they were recorded in
    (a hamlet's: those held in it, and its learners of its commune then).

    Fast path: a unit whose map has not changed since the first month has today's figures
    (`adult_months`), rather than a tree of the map built for each month (twelve of a province's
    for its trend); tests/test_maps_fast.py holds both ways equal."""
    same: list[AdminUnit] = []
    if units and months:
        first = month_end(*min(months))
        # The widest first: below a unit whose map has not changed, nothing has (a page's children).
        for u in sorted(units, key=lambda u: len(u.path)):
            if u.retired_on is None and (any(u.is_within(s) for s in same) or same_map_since(u, first)):
                same.append(u)
    rest = [u for u in units if u not in same]
    return (adult_months(same, months, heirs=False) if same else {}) | adult_months_from_leaves(rest, months)


def adult_months_from_leaves(units: list[AdminUnit],
                             months: list[tuple[int, int]]) -> dict[int, dict[tuple[int, int], AdultFigures]]:
    """The plain way for adult_months_then: each month's tree, its leaves and communes then."""
    out = {u.id: {m: AdultFigures() for m in months} for u in units}
    if not units or not months:
        return out
    codes = service_codes()
    first_key, last_key = _key(*min(months)), _key(*max(months))
    plans = {m: _then_groups(units, month_end(*m)) for m in months}
    leaves = sorted({leaf for g in plans.values() for t in g.values() for leaf in t.leaves})
    communes = sorted({u for g in plans.values() for t in g.values() if not t.hamlets for u in t.ids})
    hamlets = sorted({h for g in plans.values() for t in g.values() for h, _c in t.hamlets})
    counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for chunk in chunks(leaves):
        for unit_id, effective_on, n in db.session.execute(
                sa.select(AdultCount.unit_id, AdultCount.effective_on, AdultCount.adults)
                .where(AdultCount.unit_id.in_(chunk)).order_by(AdultCount.effective_on)):
            counts[unit_id].append((effective_on, n))
    # Per commune: the month sums, the dossier totals entered and the named learners' first months.
    sums: dict[tuple[int, int], list] = defaultdict(list)
    totals: dict[tuple[int, int], int] = {}
    firsts: dict[int, dict[int, int]] = defaultdict(dict)
    a, total, nl = ActivityMonth, CommuneDossierTotal, NamedLearnerMonth
    for chunk in chunks(communes):
        counted = sa.case((total.id.isnot(None), a.n), else_=0)
        for commune_id, key, measure, n, c in db.session.execute(
                sa.select(a.commune_id, a.month, a.measure, sa.func.sum(a.n), sa.func.sum(counted))
                .outerjoin(total, sa.and_(a.measure == activity_months.ONLINE, total.commune_id == a.commune_id,
                                          total.month == a.month))
                .where(a.unit_id.in_(chunk), a.commune_id == a.unit_id, a.month.between(first_key, last_key))
                .group_by(a.commune_id, a.month, a.measure)):
            sums[(commune_id, key)].append((measure, n, c))
        for commune_id, key, n in db.session.execute(
                sa.select(total.commune_id, total.month, total.dossiers)
                .where(total.commune_id.in_(chunk), total.month.between(first_key, last_key))):
            totals[(commune_id, key)] = int(n or 0)
        month = sa.case((nl.month < first_key, 0), else_=nl.month)
        for commune_id, key, n in db.session.execute(
                sa.select(nl.commune_id, month, sa.func.sum(nl.learners))
                .where(nl.unit_id.in_(chunk), nl.commune_id == nl.unit_id, nl.month <= last_key)
                .group_by(nl.commune_id, month)):
            firsts[commune_id][key] = int(n)
    hamlet_rows: dict[tuple[int, int], list] = defaultdict(list)
    hamlet_firsts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for chunk in chunks(hamlets):
        for hamlet_id, key, measure, n in activity_months.hamlet_sums(chunk, first_key, last_key):
            hamlet_rows[(hamlet_id, key)].append((measure, n, 0))
        month = sa.case((nl.month < first_key, 0), else_=nl.month)
        for hamlet_id, commune_id, key, n in db.session.execute(
                sa.select(nl.unit_id, nl.commune_id, month, sa.func.sum(nl.learners))
                .where(nl.unit_id.in_(chunk), nl.commune_id != nl.unit_id, nl.month <= last_key)
                .group_by(nl.unit_id, nl.commune_id, month)):
            hamlet_firsts[(hamlet_id, commune_id)][key] = int(n)
    for m in months:
        on, key = month_end(*m), _key(*m)
        for unit_id, group in plans[m].items():
            f = out[unit_id][m]
            for leaf in group.leaves:
                f.adults += next((n for d, n in reversed(counts.get(leaf, ())) if d <= on), 0)
            if group.hamlets:
                rows = [r for h, _c in group.hamlets for r in hamlet_rows.get((h, key), ())]
                named = [hamlet_firsts.get((h, c), {}) for h, c in group.hamlets]
            else:
                rows = [r for c in group.ids for r in sums.get((c, key), ())]
                named = [firsts[c] for c in group.ids if c in firsts]
                f.commune_dossiers = sum(totals.get((c, key), 0) for c in group.ids)
            for measure, n, counted in rows:
                n, counted = int(n or 0), int(counted or 0)
                if measure == activity_months.ATTENDANCES:
                    f.attendances += n
                elif measure == activity_months.ONLINE:
                    f.online += n
                    f.online_counted += counted
                else:
                    f.working[codes[measure]] = f.working.get(codes[measure], 0) + n
            f.named = sum(n for per_month in named for k, n in per_month.items() if k <= key)
    return out


def _add(f: AdultFigures, codes, measure, n, counted) -> None:
    """One month sum (by_commune's rows: attendances, online dossiers, or a service working) into a
    unit's figures for that month."""
    if measure == activity_months.ATTENDANCES:
        f.attendances = int(n or 0)
    elif measure == activity_months.ONLINE:
        f.online, f.online_counted = int(n or 0), int(counted or 0)
    else:
        f.working[codes[measure]] = int(n or 0)


def dossier_totals(chunk: list[int], keys: list[int]) -> dict[tuple[int, int], int]:
    """The plain way: the totals the communes under each unit entered for their months (the online
    share's denominator), {(unit_id, yyyymm): dossiers}."""
    anc = UnitAncestor.ancestor_id
    total = CommuneDossierTotal
    return {(unit_id, key): int(n or 0) for unit_id, key, n in db.session.execute(
        sa.select(anc, total.month, sa.func.sum(total.dossiers))
        .join(UnitAncestor, UnitAncestor.unit_id == total.commune_id)
        .where(anc.in_(chunk), total.month.in_(keys)).group_by(anc, total.month))}


def _cumulate(out, months, per_unit: dict[int, dict[int, int]]) -> None:
    """Named learners by the end of each month from the number whose first class fell in each month
    (key 0: all the months before the first asked for)."""
    keys = [(m, _key(*m)) for m in months]
    for unit_id, firsts in per_unit.items():
        figures_of = out[unit_id]
        for m, upto in keys:
            figures_of[m].named = sum([n for key, n in firsts.items() if key <= upto])


def adult_month(unit: AdminUnit, year: int, month: int) -> AdultFigures:
    return adult_months([unit], [(year, month)])[unit.id][(year, month)]



def adult_milestones(province_id: int | None) -> dict[str, list[AdultTarget]]:
    """The province's target milestones by indicator code (ADULT_TARGET_INDICATORS), by date."""
    out: dict[str, list[AdultTarget]] = {}
    if province_id is None:
        return out
    for t in db.session.scalars(sa.select(AdultTarget).where(AdultTarget.province_id == province_id)
                                .order_by(AdultTarget.due_on)):
        out.setdefault(t.indicator, []).append(t)
    return out


def adult_targets(province_id: int | None, on: date | None = None) -> dict[str, AdultTarget]:
    """The province's target by indicator code: the milestone in force on `on` (the end of the month
    shown; today if not given)."""
    from app.catalogue.operations import in_force
    return in_force(adult_milestones(province_id), on)


def set_adult_target(province: AdminUnit, indicator: str, share, due_on: date | None, user=None) -> None:
    """Set a province's milestone for an indicator on a date (a new date adds one), or, with no share,
    remove the milestone of that date; audited; the caller commits."""
    if indicator not in ADULT_TARGET_INDICATORS:
        raise ValueError(f"unknown adult indicator {indicator!r}")
    if due_on is None:
        return
    target = db.session.scalar(sa.select(AdultTarget).where(
        AdultTarget.province_id == province.id, AdultTarget.indicator == indicator, AdultTarget.due_on == due_on))
    if share is None:
        if target is not None:
            remove_adult_target(target, user=user)
        return
    if target is not None and target.share == share:
        return  # nothing changed: no entry in the trail
    before = {"indicator": indicator, "share": float(target.share) if target else None,
              "due_on": target.due_on if target else None}
    if target is None:
        target = AdultTarget(province_id=province.id, indicator=indicator, due_on=due_on)
        db.session.add(target)
    target.share = share
    _record_target(province.id, before, {"indicator": indicator, "share": float(share), "due_on": due_on}, user)


def change_adult_target(target: AdultTarget, share, due_on: date, user=None) -> AdultTarget | None:
    """Change one milestone of an adult target in place: its share, its date (moved, not a second one added), or,
    with no share, remove it; audited; the caller commits and makes sure no other milestone of the indicator has
    that date (`app.catalogue.milestones.milestone_problem`)."""
    if share is None:
        remove_adult_target(target, user=user)
        return None
    if target.share == share and target.due_on == due_on:
        return target  # nothing changed: no entry in the trail
    before = {"indicator": target.indicator, "share": float(target.share), "due_on": target.due_on}
    target.share, target.due_on = share, due_on
    _record_target(target.province_id, before, {"indicator": target.indicator, "share": float(share),
                                                "due_on": due_on}, user)
    return target


def remove_adult_target(target: AdultTarget, user=None) -> None:
    """Remove one milestone of a province's adult target, audited; the caller commits."""
    _record_target(target.province_id, {"indicator": target.indicator, "share": float(target.share),
                                        "due_on": target.due_on},
                   {"indicator": target.indicator, "share": None, "due_on": None}, user)
    db.session.delete(target)


def _record_target(province_id: int, before: dict, after: dict, user) -> None:
    """The indicator is the same on both sides: the trail keeps only changes, so it goes on the after side
    alone, for the entry to say which indicator's target it was."""
    from app.audit.models import record
    before = {k: v for k, v in before.items() if k != "indicator"}
    record("set_adult_target", "unit", province_id, province_id, before=before, after=after, user=user)


def named_learners_living_in(hamlet: AdminUnit) -> int:
    """Distinct named learners who live in the hamlet (as the class form recorded them)."""
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(ClassLearner.person_key)))
                             .where(ClassLearner.hamlet_id == hamlet.id)) or 0


def adult_warning(unit: AdminUnit) -> str | None:
    """A hamlet whose adult population is below its distinct named learners: worth a second look,
    not a refusal (the population may be an old count, or learners may have moved)."""
    from flask_babel import gettext as _

    from app.dates import today_vn
    if unit.level != "hamlet":
        return None
    count = db.session.scalar(sa.select(AdultCount).where(AdultCount.unit_id == unit.id,
                                                          AdultCount.effective_on <= today_vn())
                              .order_by(AdultCount.effective_on.desc()).limit(1))
    if count is None:
        return None
    named = named_learners_living_in(unit)
    if count.adults >= named:
        return None
    return _("%(name)s has %(adults)s adults on record but %(named)s named learners live there: "
             "check the adult population.", name=unit.name, adults=count.adults, named=named)


@dataclass
class AdultRow:
    unit: AdminUnit
    figures: AdultFigures
    url: str | None = None


@dataclass
class AdultTable:
    """What the coverage page's adult section shows: the unit, its child units, the province's targets."""
    total: AdultRow
    rows: list[AdultRow]
    services: list  # the active services with learners who came away with them working, in order
    named_target: AdultTarget | None
    online_target: AdultTarget | None


def adult_table(unit: AdminUnit, children: list[AdminUnit], year: int, month: int, services: list,
                then: bool = False) -> AdultTable:
    """`then`: as the map was that month (the children are the units of the coverage table then);
    otherwise the children may be queries.child_units' plain rows (id, name, level, path)."""
    figures = (adult_months_then if then else adult_months)([unit, *children], [(year, month)])
    rows = [AdultRow(c, figures[c.id][(year, month)]) for c in children]
    total = AdultRow(unit, figures[unit.id][(year, month)])
    targets = adult_targets(province_id_of(unit), month_end(year, month))
    return AdultTable(total=total, rows=rows,
                      services=[s for s in services if total.figures.working.get(s.code)],
                      named_target=targets.get("named_share"), online_target=targets.get("online_share"))


def province_id_of(unit: AdminUnit) -> int | None:
    first = unit.path.strip("/").split("/")[0]
    return int(first) if first else None
