"""The adult month sums, named learners' first months and dossier totals of communes and the units
above them, each commune's rows read once and added up per unit in Python.

Fast path: faster than the plain queries (activity_months.upper_sums, named_learners.upper_firsts,
adults.dossier_totals), which join unit_ancestors and so read every commune's rows once per unit
asked: a province page read them for the province and again for each of its districts. Here the
communes' rows are read once, and which asked units each commune counts under (every unit_ancestors
row, former ancestors included, as the plain queries join them) is kept in the worker's memory under
the adult roll-up's token (app/coverage/rollup.py), which the triggers replace whenever units or
unit_ancestors change. tests/test_by_commune.py holds each equal to its plain query.

Fast path on top: what a page asks for (month_figures, hamlet_figures) is kept in the worker's memory
under two tokens, the adult roll-up's and the adult_activity token, which triggers replace in the same
transaction whenever activity_months, named_learner_months or commune_dossier_totals change (a class,
a shift, a dossier total, a reorganization). Faster than reading and adding them up on every page:
logging visits changes none of them, so a coverage page between two classes reads none of its adult
rows. tests/test_by_commune.py holds the remembered figures equal to fresh ones after each change.

On today's map a page's figures also add the classes, named learners, online dossiers and dossier totals of the
communes a reorganization ended into the units asked (heir_map): a commune's own, which no hamlet carried, a learner
of several of them once (tests/test_reform_shifts.py, tests/test_reform_classes.py).
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from app.activities.models import CommuneDossierTotal
from app.coverage import rollup
from app.coverage.activity_months import ONLINE
from app.coverage.models import ADULT_ACTIVITY, ActivityMonth, NamedLearnerMonth, UnitAncestor
from app.extensions import db
from app.id_lists import chunks
from app.units.models import AdminUnit
from app.worker_memo import kept_under_tokens

CommuneMap = dict[int, tuple[int, ...]]  # commune (or any unit above hamlets) -> the asked units it counts under



@kept_under_tokens(maxsize=256)
def _map_of(unit_ids: tuple[int, ...]) -> CommuneMap:
    ua, units = UnitAncestor.__table__.c, AdminUnit.__table__.c
    out: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(list(unit_ids)):
        for unit_id, ancestor_id in db.session.execute(
                sa.select(ua.unit_id, ua.ancestor_id).join(AdminUnit.__table__, units.id == ua.unit_id)
                .where(ua.ancestor_id.in_(chunk), units.level != "hamlet")):
            out[unit_id].append(ancestor_id)
    return {c: tuple(a) for c, a in out.items()}


def commune_map(unit_ids: list[int], token: int | None) -> CommuneMap:
    """Which of unit_ids each unit above the hamlets below them counts under (None: no token, read it)."""
    key = tuple(sorted(set(unit_ids)))
    return _map_of((token,), key)


def _alone(communes: CommuneMap) -> tuple[int, ...] | None:
    """The one unit every commune counts under, if there is one and nothing else."""
    units = set(communes.values())
    return next(iter(units)) if len(units) == 1 and len(next(iter(units))) == 1 else None


def upper_sums(communes: CommuneMap, first: int, last: int) -> list[tuple[int, int, int, int, int]]:
    """As activity_months.upper_sums: (unit_id, yyyymm, measure, n, n of communes that entered the
    month's dossier total), months first..last."""
    a, total = ActivityMonth.__table__.c, CommuneDossierTotal.__table__
    counted = sa.case((total.c.id.isnot(None), a.n), else_=0)
    # Every commune under one unit (a trend asks for its unit alone): the database adds them up.
    alone = _alone(communes)
    columns = ([sa.literal(0), a.month, a.measure, sa.func.sum(a.n), sa.func.sum(counted)] if alone
               else [a.commune_id, a.month, a.measure, a.n, counted])
    sums: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for chunk in chunks(sorted(communes)):
        q = (sa.select(*columns)
             .select_from(ActivityMonth.__table__.outerjoin(
                 total, sa.and_(a.measure == ONLINE, total.c.commune_id == a.commune_id, total.c.month == a.month)))
             .where(a.unit_id.in_(chunk), a.commune_id == a.unit_id, a.month.between(first, last)))
        for commune_id, month, measure, n, c in db.session.execute(q.group_by(a.month, a.measure) if alone else q):
            n, c = int(n or 0), int(c or 0)
            for unit_id in alone or communes[commune_id]:
                s = sums[(unit_id, month, measure)]
                s[0] += n
                s[1] += c
    return [(u, m, measure, n, c) for (u, m, measure), (n, c) in sums.items()]


def upper_firsts(communes: CommuneMap, first_key: int, last_key: int) -> dict[int, dict[int, int]]:
    """As named_learners.upper_firsts: {unit_id: {yyyymm: learners whose first class fell that month}},
    the months before first_key under 0."""
    n = NamedLearnerMonth.__table__.c
    month = sa.case((n.month < first_key, 0), else_=n.month)
    per_unit: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    alone = _alone(communes)
    for chunk in chunks(sorted(communes)):
        by = [month] if alone else [n.commune_id, month]
        for *commune, key, count in db.session.execute(
                sa.select(*by, sa.func.sum(n.learners))
                .where(n.unit_id.in_(chunk), n.commune_id == n.unit_id, n.month <= last_key).group_by(*by)):
            for unit_id in alone or communes[commune[0]]:
                per_unit[unit_id][key] += int(count)
    return {u: dict(by_month) for u, by_month in per_unit.items()}


def dossier_totals(communes: CommuneMap, keys: list[int]) -> dict[tuple[int, int], int]:
    """As adults.dossier_totals: {(unit_id, yyyymm): the dossiers its communes entered for the month}."""
    t = CommuneDossierTotal.__table__.c
    out: dict[tuple[int, int], int] = defaultdict(int)
    for chunk in chunks(sorted(communes)):
        for commune_id, month, dossiers in db.session.execute(
                sa.select(t.commune_id, t.month, t.dossiers).where(t.commune_id.in_(chunk), t.month.in_(keys))):
            for unit_id in communes[commune_id]:
                out[(unit_id, month)] += int(dossiers or 0)
    return dict(out)


# --- The adult_activity token and what is kept under it -----------------------------------------

_ACTIVITY_TABLES = {"activity_months": "months", "named_learner_months": "learners",
                    "commune_dossier_totals": "dossiers"}


def activity_token_ddl(dialect: str) -> list[str]:
    """The adult_activity token's triggers as this module builds them (the migration carries a frozen copy)."""
    return rollup.tables_token_ddl(ADULT_ACTIVITY, "activity_token", _ACTIVITY_TABLES, dialect)


def replace_activity_token(conn) -> None:
    """Mark every worker's remembered adult month figures stale (the triggers do it on every change)."""
    rollup.replace_token(conn, ADULT_ACTIVITY)


class MonthFigures(NamedTuple):
    """Units' adult month rows for months first..last, as upper_sums / hamlet_sums, dossier_totals
    and upper_firsts / hamlet_firsts give them. Nothing mutates them once made."""
    sums: tuple
    dossiers: dict[tuple[int, int], int]
    firsts: dict[int, dict[int, int]]


# Kept per (adult token, adult_activity token) and question (app/worker_memo.py).
@kept_under_tokens(maxsize=256)
def _upper_figures(unit_ids: tuple[int, ...], token: int | None, first: int, last: int) -> MonthFigures:
    communes = commune_map(list(unit_ids), token)
    keys = [k for k in range(first, last + 1) if 1 <= k % 100 <= 12]
    return MonthFigures(tuple(upper_sums(communes, first, last)), dossier_totals(communes, keys),
                        upper_firsts(communes, first, last))


def month_figures(unit_ids: list[int], token: int | None, activity: int | None, first: int,
                  last: int, heirs: bool = True) -> MonthFigures:
    """The month rows of units above the hamlets (None for a token: none yet, read them), with (`heirs`: on
    today's map) the classes, named learners, online dossiers and dossier totals of the old communes whose heirs
    they hold (heir_figures)."""
    key = tuple(sorted(set(unit_ids)))
    own = _upper_figures((token, activity), key, token, first, last)
    if not heirs:
        return own
    heirs = _heir_figures((token, activity, rollup.tree_token()), key, token, first, last)
    if not heirs.sums and not heirs.dossiers and not heirs.firsts:
        return own
    sums: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for unit_id, month, measure, n, counted in (*own.sums, *heirs.sums):
        s = sums[(unit_id, month, measure)]
        s[0] += n
        s[1] += counted
    dossiers = dict(own.dossiers)
    for k, n in heirs.dossiers.items():
        dossiers[k] = dossiers.get(k, 0) + n
    return MonthFigures(tuple((u, m, measure, n, c) for (u, m, measure), (n, c) in sums.items()), dossiers,
                        _added(own.firsts, heirs.firsts))


def _added(*firsts: dict[int, dict[int, int]]) -> dict[int, dict[int, int]]:
    """First-class months of several sources, added up per unit and month (new dicts: the sources are kept)."""
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for per_unit in firsts:
        for unit_id, by_month in per_unit.items():
            for key, n in by_month.items():
                out[unit_id][key] += n
    return {u: dict(by_month) for u, by_month in out.items()}


def heir_map(unit_ids: list[int], token: int | None) -> CommuneMap:
    """The communes a reorganization ended -> which of unit_ids their heir counts under (app.units.history
    .commune_heirs), leaving out those they count under already (as the map was, an old unit holds them)."""
    from app.units.history import commune_heirs
    communes = commune_map(unit_ids, token)
    out = {}
    for old, chain in commune_heirs().items():
        under = {u for heir in chain for u in communes.get(heir, ())} - set(communes.get(old, ()))
        if under:
            out[old] = tuple(sorted(under))
    return out


# Kept per (adult token, adult_activity token, tree token) and question.
@kept_under_tokens(maxsize=256)
def _heir_figures(unit_ids: tuple[int, ...], token: int | None, first: int, last: int) -> MonthFigures:
    """On today's map, the classes, named learners, one-stop-centre shifts' online dossiers and dossier totals of
    the old communes whose heirs are below unit_ids: a commune's figures (a class is held by a commune's team, its
    learners may live in no hamlet), which no hamlet carried into the new communes. A learner named in several of
    the old communes a new commune holds (and in it) is one of its learners (learners_once)."""
    olds = heir_map(list(unit_ids), token)
    if not olds:
        return MonthFigures((), {}, {})
    keys = [k for k in range(first, last + 1) if 1 <= k % 100 <= 12]
    once = learners_once(commune_map(list(unit_ids), token), first, last)
    return MonthFigures(tuple(upper_sums(olds, first, last)), dossier_totals(olds, keys),
                        _added(upper_firsts(olds, first, last), once))


def _today_commune(commune_id: int, heirs: dict[int, tuple[int, ...]]) -> int:
    """The commune an old one's figures count under on today's map (itself for a commune no reorganization
    ended)."""
    chain = heirs.get(commune_id)
    return chain[-1] if chain else commune_id


def _shared_learners(last: int) -> list[tuple[int, int | None, str, int, int]]:
    """(commune, home hamlet, folded name, birth year or 0, first month) of the named learners of the communes
    that took part in a reorganization (ended or made by one) who were named in a commune it ended, by classes
    held up to `last`: only they can have been counted in two communes that are one today. Within a commune a
    learner is known by the folded name and birth year (activities.models.person_key)."""
    from app.activities.models import Class, ClassLearner
    from app.units.models import UnitSuccession
    s = UnitSuccession.__table__.c
    year = sa.func.coalesce(ClassLearner.birth_year, 0)
    month = (sa.cast(sa.extract("year", Class.held_on), sa.Integer) * 100
             + sa.cast(sa.extract("month", Class.held_on), sa.Integer))
    # The learners of the ended communes: a set the new communes' classes no longer add to.
    ended = (sa.select(ClassLearner.name_folded.label("name"), year.label("year")).distinct()
             .join(Class, Class.id == ClassLearner.class_id)
             .where(Class.commune_id.in_(sa.select(s.old_unit_id)), month <= last).subquery())
    reorganized = sa.union(sa.select(s.old_unit_id), sa.select(s.new_unit_id))
    home = sa.func.coalesce(ClassLearner.hamlet_id, Class.place_hamlet_id)
    return [(c, h, name, y, int(m)) for c, h, name, y, m in db.session.execute(
        sa.select(Class.commune_id, home, ClassLearner.name_folded, year, sa.func.min(month))
        .select_from(ClassLearner).join(Class, Class.id == ClassLearner.class_id)
        .join(ended, sa.and_(ended.c.name == ClassLearner.name_folded, ended.c.year == year))
        .where(Class.commune_id.in_(reorganized), month <= last)
        .group_by(Class.commune_id, home, ClassLearner.name_folded, year))]


def _once(firsts: dict[tuple, dict[int, int]], first: int) -> dict[tuple, dict[int, int]]:
    """For each (place, person) counted once, given the first month in each commune it was counted under
    separately: what to add to the first-class months counted per commune (-1 on each commune's first month,
    +1 on the earliest; the months before `first` under 0)."""
    out: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (place, _person), by_commune in firsts.items():
        if len(by_commune) < 2:
            continue
        for m in by_commune.values():
            out[place][m if m >= first else 0] -= 1
        earliest = min(by_commune.values())
        out[place][earliest if earliest >= first else 0] += 1
    return out


def learners_once(communes: CommuneMap, first: int, last: int) -> dict[int, dict[int, int]]:
    """On today's map: a learner named in several of the old communes a commune of `communes` holds (and in it)
    counts once in that commune and the units above it. What to add to the first-class months of the units
    asked, {unit_id: {yyyymm: n}} (negative where a learner counted twice before)."""
    from app.units.history import commune_heirs
    heirs = commune_heirs()
    firsts: dict[tuple, dict[int, int]] = defaultdict(dict)
    for commune_id, _home, name, year, month in _shared_learners(last):
        today = _today_commune(commune_id, heirs)
        if today in communes:
            seen = firsts[(today, (name, year))]
            seen[commune_id] = min(month, seen.get(commune_id, month))
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for today, by_month in _once(firsts, first).items():
        for unit_id in communes[today]:
            for key, n in by_month.items():
                out[unit_id][key] += n
    return {u: dict(by_month) for u, by_month in out.items()}


def _carried(parents: set[int]) -> dict[int, set[int]]:
    """Each commune -> the communes whose classes and learners it counts on today's map: itself, and the old
    communes whose heir it is (app.units.history.commune_heirs)."""
    from app.units.history import commune_heirs
    out = {p: {p} for p in parents}
    for old, chain in commune_heirs().items():
        for heir in chain:
            if heir in out:
                out[heir].add(old)
    return out


# Kept per (adult token, adult_activity token, tree token) and question.
@kept_under_tokens(maxsize=256)
def _hamlet_figures(unit_ids: tuple[int, ...], first: int, last: int, heirs: bool) -> MonthFigures:
    """A hamlet counts the classes held in it and its learners of the classes of its commune, and (`heirs`: on
    today's map) of the old communes its commune carries (_carried): a class of a split commune held in a hamlet
    that went to another part counts with its commune, on the main successor, as its learners do. Without
    `heirs`, every class held in it (a month after the reform: those of its commune then)."""
    a, n = ActivityMonth.__table__.c, NamedLearnerMonth.__table__.c
    parent: dict[int, int] = {}
    for chunk in chunks(list(unit_ids)):
        parent.update(db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id)
                                         .where(AdminUnit.id.in_(chunk))).all())
    carried = _carried(set(parent.values())) if heirs else {p: {p} for p in parent.values()}
    sums: dict[tuple[int, int, int], int] = defaultdict(int)
    firsts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    month = sa.case((n.month < first, 0), else_=n.month)
    for chunk in chunks(list(unit_ids)):
        for u, commune_id, key, measure, count in db.session.execute(
                sa.select(a.unit_id, a.commune_id, a.month, a.measure, a.n)
                .where(a.unit_id.in_(chunk), a.commune_id != a.unit_id, a.month.between(first, last))):
            if not heirs or commune_id in carried.get(parent[u], ()):
                sums[(u, key, measure)] += int(count)
        for u, commune_id, key, count in db.session.execute(
                sa.select(n.unit_id, n.commune_id, month, sa.func.sum(n.learners))
                .where(n.unit_id.in_(chunk), n.commune_id != n.unit_id, n.month <= last)
                .group_by(n.unit_id, n.commune_id, month)):
            if commune_id in carried.get(parent[u], ()):
                firsts[u][key] += int(count)
    # A learner living in the hamlet named in several of the communes it counts (merged since): once.
    if any(len(c) > 1 for c in carried.values()):
        seen: dict[tuple, dict[int, int]] = defaultdict(dict)
        for commune_id, home, name, year, m in _shared_learners(last):
            if home in parent and commune_id in carried.get(parent[home], ()):
                by_commune = seen[(home, (name, year))]
                by_commune[commune_id] = min(m, by_commune.get(commune_id, m))
        for u, by_month in _once(seen, first).items():
            for key, count in by_month.items():
                firsts[u][key] += count
    return MonthFigures(tuple((u, key, measure, count, 0) for (u, key, measure), count in sums.items()), {},
                        {u: dict(by_month) for u, by_month in firsts.items()})


def hamlet_figures(unit_ids: list[int], token: int | None, activity: int | None, first: int,
                   last: int, heirs: bool = True) -> MonthFigures:
    """The month rows of hamlets (their dossiers: none, a total is a commune's)."""
    return _hamlet_figures((token, activity, rollup.tree_token()), tuple(sorted(set(unit_ids))), first, last,
                           heirs)
