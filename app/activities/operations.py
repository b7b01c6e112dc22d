"""Every change to classes, shifts and dossier totals, with its audit event. Nothing here commits:
the caller commits once, so a class and its learners, results and event are written together or not at all.
"""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.activities.models import (
    CentreShift,
    Class,
    ClassLearner,
    ClassResult,
    CommuneDossierTotal,
    DeletedActivityKey,
    ShiftDossier,
    Topic,
)
from app.audit.models import record
from app.coverage import activity_months, named_learners
from app.database import sqlite_write_lock_now
from app.extensions import db
from app.households.models import Household
from app.models_base import sync_per_service, utcnow
from app.teams.models import Member, Team
from app.text import fold
from app.units.models import AdminUnit, UnitPlacement


@dataclass
class Learner:
    name: str
    birth_year: int | None = None
    hamlet_id: int | None = None
    phone: str = ""


@dataclass
class ClassData:
    commune_id: int
    held_on: date
    place_hamlet_id: int | None
    place_name: str
    learners_total: int
    age_15_17: int
    age_18_59: int
    age_60_plus: int
    learners_female: int | None = None
    learners_male: int | None = None
    topic_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    results: dict[int, int] = field(default_factory=dict)   # service_id -> learners with it working
    learners: list[Learner] = field(default_factory=list)
    note: str = ""


@dataclass
class ShiftData:
    commune_id: int
    team_id: int | None
    held_on: date
    people_helped: int
    member_ids: list[int] = field(default_factory=list)
    dossiers: dict[int, int] = field(default_factory=dict)  # service_id -> online dossiers filed
    note: str = ""


# --- the form key: exactly once, as visits -----------------------------------------------------

def find_class_by_key(key: str) -> int | None:
    return db.session.scalar(sa.select(Class.id).where(Class.key == key))


def find_shift_by_key(key: str) -> int | None:
    return db.session.scalar(sa.select(CentreShift.id).where(CentreShift.key == key))


def find_deleted_key(key: str) -> DeletedActivityKey | None:
    """The record this form key made and that was deleted since, if any."""
    return db.session.get(DeletedActivityKey, key)


def begin_write() -> None:
    """SQLite: take the write lock before the key checks (BEGIN IMMEDIATE), so two posts of one form
    cannot both find no class and both insert; the unique key settles it on PostgreSQL."""
    sqlite_write_lock_now(db.session.connection())


# --- classes ------------------------------------------------------------------------------------

def class_snapshot(klass: Class) -> dict:
    return {
        "held_on": klass.held_on, "place_hamlet_id": klass.place_hamlet_id, "place_name": klass.place_name,
        "learners_total": klass.learners_total, "learners_female": klass.learners_female,
        "learners_male": klass.learners_male, "age_15_17": klass.age_15_17, "age_18_59": klass.age_18_59,
        "age_60_plus": klass.age_60_plus, "topics": sorted(t.id for t in klass.topics),
        "teams": sorted(t.id for t in klass.teams), "members": sorted(m.id for m in klass.members),
        "results": {str(r.service_id): r.learners for r in sorted(klass.results, key=lambda r: r.service_id)},
        # Names of learners are personal data: the trail keeps how many, not who.
        "named_learners": len(klass.learners), "note": klass.note,
    }


def class_matches(klass: Class, data: ClassData) -> bool:
    """Whether the class records what the form says (a resent form, not a different class)."""
    return (klass.held_on == data.held_on and klass.learners_total == data.learners_total
            and klass.place_hamlet_id == data.place_hamlet_id and klass.place_name == data.place_name
            and (klass.age_15_17, klass.age_18_59, klass.age_60_plus) == (data.age_15_17, data.age_18_59,
                                                                          data.age_60_plus)
            and {r.service_id: r.learners for r in klass.results} == data.results
            and sorted(t.id for t in klass.topics) == sorted(data.topic_ids)
            and sorted(learner.name for learner in klass.learners) == sorted(x.name for x in data.learners))


