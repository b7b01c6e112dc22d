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
    A class counts under its commune and the units above it, and under the hamlet it was held in;
    a named learner under the class's commune, and under the hamlet they live in (when given, else
    the hamlet the class was held in).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.activities.models import CentreShift, Class, ClassLearner, ClassResult, CommuneDossierTotal, ShiftDossier
from app.coverage import named_learners
from app.coverage.models import ADULT_TARGET_INDICATORS, AdultTarget, UnitAncestor
from app.dates import month_end, month_start
from app.extensions import db
from app.units.models import AdminUnit, AdultCount
from app.visits.models import Service


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
    """The units not inside another of the list: their subtrees cover everyone's."""
    ordered = sorted({u.id: u for u in units}.values(), key=lambda u: len(u.path))
    out: list[AdminUnit] = []
    for u in ordered:
        if not any(u.is_within(t) for t in out):
            out.append(u)
    return out


def _month_key(column):
    """yyyymm of a date column, the same on SQLite and PostgreSQL."""
    return (sa.cast(sa.extract("year", column), sa.Integer) * 100
            + sa.cast(sa.extract("month", column), sa.Integer))


def _key(year: int, month: int) -> int:
    return year * 100 + month


def adult_months(units: list[AdminUnit],
                 months: list[tuple[int, int]]) -> dict[int, dict[tuple[int, int], AdultFigures]]:
    out = {u.id: {m: AdultFigures() for m in months} for u in units}
    if not units or not months:
        return out
    first, last = month_start(*min(months)), month_end(*max(months))
    tree = AdultTree(_topmost(units))
    for u in units:
        for m in months:
            out[u.id][m].adults = tree.adults(u.id, month_end(*m))
    hamlets = [u.id for u in units if u.level == "hamlet"]
    upper = [u.id for u in units if u.level != "hamlet"]
    # Activity joins the units through an indexed column, never an expression: a commune and the
    # units above it count their communes' classes and shifts (class_id -> commune_id ->
    # unit_ancestors), a hamlet the classes held in it.
    for chunk in _chunks(upper):
        _activity(out, months, first, last, UnitAncestor.ancestor_id, Class.commune_id, chunk,
                  join=UnitAncestor.unit_id == Class.commune_id)
        _shifts(out, months, first, last, chunk)
        _named_upper(out, months, last, chunk)
    for chunk in _chunks(hamlets):
        _activity(out, months, first, last, Class.place_hamlet_id, Class.place_hamlet_id, chunk)
        _named_hamlets(out, months, last, chunk)
    return out


def _bucket(out, months, unit_id: int, key: int):
    """The figures of (unit, month key), or None for a month not asked for."""
    for m in months:
        if _key(*m) == key:
            return out[unit_id][m]
    return None


def _activity(out, months, first, last, unit_col, where_col, chunk, join=None):
    """Attendances and services working per unit and month. The month's classes are summed per
    commune (or hamlet) first, through the date index, and only those sums meet the unit tree."""
    mk = _month_key(Class.held_on).label("month")
    in_range = Class.held_on.between(first, last)
    place = where_col.label("place")
    # Only the places under the units asked for: a commune's page reads its own classes, not the province's.
    places = (where_col.in_(sa.select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(chunk)))
              if join is not None else where_col.in_(chunk))
    classes = (sa.select(place, mk, sa.func.sum(Class.learners_total).label("n"))
               .where(in_range, places).group_by(place, mk).subquery())
    results = (sa.select(place, mk, ClassResult.service_id, sa.func.sum(ClassResult.learners).label("n"))
               .join(Class, Class.id == ClassResult.class_id).where(in_range, places)
               .group_by(place, mk, ClassResult.service_id).subquery())
    if join is not None:
        anc = UnitAncestor.ancestor_id
        q = (sa.select(anc, classes.c.month, sa.func.sum(classes.c.n))
             .join(UnitAncestor, UnitAncestor.unit_id == classes.c.place)
             .where(anc.in_(chunk)).group_by(anc, classes.c.month))
        r = (sa.select(anc, results.c.month, Service.code, sa.func.sum(results.c.n))
             .join(UnitAncestor, UnitAncestor.unit_id == results.c.place)
             .join(Service, Service.id == results.c.service_id)
             .where(anc.in_(chunk)).group_by(anc, results.c.month, Service.code))
    else:
        q = sa.select(classes.c.place, classes.c.month, classes.c.n).where(classes.c.place.in_(chunk))
        r = (sa.select(results.c.place, results.c.month, Service.code, results.c.n)
             .join(Service, Service.id == results.c.service_id).where(results.c.place.in_(chunk)))
    for unit_id, key, n in db.session.execute(q):
        f = _bucket(out, months, unit_id, key)
        if f is not None:
            f.attendances = int(n or 0)
    for unit_id, key, code, n in db.session.execute(r):
        f = _bucket(out, months, unit_id, key)
        if f is not None:
            f.working[code] = int(n or 0)


