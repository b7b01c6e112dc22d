"""The month-sum fast path (app/coverage/activity_months.py) against the plain queries it replaced:
the month's classes, their results and the shifts' dossiers summed row by row under each unit."""
import uuid
from datetime import date

import sqlalchemy as sa

from app.activities import operations as ops
from app.activities.models import CentreShift, Class, ClassResult, CommuneDossierTotal, ShiftDossier
from app.coverage import activity_months
from app.coverage.adults import adult_months
from app.coverage.models import UnitAncestor
from app.extensions import db
from app.visits.models import Service
from tests.test_named_learners import units

MONTHS = [(2026, 1), (2026, 2), (2026, 3)]


def plain(unit, year, month) -> dict:
    """The plain way: this month's classes, results and shifts under the unit, summed row by row."""
    start, end = date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)
    if unit.level == "hamlet":
        classes = [Class.place_hamlet_id == unit.id]
    else:
        classes = [Class.commune_id.in_(sa.select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == unit.id))]
    in_month = [Class.held_on >= start, Class.held_on < end]
    out = {"attendances": db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Class.learners_total), 0))
                                            .where(*classes, *in_month)),
           "working": {code: n for code, n in db.session.execute(
               sa.select(Service.code, sa.func.sum(ClassResult.learners)).join(Class, Class.id == ClassResult.class_id)
               .join(Service, Service.id == ClassResult.service_id).where(*classes, *in_month).group_by(Service.code))},
           "online": 0, "online_counted": 0}
    if unit.level != "hamlet":
        communes = sa.select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == unit.id)
        entered = sa.exists().where(CommuneDossierTotal.commune_id == CentreShift.commune_id,
                                    CommuneDossierTotal.month == year * 100 + month)
        shifts = (sa.select(ShiftDossier.dossiers).join(CentreShift, CentreShift.id == ShiftDossier.shift_id)
                  .where(CentreShift.commune_id.in_(communes), CentreShift.held_on >= start, CentreShift.held_on < end))
        out["online"] = sum(db.session.scalars(shifts))
        out["online_counted"] = sum(db.session.scalars(shifts.where(entered)))
    return out


def assert_equal_to_plain(tree):
    fast = adult_months(units(tree), MONTHS)
    for unit in units(tree):
        for m in MONTHS:
            f = fast[unit.id][m]
            got = {"attendances": f.attendances, "working": f.working, "online": f.online,
                   "online_counted": f.online_counted}
            assert got == plain(unit, *m), (unit.name, m)
    assert activity_months.verify() == []


def service_id(code):
    return db.session.scalar(sa.select(Service.id).where(Service.code == code))


def class_data(commune, held_on, total, results, hamlet=None):
    return ops.ClassData(commune_id=commune.id, held_on=held_on, place_hamlet_id=hamlet.id if hamlet else None,
                         place_name="" if hamlet else "Nhà văn hóa", learners_total=total, age_15_17=0,
                         age_18_59=total, age_60_plus=0, results={service_id(c): n for c, n in results.items()})


def shift_data(commune, held_on, dossiers):
    return ops.ShiftData(commune_id=commune.id, team_id=None, held_on=held_on, people_helped=5,
                         dossiers={service_id(c): n for c, n in dossiers.items()})


def test_month_sums_equal_the_plain_sums_after_creates_corrections_and_deletes(db, tree):
    first = ops.create_class(class_data(tree.commune, date(2026, 1, 31), 30, {"vneid": 12, "e_wallet": 5},
                                        hamlet=tree.hamlet), uuid.uuid4().hex)
    second = ops.create_class(class_data(tree.commune, date(2026, 2, 1), 25, {"vneid": 4}), uuid.uuid4().hex)
    ops.create_class(class_data(tree.other_commune, date(2026, 2, 14), 20, {"vneid": 6}, hamlet=tree.other_hamlet),
                     uuid.uuid4().hex)
    shift = ops.create_shift(shift_data(tree.commune, date(2026, 2, 10), {"dvc": 12, "vneid": 3}), uuid.uuid4().hex)
    ops.create_shift(shift_data(tree.other_commune, date(2026, 2, 11), {"dvc": 5}), uuid.uuid4().hex)
    db.session.add(CommuneDossierTotal(commune_id=tree.commune.id, month=202602, dossiers=60))
    db.session.commit()
    assert_equal_to_plain(tree)
    feb = adult_months([tree.province], [(2026, 2)])[tree.province.id][(2026, 2)]
    assert (feb.attendances, feb.working, feb.online, feb.online_counted) == (45, {"vneid": 10}, 20, 15)

    # Corrected: moved to February and to another hamlet, a service dropped, another added.
    ops.update_class(first, class_data(tree.commune, date(2026, 2, 2), 28, {"vneid": 10, "dvc": 2},
                                       hamlet=tree.hamlet2))
    ops.update_shift(shift, shift_data(tree.commune, date(2026, 3, 1), {"dvc": 7}))
    db.session.commit()
    assert_equal_to_plain(tree)

    ops.delete_class(second)
    ops.delete_shift(shift)
    db.session.commit()
    assert_equal_to_plain(tree)
    ops.delete_class(first)
    db.session.commit()
    assert_equal_to_plain(tree)


def test_rebuilding_the_month_sums_gives_what_the_operations_kept(db, tree):
    ops.create_class(class_data(tree.commune, date(2026, 2, 3), 30, {"vneid": 12}, hamlet=tree.hamlet),
                     uuid.uuid4().hex)
    ops.create_shift(shift_data(tree.commune, date(2026, 2, 10), {"dvc": 12}), uuid.uuid4().hex)
    db.session.commit()
    t = activity_months.ActivityMonth.__table__
    kept = sorted(db.session.execute(sa.select(t)).all())
    assert len(kept) == 5  # learners and vneid for the commune and the hamlet, the commune's dossiers
    db.session.execute(sa.delete(t).where(t.c.measure == activity_months.ONLINE))
    key = (tree.commune.id, tree.commune.id, 202602, activity_months.ONLINE)
    # The lost row of 12 dossiers is named with both figures.
    assert activity_months.verify() == [f"activity_months {key}: expected 12, stored 0"]
    activity_months.rebuild()
    assert sorted(db.session.execute(sa.select(t)).all()) == kept
    assert activity_months.verify() == []
    # A row of 1 that should not be there.
    stray = (tree.other_commune.id, tree.other_commune.id, 202602, activity_months.ONLINE)
    db.session.execute(sa.insert(t).values(dict(zip(("unit_id", "commune_id", "month", "measure"), stray), n=1)))
    assert activity_months.verify() == [f"activity_months {stray}: expected 0, stored 1"]
    # A lost row of 1.
    db.session.execute(sa.delete(t).where(t.c.commune_id == tree.other_commune.id))
    ops.create_shift(shift_data(tree.commune, date(2026, 3, 5), {"dvc": 1}), uuid.uuid4().hex)
    db.session.commit()
    db.session.execute(sa.delete(t).where(t.c.month == 202603))
    assert activity_months.verify() == [
        f"activity_months {(tree.commune.id, tree.commune.id, 202603, activity_months.ONLINE)}: expected 1, stored 0"]