def match_household(commune_id: int, learner: Learner) -> int | None:
    """The household of the commune's hamlets a named learner belongs to, when exactly one matches:
    by the phone (a household's phone is often the family's), else by the head's name in the hamlet. A commune a
    reorganization ended holds its hamlets no longer: those that hung under it then (a class logged late)."""
    hamlets = sa.select(AdminUnit.id).where(AdminUnit.level == "hamlet", sa.or_(
        AdminUnit.parent_id == commune_id,
        AdminUnit.id.in_(sa.select(UnitPlacement.unit_id).where(UnitPlacement.parent_id == commune_id))))
    base = sa.select(Household.id).where(Household.hamlet_id.in_(hamlets), Household.merged_into_id.is_(None),
                                         Household.erased_at.is_(None))
    if learner.hamlet_id is not None:
        base = base.where(Household.hamlet_id == learner.hamlet_id)
    for clause in ((Household.phone == learner.phone) if learner.phone else None,
                   (Household.head_name_folded == fold(learner.name)) if learner.hamlet_id is not None else None):
        if clause is None:
            continue
        found = list(db.session.scalars(base.where(clause).limit(2)))
        if len(found) == 1:
            return found[0]
    return None


def _loaded(model, ids) -> list:
    """Records by id, from the session when it holds them already (a form has just loaded them)."""
    return [r for r in (db.session.get(model, i) for i in sorted(set(ids))) if r is not None]


def _learner_rows(data: ClassData) -> list[ClassLearner]:
    rows = []
    for row in data.learners:
        learner = ClassLearner(hamlet_id=row.hamlet_id, phone=row.phone or None,
                               household_id=match_household(data.commune_id, row))
        learner.set_identity(data.commune_id, row.name, row.birth_year)
        rows.append(learner)
    return rows


def _apply_class(klass: Class, data: ClassData) -> None:
    klass.commune_id, klass.held_on = data.commune_id, data.held_on
    klass.place_hamlet_id, klass.place_name = data.place_hamlet_id, data.place_name
    klass.learners_total = data.learners_total
    klass.age_15_17, klass.age_18_59, klass.age_60_plus = data.age_15_17, data.age_18_59, data.age_60_plus
    klass.learners_female, klass.learners_male = data.learners_female, data.learners_male
    klass.note = data.note
    klass.topics = _loaded(Topic, data.topic_ids)
    klass.teams = _loaded(Team, data.team_ids)
    klass.members = _loaded(Member, data.member_ids)


def create_class(data: ClassData, key: str, user=None) -> Class:
    with db.session.no_autoflush:
        klass = Class(key=key, created_by_id=user.id if user is not None else None, learners=_learner_rows(data),
                      results=[ClassResult(service_id=s, learners=n) for s, n in sorted(data.results.items())])
        _apply_class(klass, data)
    db.session.add(klass)
    db.session.flush()
    named_learners.ClassChange().done(klass)
    activity_months.ClassChange().done(klass)
    record("create", "class", klass.id, klass.commune_id, after=class_snapshot(klass), user=user)
    return klass


def update_class(klass: Class, data: ClassData, user=None) -> Class:
    before = class_snapshot(klass)
    changes = named_learners.ClassChange(klass), activity_months.ClassChange(klass)
    _apply_class(klass, data)
    sync_per_service(klass.results, data.results, "learners",
                     lambda service_id, n: ClassResult(service_id=service_id, learners=n))
    klass.learners.clear()
    db.session.flush()
    klass.learners.extend(_learner_rows(data))
    klass.updated_at = utcnow()
    db.session.flush()
    for change in changes:
        change.done(klass)
    record("update", "class", klass.id, klass.commune_id, before=before, after=class_snapshot(klass), user=user)
    return klass


def delete_class(klass: Class, user=None) -> None:
    _delete_activity(klass, "class", class_snapshot(klass),
                     (named_learners.ClassChange(klass), activity_months.ClassChange(klass)), user)


