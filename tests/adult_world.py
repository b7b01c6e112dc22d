"""A commune with adults, a class of 30 counted and 5 named learners (2 of one visited household) and a
shift, and a second commune's class: the figures every adult test sums by hand."""
import uuid
from datetime import date

import sqlalchemy as sa

from app.activities.models import CentreShift, Class, ClassLearner, ClassResult, CommuneDossierTotal, ShiftDossier
from app.coverage import activity_months, named_learners
from app.extensions import db
from app.units import operations as unit_ops
from app.visits.models import Service

MONTH = (2026, 3)
HELD_ON = date(2026, 3, 14)


def service(code):
    return db.session.scalar(sa.select(Service).where(Service.code == code))


def add_class(commune, held_on, total, ages, hamlet=None, named=(), results=None):
    klass = Class(key=uuid.uuid4().hex, commune_id=commune.id, held_on=held_on,
                  place_hamlet_id=hamlet.id if hamlet else None, place_name="" if hamlet else "Nhà văn hóa",
                  learners_total=total,
                  age_15_17=ages[0], age_18_59=ages[1], age_60_plus=ages[2])
    db.session.add(klass)
    db.session.flush()
    for name, year, home, household_id in named:
        learner = ClassLearner(class_id=klass.id, hamlet_id=home.id if home else None, household_id=household_id)
        learner.set_identity(commune.id, name, year)
        db.session.add(learner)
    for code, n in (results or {}).items():
        db.session.add(ClassResult(class_id=klass.id, service_id=service(code).id, learners=n))
    db.session.flush()
    db.session.refresh(klass)
    named_learners.ClassChange().done(klass)  # as the class operations do
    activity_months.ClassChange().done(klass)
    return klass


def build(tree, household_id=None):
    """Adults: Khu vực 1 1,000, Khu vực 2 800 (Phường I: 1,800), Ấp Nhơn Xuân 600; province 2,400."""
    for unit, n in ((tree.hamlet, 1000), (tree.hamlet2, 800), (tree.other_hamlet, 600)):
        unit_ops.set_adult_count(unit, n, date(2025, 1, 1))
    named = [("Nguyễn Văn An", 1970, tree.hamlet, household_id), ("Trần Thị Bình", 1972, tree.hamlet, household_id),
             ("Lê Văn Cường", 1990, tree.hamlet, None), ("Phạm Thị Dung", 1985, tree.hamlet2, None),
             ("Võ Văn Em", 2008, None, None)]
    add_class(tree.commune, HELD_ON, 30, (3, 20, 7), hamlet=tree.hamlet, named=named,
              results={"vneid": 12, "e_wallet": 5})
    # The same person again the next week (with diacritics dropped): one more attendance, not one more named learner.
    add_class(tree.commune, date(2026, 3, 21), 25, (0, 20, 5), named=[("nguyen van an", 1970, tree.hamlet, None)],
              results={"vneid": 4})
    add_class(tree.other_commune, date(2026, 3, 5), 20, (0, 15, 5), hamlet=tree.other_hamlet,
              named=[("Đỗ Văn Giang", 1960, tree.other_hamlet, None), ("Hồ Thị Hoa", 1962, tree.other_hamlet, None)],
              results={"vneid": 6})
    shift = CentreShift(key=uuid.uuid4().hex, commune_id=tree.commune.id, held_on=date(2026, 3, 10),
                        people_helped=15)
    db.session.add(shift)
    db.session.flush()
    db.session.add_all([ShiftDossier(shift_id=shift.id, service_id=service("dvc").id, dossiers=12),
                        ShiftDossier(shift_id=shift.id, service_id=service("vneid").id, dossiers=3)])
    other = CentreShift(key=uuid.uuid4().hex, commune_id=tree.other_commune.id, held_on=date(2026, 3, 11),
                        people_helped=4)
    db.session.add(other)
    db.session.flush()
    db.session.add(ShiftDossier(shift_id=other.id, service_id=service("dvc").id, dossiers=5))
    db.session.flush()
    for s in (shift, other):  # as the shift operations do
        db.session.refresh(s)
        activity_months.ShiftChange().done(s)
    # Only Phường I entered its month's total: Thị trấn Một Ngàn's 5 dossiers count as filed, not in the share.
    db.session.add(CommuneDossierTotal(commune_id=tree.commune.id, month=202603, dossiers=60))
    db.session.commit()


# The same figures summed by hand.
COMMUNE = dict(adults=1800, attendances=55, named=5, working={"vneid": 16, "e_wallet": 5}, online=15,
               online_counted=15, commune_dossiers=60)
PROVINCE = dict(adults=2400, attendances=75, named=7, working={"vneid": 22, "e_wallet": 5}, online=20,
                online_counted=15, commune_dossiers=60)
