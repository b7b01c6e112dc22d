"""A month's classes and shifts summed per commune (and hamlet), kept as the classes change.

Faster than summing the month's classes, their results and the shifts' dossiers row by row and
rolling them up through unit_ancestors on every page (the plain queries, kept in
tests/test_activity_months.py): a province page summed ~2,000 classes and their results for its
month, a trend twelve times that; it now reads one row per commune, month and measure.

activity_months holds per place and month:
    measure ATTENDANCES (0): learners of the classes (learners_total);
    measure > 0: learners who came away with that service (id) working;
    measure ONLINE (-1): online dossiers of the commune's shifts.
A commune's row has unit_id = commune_id; a class held in a hamlet also adds a row for the hamlet
(with the class's commune). Kept by the class and shift operations (app/activities/operations.py)
in the same transaction, under the commune's lock (named_learners.lock_communes); bulk loads call
rebuild(); `flask coverage verify` compares it with a recomputation.
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from app.activities.models import CentreShift, Class, ClassResult, ShiftDossier
from app.coverage.models import ActivityMonth
from app.coverage.named_learners import lock_communes, month_of
from app.extensions import db

ATTENDANCES = 0
ONLINE = -1

Row = tuple[int, int, int, int]  # (unit_id, commune_id, month, measure)


def _class_rows(klass: Class | None) -> dict[Row, int]:
    if klass is None:
        return {}
    month = month_of(klass.held_on)
    places = [klass.commune_id] + ([klass.place_hamlet_id] if klass.place_hamlet_id is not None else [])
    rows: dict[Row, int] = defaultdict(int)
    for place in places:
        rows[(place, klass.commune_id, month, ATTENDANCES)] += klass.learners_total
        for r in klass.results:
            rows[(place, klass.commune_id, month, r.service_id)] += r.learners
    return rows


def _shift_rows(shift: CentreShift | None) -> dict[Row, int]:
    if shift is None:
        return {}
    return {(shift.commune_id, shift.commune_id, month_of(shift.held_on), ONLINE):
            sum(d.dossiers for d in shift.dossiers)}


class _Change:
    rows = staticmethod(lambda record: {})

    def __init__(self, record=None):
        self.before = self.rows(record)

    def done(self, record=None) -> None:
        after = self.rows(record)
        delta: dict[Row, int] = defaultdict(int)
        for row, n in self.before.items():
            delta[row] -= n
        for row, n in after.items():
            delta[row] += n
        delta = {row: n for row, n in delta.items() if n}
        if not delta:
            return
        lock_communes({c for _u, c, _m, _s in delta})
        t = ActivityMonth.__table__
        for (unit_id, commune_id, month, measure), n in sorted(delta.items()):
            where = sa.and_(t.c.unit_id == unit_id, t.c.commune_id == commune_id, t.c.month == month,
                            t.c.measure == measure)
            if db.session.execute(sa.update(t).where(where).values(n=t.c.n + n)).rowcount == 0:
                db.session.execute(sa.insert(t).values(unit_id=unit_id, commune_id=commune_id, month=month,
                                                       measure=measure, n=n))
            else:
                db.session.execute(sa.delete(t).where(where, t.c.n == 0))


class ClassChange(_Change):
    """Take one before a class changes (None for a new one); done(klass) after (None once deleted)."""
    rows = staticmethod(_class_rows)


class ShiftChange(_Change):
    """The same for a shift and its dossiers."""
    rows = staticmethod(_shift_rows)


# --- reading ------------------------------------------------------------------------------------

def upper_sums(chunk: list[int], first: int, last: int):
    """(unit_id, yyyymm, measure, n, n of communes that entered the month's dossier total) for
    communes and the units above them, months first..last."""
    from app.activities.models import CommuneDossierTotal as total
    from app.coverage.models import UnitAncestor as ua
    a = ActivityMonth
    counted = sa.case((total.id.isnot(None), a.n), else_=0)
    return db.session.execute(
        sa.select(ua.ancestor_id, a.month, a.measure, sa.func.sum(a.n), sa.func.sum(counted))
        .select_from(ua).join(a, a.unit_id == ua.unit_id)
        .outerjoin(total, sa.and_(a.measure == ONLINE, total.commune_id == a.commune_id, total.month == a.month))
        .where(ua.ancestor_id.in_(chunk), a.commune_id == ua.unit_id, a.month.between(first, last))
        .group_by(ua.ancestor_id, a.month, a.measure)).all()


def hamlet_sums(chunk: list[int], first: int, last: int):
    """(hamlet_id, yyyymm, measure, n) of the classes held in each hamlet, months first..last."""
    a = ActivityMonth
    return db.session.execute(
        sa.select(a.unit_id, a.month, a.measure, sa.func.sum(a.n))
        .where(a.unit_id.in_(chunk), a.commune_id != a.unit_id, a.month.between(first, last))
        .group_by(a.unit_id, a.month, a.measure)).all()


# --- rebuilding and checking --------------------------------------------------------------------

def _month_sql(column):
    return sa.cast(sa.extract("year", column), sa.Integer) * 100 + sa.cast(sa.extract("month", column), sa.Integer)


def expected():
    """What the table should hold, recomputed from the classes, results and shifts."""
    month = _month_sql(Class.held_on)
    parts = []
    for place in (Class.commune_id, Class.place_hamlet_id):
        parts.append(sa.select(place.label("unit_id"), Class.commune_id, month.label("month"),
                               sa.literal(ATTENDANCES).label("measure"), Class.learners_total.label("n"))
                     .where(place.isnot(None)))
        parts.append(sa.select(place, Class.commune_id, month, ClassResult.service_id, ClassResult.learners)
                     .join(ClassResult, ClassResult.class_id == Class.id).where(place.isnot(None)))
    parts.append(sa.select(CentreShift.commune_id, CentreShift.commune_id, _month_sql(CentreShift.held_on),
                           sa.literal(ONLINE), ShiftDossier.dossiers)
                 .join(ShiftDossier, ShiftDossier.shift_id == CentreShift.id))
    rows = sa.union_all(*parts).subquery()
    return (sa.select(rows.c.unit_id, rows.c.commune_id, rows.c.month, rows.c.measure, sa.func.sum(rows.c.n))
            .group_by(rows.c.unit_id, rows.c.commune_id, rows.c.month, rows.c.measure))


def rebuild(connection=None) -> int:
    conn = connection if connection is not None else db.session.connection()
    t = ActivityMonth.__table__
    conn.execute(sa.delete(t))
    conn.execute(sa.insert(t).from_select(["unit_id", "commune_id", "month", "measure", "n"], expected()))
    return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()


def verify(connection=None) -> list[str]:
    conn = connection if connection is not None else db.session.connection()
    t = ActivityMonth.__table__
    want = {tuple(r[:4]): r[4] for r in conn.execute(expected()) if r[4]}
    have = {tuple(r[:4]): r[4] for r in conn.execute(
        sa.select(t.c.unit_id, t.c.commune_id, t.c.month, t.c.measure, t.c.n).where(t.c.n != 0))}
    return [f"activity_months {k}: expected {want.get(k, 0)}, stored {have.get(k, 0)}"
            for k in sorted(set(want) | set(have)) if want.get(k, 0) != have.get(k, 0)]