def _delete_activity(activity: Class | CentreShift, kind: str, snapshot: dict, changes, user) -> None:
    # The key stays used: replaying the form of a deleted class or shift must not record it again.
    db.session.merge(DeletedActivityKey(key=activity.key, kind=kind, record_id=activity.id, deleted_at=utcnow()))
    record("delete", kind, activity.id, activity.commune_id, before=snapshot, user=user)
    db.session.delete(activity)
    db.session.flush()
    for change in changes:
        change.done(None)


# --- shifts -------------------------------------------------------------------------------------

def shift_snapshot(shift: CentreShift) -> dict:
    return {"held_on": shift.held_on, "commune_id": shift.commune_id, "team_id": shift.team_id,
            "people_helped": shift.people_helped, "members": sorted(m.id for m in shift.members),
            "dossiers": {str(d.service_id): d.dossiers for d in sorted(shift.dossiers, key=lambda d: d.service_id)},
            "note": shift.note}


def shift_matches(shift: CentreShift, data: ShiftData) -> bool:
    return (shift.held_on == data.held_on and shift.commune_id == data.commune_id
            and shift.people_helped == data.people_helped and shift.note == data.note
            and {d.service_id: d.dossiers for d in shift.dossiers} == data.dossiers
            and sorted(m.id for m in shift.members) == sorted(data.member_ids))


def _apply_shift(shift: CentreShift, data: ShiftData) -> None:
    shift.commune_id, shift.team_id, shift.held_on = data.commune_id, data.team_id, data.held_on
    shift.people_helped, shift.note = data.people_helped, data.note
    shift.members = _loaded(Member, data.member_ids)


def create_shift(data: ShiftData, key: str, user=None) -> CentreShift:
    with db.session.no_autoflush:
        shift = CentreShift(key=key, created_by_id=user.id if user is not None else None,
                            dossiers=[ShiftDossier(service_id=s, dossiers=n) for s, n in sorted(data.dossiers.items())])
        _apply_shift(shift, data)
    db.session.add(shift)
    db.session.flush()
    activity_months.ShiftChange().done(shift)
    record("create", "shift", shift.id, shift.commune_id, after=shift_snapshot(shift), user=user)
    return shift


def update_shift(shift: CentreShift, data: ShiftData, user=None) -> CentreShift:
    before = shift_snapshot(shift)
    change = activity_months.ShiftChange(shift)
    _apply_shift(shift, data)
    sync_per_service(shift.dossiers, data.dossiers, "dossiers",
                     lambda service_id, n: ShiftDossier(service_id=service_id, dossiers=n))
    shift.updated_at = utcnow()
    db.session.flush()
    change.done(shift)
    record("update", "shift", shift.id, shift.commune_id, before=before, after=shift_snapshot(shift), user=user)
    return shift


def delete_shift(shift: CentreShift, user=None) -> None:
    _delete_activity(shift, "shift", shift_snapshot(shift), (activity_months.ShiftChange(shift),), user)


# --- the commune's dossiers of a month ------------------------------------------------------------

def set_dossier_total(commune: AdminUnit, month: int, dossiers: int, user=None) -> CommuneDossierTotal:
    """Record (or correct) the commune's total dossiers of a month (yyyymm)."""
    row = db.session.scalar(sa.select(CommuneDossierTotal).where(
        CommuneDossierTotal.commune_id == commune.id, CommuneDossierTotal.month == month))
    before = {"month": month, "dossiers": row.dossiers} if row is not None else {}
    if row is None:
        row = CommuneDossierTotal(commune_id=commune.id, month=month, dossiers=dossiers)
        db.session.add(row)
    row.dossiers = dossiers
    row.recorded_by_id = user.id if user is not None else None
    row.recorded_at = utcnow()
    db.session.flush()
    record("update" if before else "create", "dossier_total", row.id, commune.id, before=before,
           after={"month": month, "dossiers": dossiers}, user=user)
    return row
