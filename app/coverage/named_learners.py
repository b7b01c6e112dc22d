"""Distinct named learners up to a month's end, from a small table of first-class months.

Faster than counting distinct person_keys over every named learner of the subtree since the first
class (the plain query, kept in tests/test_named_learners.py): a province page read ~400,000
learner rows; it now reads one row per commune (or hamlet) and month.

named_learner_months holds, per commune, how many of its named learners had their first class in
each month, and per hamlet a learner lives in (else the hamlet the class was held in) and class
commune the same. A person_key holds its commune, so nobody is shared between communes and a unit's
learners are the sum of its communes'.

Kept by the class operations (create, correct, delete: app/activities/operations.py) in the same
transaction, not by triggers: a first month after a delete is a minimum over the person's other
classes, which the operations compute for the few people of one class; bulk loads (the province
seed) call rebuild(). `verify()` compares the table with a recomputation (`flask coverage verify`).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from app.activities.models import Class, ClassLearner
from app.coverage.models import NamedLearnerMonth, UnitAncestor
from app.extensions import db
from app.units.models import AdminUnit

# pg_advisory_xact_lock namespace: class changes of one commune recount its learners one at a time.
COMMUNE_LEARNERS_LOCK = 7311

Key = tuple[int, int, str]  # (unit_id, commune_id, person_key): unit_id is the commune or a hamlet


def month_of(d: date) -> int:
    return d.year * 100 + d.month


def _keys(commune_id: int, place_hamlet_id: int | None, learners) -> set[Key]:
    keys: set[Key] = set()
    for learner in learners:
        keys.add((commune_id, commune_id, learner.person_key))
        home = learner.hamlet_id if learner.hamlet_id is not None else place_hamlet_id
        if home is not None:
            keys.add((home, commune_id, learner.person_key))
    return keys


class ClassChange:
    """Take one before a class changes (None for a new class), call done() after it has changed
    (None for a deleted class): the months of its learners' first classes are moved accordingly."""

    def __init__(self, klass: Class | None = None):
        self.class_id = klass.id if klass is not None else None
        self.before: set[Key] = set()
        self.before_month = None
        if klass is not None:
            self.before = _keys(klass.commune_id, klass.place_hamlet_id, klass.learners)
            self.before_month = month_of(klass.held_on)

    def done(self, klass: Class | None = None) -> None:
        after: set[Key] = set()
        after_month = None
        if klass is not None:
            self.class_id = klass.id
            after = _keys(klass.commune_id, klass.place_hamlet_id, klass.learners)
            after_month = month_of(klass.held_on)
        keys = self.before | after
        if not keys:
            return
        lock_communes({c for _u, c, _p in keys})
        others = _firsts_elsewhere(keys, self.class_id)
        delta: dict[tuple[int, int, int], int] = defaultdict(int)
        for key in keys:
            elsewhere = others.get(key)
            old = _earliest(elsewhere, self.before_month if key in self.before else None)
            new = _earliest(elsewhere, after_month if key in after else None)
            if old != new:
                if old is not None:
                    delta[(key[0], key[1], old)] -= 1
                if new is not None:
                    delta[(key[0], key[1], new)] += 1
        _apply(delta)


def _earliest(*months: int | None) -> int | None:
    present = [m for m in months if m is not None]
    return min(present) if present else None


def lock_communes(commune_ids: set[int]) -> None:
    """PostgreSQL: two transactions naming the same person must not both miss each other's class.
    SQLite's writers already hold the database lock one at a time (begin_write)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for commune_id in sorted(commune_ids):
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(COMMUNE_LEARNERS_LOCK, commune_id)))


def _firsts_elsewhere(keys: set[Key], class_id: int | None) -> dict[Key, int]:
    """Each key's first class month over the classes other than this one."""
    home = sa.func.coalesce(ClassLearner.hamlet_id, Class.place_hamlet_id)
    q = (sa.select(Class.commune_id, home, ClassLearner.person_key, sa.func.min(Class.held_on))
         .select_from(ClassLearner).join(Class, Class.id == ClassLearner.class_id)
         .where(ClassLearner.person_key.in_(sorted({p for _u, _c, p in keys})))
         .group_by(Class.commune_id, home, ClassLearner.person_key))
    if class_id is not None:
        q = q.where(Class.id != class_id)
    out: dict[Key, int] = {}
    for commune_id, hamlet_id, person_key, first in db.session.execute(q):
        m = month_of(first)
        for key in ((commune_id, commune_id, person_key), (hamlet_id, commune_id, person_key)):
            if key in keys and (key not in out or m < out[key]):
                out[key] = m
    return out


