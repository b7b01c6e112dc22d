"""The named-learner fast path (app/coverage/named_learners.py) against the plain query it replaced:
distinct person_keys of the classes up to a month's end, per unit, read from every named learner."""
import uuid
from datetime import date

import sqlalchemy as sa

from app.activities import operations as ops
from app.activities.models import Class, ClassLearner
from app.coverage import named_learners
from app.coverage.adults import adult_months
from app.coverage.models import UnitAncestor
from app.extensions import db
from app.units.models import AdminUnit

MONTHS = [(2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]


def plain_named(unit: AdminUnit, year: int, month: int) -> int:
    """The plain way: every named learner of the subtree with a class up to the month's end."""
    last = date(year + (month == 12), month % 12 + 1, 1)
    if unit.level == "hamlet":
        home = sa.func.coalesce(ClassLearner.hamlet_id, Class.place_hamlet_id)
        where = [home == unit.id, Class.commune_id == unit.parent_id]
    else:
        where = [Class.commune_id.in_(sa.select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == unit.id))]
    return db.session.scalar(
        # A person_key holds its commune: distinct keys are distinct (commune, person) pairs.
        sa.select(sa.func.count(sa.distinct(ClassLearner.person_key)))
        .select_from(ClassLearner).join(Class, Class.id == ClassLearner.class_id)
        .where(Class.held_on < last, *where))


def units(tree):
    return [tree.province, tree.district, tree.other_district, tree.commune, tree.sibling_commune,
            tree.other_commune, tree.hamlet, tree.hamlet2, tree.other_hamlet]


def assert_equal_to_plain(tree):
    fast = adult_months(units(tree), MONTHS)
    for unit in units(tree):
        for m in MONTHS:
            assert fast[unit.id][m].named == plain_named(unit, *m), (unit.name, m)
    assert named_learners.verify() == []


def data(commune, held_on, learners, hamlet=None):
    return ops.ClassData(commune_id=commune.id, held_on=held_on, place_hamlet_id=hamlet.id if hamlet else None,
                         place_name="" if hamlet else "Nhà văn hóa", learners_total=max(len(learners), 1),
                         age_15_17=0, age_18_59=max(len(learners), 1), age_60_plus=0,
                         learners=[ops.Learner(name, year, home.id if home else None) for name, year, home in learners])


def test_named_learners_equal_the_plain_count_after_creates_corrections_and_deletes(db, tree):
    an, binh, cuong = ("Nguyễn Văn An", 1970, tree.hamlet), ("Trần Thị Bình", 1972, None), ("Lê Văn Cường", 1990,
                                                                                             tree.hamlet2)
    first = ops.create_class(data(tree.commune, date(2026, 1, 10), [an, binh], hamlet=tree.hamlet2), uuid.uuid4().hex)
    # An again, later and taught elsewhere: still one named learner, first counted in January.
    second = ops.create_class(data(tree.commune, date(2026, 3, 2), [an, cuong]), uuid.uuid4().hex)
    ops.create_class(data(tree.other_commune, date(2026, 2, 20), [("Đỗ Văn Giang", 1960, tree.other_hamlet)],
                          hamlet=tree.other_hamlet), uuid.uuid4().hex)
    db.session.commit()
    assert_equal_to_plain(tree)
    assert adult_months([tree.commune], [(2026, 1), (2026, 3)])[tree.commune.id][(2026, 3)].named == 3

    # Corrected: the first class moved to April, so An's first class is now the March one.
    ops.update_class(first, data(tree.commune, date(2026, 4, 1), [an, binh, ("Võ Văn Em", 2008, None)],
                                 hamlet=tree.hamlet))
    db.session.commit()
    assert_equal_to_plain(tree)
    # Corrected again: a learner dropped from the March class.
    ops.update_class(second, data(tree.commune, date(2026, 3, 2), [cuong]))
    db.session.commit()
    assert_equal_to_plain(tree)

    ops.delete_class(second)
    db.session.commit()
    assert_equal_to_plain(tree)
    ops.delete_class(first)
    db.session.commit()
    assert_equal_to_plain(tree)
    assert adult_months([tree.commune], [(2026, 4)])[tree.commune.id][(2026, 4)].named == 0


def test_rebuilding_the_named_learner_months_gives_what_the_operations_kept(db, tree):
    ops.create_class(data(tree.commune, date(2026, 2, 3), [("Nguyễn Văn An", 1970, tree.hamlet),
                                                           ("Trần Thị Bình", 1972, None)], hamlet=tree.hamlet2),
                     uuid.uuid4().hex)
    db.session.commit()
    t = named_learners.NamedLearnerMonth.__table__
    kept = sorted(db.session.execute(sa.select(t)).all())
    assert kept  # two learners in the commune, one at home in Khu vực 1, one counted where taught
    db.session.execute(sa.update(t).values(learners=t.c.learners + 1))
    assert named_learners.verify()  # a wrong table is reported
    named_learners.rebuild()
    assert sorted(db.session.execute(sa.select(t)).all()) == kept
    assert named_learners.verify() == []
    # A row lost and a row that should not be there, each of one learner, each named with both figures.
    lost = db.session.execute(sa.select(t.c.unit_id, t.c.commune_id, t.c.month).where(t.c.learners == 1)).first()
    db.session.execute(sa.delete(t).where(t.c.unit_id == lost.unit_id, t.c.commune_id == lost.commune_id,
                                          t.c.month == lost.month))
    db.session.execute(sa.insert(t).values(unit_id=tree.other_commune.id, commune_id=tree.other_commune.id,
                                           month=202602, learners=1))
    assert named_learners.verify() == [
        f"named_learner_months {k}: expected {want}, stored {have}"
        for k, want, have in sorted([((lost.unit_id, lost.commune_id, lost.month), 1, 0),
                                     ((tree.other_commune.id, tree.other_commune.id, 202602), 0, 1)])]