def _shifts(out, months, first, last, chunk):
    """Online dossiers per unit and month, and the communes' totals (shifts belong to communes)."""
    anc = UnitAncestor.ancestor_id
    sk = _month_key(CentreShift.held_on)
    total = CommuneDossierTotal
    for unit_id, key, n, counted in db.session.execute(
            sa.select(anc, sk, sa.func.sum(ShiftDossier.dossiers),
                      sa.func.sum(sa.case((total.id.isnot(None), ShiftDossier.dossiers), else_=0)))
            .select_from(ShiftDossier).join(CentreShift, CentreShift.id == ShiftDossier.shift_id)
            .join(UnitAncestor, UnitAncestor.unit_id == CentreShift.commune_id)
            .outerjoin(total, sa.and_(total.commune_id == CentreShift.commune_id, total.month == sk))
            .where(anc.in_(chunk), CentreShift.held_on.between(first, last)).group_by(anc, sk)):
        f = _bucket(out, months, unit_id, key)
        if f is not None:
            f.online, f.online_counted = int(n or 0), int(counted or 0)
    for unit_id, key, n in db.session.execute(
            sa.select(anc, total.month, sa.func.sum(total.dossiers))
            .join(UnitAncestor, UnitAncestor.unit_id == total.commune_id)
            .where(anc.in_(chunk), total.month.in_([_key(*m) for m in months])).group_by(anc, total.month)):
        f = _bucket(out, months, unit_id, key)
        if f is not None:
            f.commune_dossiers = int(n or 0)


def _cumulate(out, months, per_unit: dict[int, dict[int, int]]) -> None:
    """Named learners by the end of each month from the number whose first class fell in each month."""
    for unit_id, firsts in per_unit.items():
        for m in months:
            out[unit_id][m].named = sum(n for key, n in firsts.items() if key <= _key(*m))


def _named_upper(out, months, last, chunk):
    """Distinct named learners of communes and the units above them (app/coverage/named_learners.py)."""
    _cumulate(out, months, named_learners.upper_firsts(chunk, _key(last.year, last.month)))


def _named_hamlets(out, months, last, chunk):
    """Distinct named learners living in each hamlet (or, with no hamlet given, taught in it)."""
    _cumulate(out, months, named_learners.hamlet_firsts(chunk, _key(last.year, last.month)))


def adult_month(unit: AdminUnit, year: int, month: int) -> AdultFigures:
    return adult_months([unit], [(year, month)])[unit.id][(year, month)]


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def adult_targets(province_id: int | None) -> dict[str, AdultTarget]:
    """The province's targets by indicator code (ADULT_TARGET_INDICATORS)."""
    if province_id is None:
        return {}
    return {t.indicator: t for t in db.session.scalars(
        sa.select(AdultTarget).where(AdultTarget.province_id == province_id))}


def set_adult_target(province: AdminUnit, indicator: str, share, due_on: date | None, user=None) -> None:
    """Set (share and date) or clear (share None) a province's target for an indicator, audited;
    the caller commits."""
    from app.audit.models import record
    if indicator not in ADULT_TARGET_INDICATORS:
        raise ValueError(f"unknown adult indicator {indicator!r}")
    target = db.session.scalar(sa.select(AdultTarget).where(AdultTarget.province_id == province.id,
                                                            AdultTarget.indicator == indicator))
    before = {"indicator": indicator, "share": float(target.share) if target else None,
              "due_on": target.due_on if target else None}
    if share is None:
        if target is None:
            return
        db.session.delete(target)
    else:
        if target is None:
            target = AdultTarget(province_id=province.id, indicator=indicator)
            db.session.add(target)
        target.share, target.due_on = share, due_on
    record("set_adult_target", "unit", province.id, province.id, before=before,
           after={"indicator": indicator, "share": float(share) if share is not None else None,
                  "due_on": due_on}, user=user)


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


def adult_table(unit: AdminUnit, children: list[AdminUnit], year: int, month: int, services: list) -> AdultTable:
    figures = adult_months([unit, *children], [(year, month)])
    rows = [AdultRow(c, figures[c.id][(year, month)]) for c in children]
    total = AdultRow(unit, figures[unit.id][(year, month)])
    targets = adult_targets(province_id_of(unit))
    return AdultTable(total=total, rows=rows,
                      services=[s for s in services if total.figures.working.get(s.code)],
                      named_target=targets.get("named_share"), online_target=targets.get("online_share"))


def province_id_of(unit: AdminUnit) -> int | None:
    first = unit.path.strip("/").split("/")[0]
    return int(first) if first else None
