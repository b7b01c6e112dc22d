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

On today's map a page's figures also add the online dossiers and dossier totals of the communes a reorganization
ended into the units asked (heir_map): a commune's own, which no hamlet carried (tests/test_reform_shifts.py).
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from app.activities.models import CommuneDossierTotal
from app.coverage import activity_months, named_learners, rollup
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


@kept_under_tokens(maxsize=256)
def _hamlet_figures(unit_ids: tuple[int, ...], first: int, last: int) -> MonthFigures:
    sums, firsts = [], {}
    for chunk in chunks(list(unit_ids)):
        sums.extend((u, key, measure, n, 0) for u, key, measure, n in activity_months.hamlet_sums(chunk, first, last))
        firsts.update(named_learners.hamlet_firsts(chunk, first, last))
    return MonthFigures(tuple(sums), {}, firsts)


def month_figures(unit_ids: list[int], token: int | None, activity: int | None, first: int,
                  last: int) -> MonthFigures:
    """The month rows of units above the hamlets (None for a token: none yet, read them), with the online
    dossiers and dossier totals of the old communes whose heirs they hold (heir_figures)."""
    key = tuple(sorted(set(unit_ids)))
    own = _upper_figures((token, activity), key, token, first, last)
    heirs = _heir_figures((token, activity, rollup.tree_token()), key, token, first, last)
    if not heirs.sums and not heirs.dossiers:
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
                        own.firsts)


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
    """On today's map, the one-stop-centre shifts' online dossiers and the dossier totals of the old communes
    whose heirs are below unit_ids: a commune's figures, not a hamlet's, which no hamlet carried into the new
    communes. Their other month rows (classes) are not added here."""
    olds = heir_map(list(unit_ids), token)
    if not olds:
        return MonthFigures((), {}, {})
    keys = [k for k in range(first, last + 1) if 1 <= k % 100 <= 12]
    return MonthFigures(tuple(row for row in upper_sums(olds, first, last) if row[2] == ONLINE),
                        dossier_totals(olds, keys), {})


def hamlet_figures(unit_ids: list[int], token: int | None, activity: int | None, first: int,
                   last: int) -> MonthFigures:
    """The month rows of hamlets (their dossiers: none, a total is a commune's)."""
    return _hamlet_figures((token, activity), tuple(sorted(set(unit_ids))), first, last)