def _apply(delta: dict[tuple[int, int, int], int]) -> None:
    t = NamedLearnerMonth.__table__
    for (unit_id, commune_id, month), n in sorted(delta.items()):
        if not n:
            continue
        where = sa.and_(t.c.unit_id == unit_id, t.c.commune_id == commune_id, t.c.month == month)
        if db.session.execute(sa.update(t).where(where).values(learners=t.c.learners + n)).rowcount == 0:
            db.session.execute(sa.insert(t).values(unit_id=unit_id, commune_id=commune_id, month=month, learners=n))
        else:
            db.session.execute(sa.delete(t).where(where, t.c.learners == 0))


# --- reading ------------------------------------------------------------------------------------

def upper_firsts(chunk: list[int], first_key: int, last_key: int) -> dict[int, dict[int, int]]:
    """{unit_id: {yyyymm: learners whose first class fell that month}} for communes and units above;
    the months before first_key summed under 0 (a page needs their total, not each of them)."""
    n = NamedLearnerMonth
    month = sa.case((n.month < first_key, 0), else_=n.month)
    per_unit: dict[int, dict[int, int]] = defaultdict(dict)
    for unit_id, key, count in db.session.execute(
            sa.select(UnitAncestor.ancestor_id, month, sa.func.sum(n.learners))
            .select_from(UnitAncestor).join(n, n.unit_id == UnitAncestor.unit_id)
            .where(UnitAncestor.ancestor_id.in_(chunk), n.commune_id == UnitAncestor.unit_id, n.month <= last_key)
            .group_by(UnitAncestor.ancestor_id, month)):
        per_unit[unit_id][key] = int(count)
    return per_unit


def hamlet_firsts(chunk: list[int], first_key: int, last_key: int) -> dict[int, dict[int, int]]:
    """The same for hamlets: learners living there, of the classes of the hamlets' communes."""
    n = NamedLearnerMonth
    month = sa.case((n.month < first_key, 0), else_=n.month)
    parents = sa.select(AdminUnit.parent_id).where(AdminUnit.id.in_(chunk))
    per_unit: dict[int, dict[int, int]] = defaultdict(dict)
    for unit_id, key, count in db.session.execute(
            sa.select(n.unit_id, month, sa.func.sum(n.learners))
            .where(n.unit_id.in_(chunk), n.commune_id.in_(parents), n.commune_id != n.unit_id, n.month <= last_key)
            .group_by(n.unit_id, month)):
        per_unit[unit_id][key] = int(count)
    return per_unit


# --- rebuilding and checking --------------------------------------------------------------------

def expected():
    """What the table should hold, recomputed from every named learner (a select of its columns)."""
    home = sa.func.coalesce(ClassLearner.hamlet_id, Class.place_hamlet_id)
    month = (sa.cast(sa.extract("year", Class.held_on), sa.Integer) * 100
             + sa.cast(sa.extract("month", Class.held_on), sa.Integer))
    joined = sa.select(Class.commune_id, ClassLearner.person_key).select_from(ClassLearner) \
        .join(Class, Class.id == ClassLearner.class_id)
    by_commune = (joined.add_columns(sa.func.min(month).label("month"))
                  .group_by(Class.commune_id, ClassLearner.person_key).subquery())
    by_home = (joined.add_columns(home.label("home"), sa.func.min(month).label("month"))
               .where(home.isnot(None)).group_by(Class.commune_id, home, ClassLearner.person_key).subquery())
    return sa.union_all(
        sa.select(by_commune.c.commune_id.label("unit_id"), by_commune.c.commune_id, by_commune.c.month,
                  sa.func.count().label("learners"))
        .group_by(by_commune.c.commune_id, by_commune.c.month),
        sa.select(by_home.c.home, by_home.c.commune_id, by_home.c.month, sa.func.count())
        .group_by(by_home.c.home, by_home.c.commune_id, by_home.c.month))


def rebuild(connection=None) -> int:
    """Recompute the table from the named learners (after a bulk load); the caller commits."""
    conn = connection if connection is not None else db.session.connection()
    t = NamedLearnerMonth.__table__
    conn.execute(sa.delete(t))
    conn.execute(sa.insert(t).from_select(["unit_id", "commune_id", "month", "learners"], expected()))
    return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()


def verify(connection=None) -> list[str]:
    """Differences between the table and a recomputation; empty when they agree."""
    conn = connection if connection is not None else db.session.connection()
    t = NamedLearnerMonth.__table__
    want = {tuple(r[:3]): r[3] for r in conn.execute(expected())}
    have = {tuple(r[:3]): r[3] for r in conn.execute(sa.select(t.c.unit_id, t.c.commune_id, t.c.month, t.c.learners)
                                                     .where(t.c.learners != 0))}
    return [f"named_learner_months {k}: expected {want.get(k, 0)}, stored {have.get(k, 0)}"
            for k in sorted(set(want) | set(have)) if want.get(k, 0) != have.get(k, 0)]
