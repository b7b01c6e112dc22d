"""Every change to visits, in one place, with the adoptions it implies kept in the same transaction.

An adoption (household, service) is dated by the earliest visit that marked the service adopted
(on a tie, the lowest visit id) and disappears when no visit marks it any more. Nothing here commits:
the caller commits once, so a visit and its adoptions are written together or not at all.
"""
import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.dialects import postgresql, sqlite

from app.audit.models import event_row, record
from app.database import sqlite_write_lock_now
from app.extensions import db
from app.households.models import Household
from app.models_base import sync_per_service, utcnow
from app.scope import FIELD_ROLES, root_unit
from app.visits import fast_write
from app.visits.models import Adoption, DeletedVisitKey, Visit, VisitService, visit_members

Pair = tuple[int, int]  # (household_id, service_id)
# A repost of the same content by the same person this soon is a replay (a back button that
# re-fetched the form and so got a fresh key), not a second session.
REPLAY_WINDOW = timedelta(minutes=10)
# Namespace of the PostgreSQL advisory locks taken per household (the second key is its id).
HOUSEHOLD_LOCK = 7301
# Namespace of those taken per hamlet while a visit form adds a new household there.
NEW_HOUSEHOLD_LOCK = 7302
_VISITS = Visit.__table__


@dataclass
class VisitData:
    household: "Household | HouseholdRef"
    visited_on: date
    results: dict[int, str]           # service_id -> "guided" | "adopted"
    member_ids: list[int] = field(default_factory=list)
    note: str = ""


def _adopted_pairs(visit: Visit) -> set[Pair]:
    return {(visit.household_id, vs.service_id) for vs in visit.services if vs.result == "adopted"}


def _snapshot(visit: Visit) -> dict:
    return {"household_id": visit.household_id, "visited_on": visit.visited_on,
            "services": {str(vs.service_id): vs.result for vs in sorted(visit.services, key=lambda v: v.service_id)},
            "members": sorted(m.id for m in visit.members), "note": visit.note}


def lock_households(household_ids) -> None:
    """Serialise visit changes of the same households until the transaction ends (PostgreSQL).

    Under READ COMMITTED two members logging the same household at once would each miss the other's
    uncommitted visit: both would insert its adoption (a primary-key clash) and the reach trigger could
    keep the later first-visit date. Waiting here first means every later statement sees the other's
    committed visit. SQLite needs nothing: its writers take the database lock one at a time, and a
    transaction starts with its first write. Ids in order, so two transactions never wait on each other
    (the visit form's household lookup may have taken one lock already: a single household, see
    `household_among`).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    held = held_household_locks()
    for household_id in sorted({i for i in household_ids if i is not None} - held):
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(HOUSEHOLD_LOCK, household_id)))
        held.add(household_id)


def begin_visit_write(household_id: int | None = None, new_in_hamlet: int | None = None) -> None:
    """Before a new visit's form key and replay checks: make them and the insert one step.

    Without it two posts of the same visit with different keys (a back button that re-fetched the
    form, sent twice) each find no replay and both insert. PostgreSQL: the household's lock (or, for
    a household the form adds, its hamlet's), so the checks see every committed visit of it. SQLite:
    the database's write lock now (BEGIN IMMEDIATE) rather than at the first insert, after the checks.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        if household_id is not None:
            lock_households([household_id])
        if new_in_hamlet is not None:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(NEW_HOUSEHOLD_LOCK, new_in_hamlet)))
        return
    sqlite_write_lock_now(connection)


def held_household_locks() -> set[int]:
    """The households whose lock the session's current transaction holds (they go at its end)."""
    db.session.connection()  # begins the transaction if none has begun
    session = db.session()
    transaction, info = session.get_transaction(), session.info
    if "household_locks" not in info or info["household_locks_of"] is not transaction:
        info["household_locks_of"], info["household_locks"] = transaction, set()
    return info["household_locks"]


class HouseholdRef(NamedTuple):
    """What a visit's checks and writes read of its household (VisitData.household may be this or a
    Household): household_among reads these columns alone, not the ORM object (bench/README.md, round 26)."""
    id: int
    hamlet_id: int
    merged_into_id: int | None
    erased_at: object  # a datetime once the household's personal data was erased


def _household_among(lock: bool) -> tuple[sa.Select, sa.Select]:
    """scope.households_query()'s rules as two statements built once (staff; field users), for the
    lookup every visit POST makes: the id, the hamlets asked about, the user's subtree and, for field
    users, their team's hamlets. With `lock` (PostgreSQL), the household's visit lock is taken in
    the same round trip (unless it was merged: its visits go elsewhere)."""
    from app.teams.models import team_hamlets
    from app.units.models import AdminUnit
    households = Household.__table__.c
    staff = sa.select(households.id, households.hamlet_id, households.merged_into_id, households.erased_at).where(
        households.id == sa.bindparam("household_id"),
        households.hamlet_id.in_(sa.bindparam("hamlet_ids", expanding=True)),
        households.hamlet_id.in_(sa.select(AdminUnit.id).where(AdminUnit.within(sa.bindparam("subtree")))))
    if lock:
        staff = staff.add_columns(sa.case((households.merged_into_id.is_(None),
                                           sa.func.pg_advisory_xact_lock(HOUSEHOLD_LOCK, households.id))))
    field_users = staff.where(households.hamlet_id.in_(
        sa.select(team_hamlets.c.hamlet_id).where(team_hamlets.c.team_id == sa.bindparam("team_id"))))
    return staff, field_users


_HOUSEHOLD_AMONG: dict[bool, tuple[sa.Select, sa.Select]] = {}


def household_among(household_id: int, hamlet_ids, user=None, lock: bool = False) -> HouseholdRef | None:
    """The household with this id if it lives in one of these hamlets and in the user's scope.

    `lock`: about to log a visit to it, so on PostgreSQL take its lock (`lock_households`) now,
    which saves that statement a round trip."""
    user = user if user is not None else current_user
    connection = db.session.connection()
    lock = lock and connection.dialect.name == "postgresql"
    if lock not in _HOUSEHOLD_AMONG:
        _HOUSEHOLD_AMONG[lock] = _household_among(lock)
    root = root_unit(user)
    params = {"household_id": household_id, "hamlet_ids": list(hamlet_ids),
              "subtree": root.path if root is not None else ""}
    if user.role in FIELD_ROLES:
        row = connection.execute(_HOUSEHOLD_AMONG[lock][1], params | {"team_id": user.team_id}).first()
    else:
        row = connection.execute(_HOUSEHOLD_AMONG[lock][0], params).first()
    household = HouseholdRef(*row[:4]) if row is not None else None
    if lock and household is not None and household.merged_into_id is None:
        held_household_locks().add(household.id)
    return household


def recompute_adoptions(pairs: set[Pair]) -> None:
    """Make Adoption agree with the visits for these (household, service) pairs."""
    if not pairs:
        return
    db.session.flush()
    households = {h for h, _ in pairs}
    services = {s for _, s in pairs}
    rows = db.session.execute(
        sa.select(Visit.household_id, VisitService.service_id, Visit.visited_on, Visit.id, Visit.hamlet_id)
        .join(VisitService, VisitService.visit_id == Visit.id)
        .where(Visit.household_id.in_(households), VisitService.service_id.in_(services),
               VisitService.result == "adopted")
        .order_by(Visit.visited_on, Visit.id))
    first: dict[Pair, tuple] = {}
    for household_id, service_id, visited_on, visit_id, hamlet_id in rows:
        first.setdefault((household_id, service_id), (visited_on, visit_id, hamlet_id))
    existing = {(a.household_id, a.service_id): a for a in db.session.scalars(
        sa.select(Adoption).where(Adoption.household_id.in_(households), Adoption.service_id.in_(services)))}
    # In order: the tally rows the triggers update are then locked in the same order by every writer.
    for pair in sorted(pairs):
        want, have = first.get(pair), existing.get(pair)
        if want is None:
            if have is not None:
                db.session.delete(have)
            continue
        visited_on, visit_id, hamlet_id = want
        if have is None:
            db.session.add(Adoption(household_id=pair[0], service_id=pair[1], hamlet_id=hamlet_id,
                                    adopted_on=visited_on, visit_id=visit_id))
        else:
            have.adopted_on, have.visit_id, have.hamlet_id = visited_on, visit_id, hamlet_id
    db.session.flush()


@functools.cache
def _adoption_upsert(dialect: str) -> sa.TextClause:
    """The one-row upsert a new visit's adoptions go through, built once per dialect.

    SQLAlchemy 2.0 keeps no compiled form of an INSERT … ON CONFLICT (the dialects' Insert is not
    cacheable), so built as one it was compiled again on every POST that adopted something: a twentieth
    of the POST's CPU (bench/README.md, round 25). The same statement's SQL, written once by SQLAlchemy
    from the construct below, runs as a text statement, which it caches; its parameters typed as the
    table's columns (a date as each database stores it)."""
    table = Adoption.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = insert(table).excluded
    upsert = insert(table).on_conflict_do_update(
        index_elements=[table.c.household_id, table.c.service_id],
        set_={"adopted_on": new.adopted_on, "visit_id": new.visit_id, "hamlet_id": new.hamlet_id},
        where=sa.or_(new.adopted_on < table.c.adopted_on,
                     sa.and_(new.adopted_on == table.c.adopted_on, new.visit_id < table.c.visit_id)))
    named = (postgresql if dialect == "postgresql" else sqlite).dialect(paramstyle="named")
    sql = str(upsert.compile(dialect=named, column_keys=[c.name for c in table.c]))
    return sa.text(sql).bindparams(*(sa.bindparam(c.name, type_=c.type) for c in table.c))


def _adopt_for_new_visit(visit: dict, pairs: set[Pair]) -> None:
    """A new visit can only make its own adoptions earlier: one upsert, the visits not read again.

    Adoption already holds, for each pair, the earliest adopting visit among the others (kept so by
    every change in its transaction); the new visit takes a pair it has not got yet, or one where it
    is earlier (on the same day the lower visit id keeps it). The coverage triggers are AFTER
    triggers, so an insert that becomes an update, or nothing, is counted as what it became."""
    if not pairs:
        return
    connection = db.session.connection()
    # In pair order, as recompute_adoptions does, so the triggers lock tally rows in the same order.
    connection.execute(_adoption_upsert(connection.dialect.name), [
        {"household_id": h, "service_id": s, "hamlet_id": visit["hamlet_id"], "adopted_on": visit["visited_on"],
         "visit_id": visit["id"]} for h, s in sorted(pairs)])


def _after_visit_change(pairs: set[Pair], new_visit: dict | None = None) -> None:
    """The one hook every visit change goes through, inside the caller's transaction.

    `pairs` are the (household, service) pairs whose adoption may have changed, `new_visit` the row of the
    visit just added when that is the whole change. Anything derived from visits that the database's
    triggers do not keep (app/coverage/store.py) belongs here.
    """
    if new_visit is not None:
        _adopt_for_new_visit(new_visit, pairs)
    else:
        recompute_adoptions(pairs)


def find_by_key(key: str) -> int | None:
    """The id of the visit this form key already made, if any."""
    return db.session.connection().scalar(_BY_KEY, {"key": key})


def find_deleted_key(key: str) -> DeletedVisitKey | None:
    """The record of the visit this form key made and that was deleted since, if any."""
    return db.session.get(DeletedVisitKey, key)


def same_content(visit_id: int, data: VisitData) -> bool:
    """Whether the visit records what the form says: household, date, members, results and note."""
    visit = db.session.get(Visit, visit_id)
    household_id = data.household.id if data.household is not None else None
    return (visit is not None and visit.household_id == household_id and visit.visited_on == data.visited_on
            and visit.note == data.note and sorted(m.id for m in visit.members) == sorted(data.member_ids)
            and {vs.service_id: vs.result for vs in visit.services} == data.results)


_BY_KEY = sa.select(_VISITS.c.id).where(_VISITS.c.idempotency_key == sa.bindparam("key"))


@dataclass
class Recent:
    """A household's visits of the last REPLAY_WINDOW, as (id, visited_on, author_id, note)."""
    household_id: int
    rows: list[tuple]


class DeletedKey(NamedTuple):
    """What a deleted visit's key recorded: the visit it made and its household."""
    visit_id: int
    household_id: int | None


def find_by_key_and_recent(key: str, household_id: int) -> tuple[int | None, Recent, DeletedKey | None]:
    """`find_by_key`, the recent visits of the household the form names for `find_replay`, and
    `find_deleted_key` when the key made no visit: one statement instead of three, on the path every
    visit POST takes."""
    since = utcnow() - REPLAY_WINDOW
    found, recent, deleted = None, Recent(household_id, []), None
    rows = db.session.connection().execute(_BY_KEY_OR_RECENT, {"key": key, "household_id": household_id,
                                                                "since": since})
    for kind, visit_id, key_of, household_of, created_at, visited_on, author_id, note in rows:
        if kind == _DELETED:
            deleted = DeletedKey(visit_id, household_of)
            continue
        if key_of == key:
            found = visit_id
        if household_of == household_id and created_at >= since:
            recent.rows.append((visit_id, visited_on, author_id, note))
    return found, recent, deleted if found is None else None


def find_replay(data: VisitData, author_id: int | None, recent: Recent | None = None) -> int | None:
    """The id of the same visit, by the same person, just posted: a repost with a fresh key.

    `recent`, when it is the household's, saves reading its recent visits again."""
    lock_households([data.household.id])  # held already unless the household was merged or just found
    # Only the household's index narrows the search: a household has a few visits, an author or a day
    # thousands, and a planner whose statistics predate a new author or today would take their index
    # (PostgreSQL did, reading all of a team leader's visits). Author and day are checked here.
    connection = db.session.connection()
    if recent is None or recent.household_id != data.household.id:
        recent = Recent(data.household.id, list(connection.execute(
            _RECENT, {"household_id": data.household.id, "since": utcnow() - REPLAY_WINDOW})))
    notes = {visit_id: note for visit_id, visited_on, author, note in recent.rows
             if visited_on == data.visited_on and author == author_id}
    if not notes:
        return None
    results: dict[int, dict[int, str]] = {visit_id: {} for visit_id in notes}
    for visit_id, service_id, result in connection.execute(_SERVICES_OF, {"ids": list(notes)}):
        results[visit_id][service_id] = result
    members: dict[int, list[int]] = {visit_id: [] for visit_id in notes}
    for visit_id, member_id in connection.execute(_MEMBERS_OF, {"ids": list(notes)}):
        members[visit_id].append(member_id)
    for visit_id in sorted(notes):
        if (results[visit_id] == data.results and notes[visit_id] == data.note
                and sorted(members[visit_id]) == sorted(data.member_ids)):
            return visit_id
    return None


_RECENT = (sa.select(_VISITS.c.id, _VISITS.c.visited_on, _VISITS.c.author_id, _VISITS.c.note)
           .where(_VISITS.c.household_id == sa.bindparam("household_id"),
                  _VISITS.c.created_at >= sa.bindparam("since")))
# Both indexes serve the visits' part: SQLite's multi-index OR, PostgreSQL's BitmapOr (checked on the
# province seed); the deleted keys' part is a primary-key lookup. `kind` tells the two apart.
_VISIT, _DELETED = 0, 1
_DELETED_KEYS = DeletedVisitKey.__table__.c
_BY_KEY_OR_RECENT = sa.union_all(
    sa.select(sa.literal_column(str(_VISIT)).label("kind"), _VISITS.c.id, _VISITS.c.idempotency_key,
              _VISITS.c.household_id, _VISITS.c.created_at, _VISITS.c.visited_on, _VISITS.c.author_id,
              _VISITS.c.note)
    .where(sa.or_(_VISITS.c.idempotency_key == sa.bindparam("key"),
                  sa.and_(_VISITS.c.household_id == sa.bindparam("household_id"),
                          _VISITS.c.created_at >= sa.bindparam("since")))),
    sa.select(sa.literal_column(str(_DELETED)), _DELETED_KEYS.visit_id, _DELETED_KEYS.idempotency_key,
              _DELETED_KEYS.household_id, sa.null(), sa.null(), sa.null(), sa.null())
    .where(_DELETED_KEYS.idempotency_key == sa.bindparam("key")))
_SERVICES_OF = (sa.select(VisitService.__table__.c.visit_id, VisitService.__table__.c.service_id,
                          VisitService.__table__.c.result)
                .where(VisitService.__table__.c.visit_id.in_(sa.bindparam("ids", expanding=True))))
_MEMBERS_OF = (sa.select(visit_members.c.visit_id, visit_members.c.member_id)
               .where(visit_members.c.visit_id.in_(sa.bindparam("ids", expanding=True))))


def _members(ids: list[int]):
    from app.teams.models import Member
    if not ids:
        return []
    # The form has just loaded the team's members: take them from the session rather than query again.
    loaded = [db.session.identity_map.get(db.session.identity_key(Member, i)) for i in ids]
    if all(m is not None for m in loaded):
        return loaded
    return list(db.session.scalars(sa.select(Member).where(Member.id.in_(ids))))


def create_visit(data: VisitData, key: str, team_id: int | None, user=None) -> int:
    """Write a new visit, its members, services, audit event and adoptions; return its id.

    Plain inserts rather than the unit of work: the rows are all known here, and the ORM's flush
    of them cost more than everything else a visit POST does (profiled at province scale). The
    first four go in one statement on PostgreSQL (app/visits/fast_write.py)."""
    lock_households([data.household.id])
    # What the request added before (a new household, a closed-month correction's audit event) is
    # written first, as the unit of work would have done.
    db.session.flush()
    connection = db.session.connection()
    visit = {"household_id": data.household.id, "hamlet_id": data.household.hamlet_id, "team_id": team_id,
             "visited_on": data.visited_on, "note": data.note, "idempotency_key": key,
             "author_id": user.id if user is not None else None}
    member_ids = sorted(set(data.member_ids))
    results = sorted(data.results.items())
    snapshot = {"household_id": visit["household_id"], "visited_on": visit["visited_on"],
                "services": {str(s): r for s, r in results}, "members": member_ids, "note": visit["note"]}
    event = event_row("create", "visit", None, visit["hamlet_id"], None, snapshot, user)
    # A second insert of the same key fails at the visit, before anything else is written.
    visit["id"] = fast_write.insert_visit_rows(connection, visit, member_ids, results, event)
    pairs = {(visit["household_id"], s) for s, r in results if r == "adopted"}
    _after_visit_change(pairs, new_visit=visit)
    return visit["id"]


def update_visit(visit: Visit, data: VisitData, user=None) -> Visit:
    lock_households([visit.household_id, data.household.id])
    before = _snapshot(visit)
    pairs = _adopted_pairs(visit)
    visit.household_id, visit.hamlet_id = data.household.id, data.household.hamlet_id
    visit.visited_on, visit.note = data.visited_on, data.note
    visit.members = _members(data.member_ids)
    sync_per_service(visit.services, data.results, "result",
                     lambda service_id, result: VisitService(service_id=service_id, result=result))
    visit.updated_at = utcnow()
    db.session.flush()
    db.session.expire(visit, ["household"])
    pairs |= _adopted_pairs(visit)
    record("update", "visit", visit.id, visit.hamlet_id, before=before, after=_snapshot(visit), user=user)
    _after_visit_change(pairs)
    return visit


def delete_visit(visit: Visit, user=None) -> None:
    lock_households([visit.household_id])
    # The key stays used: replaying the form of a deleted visit must not record it again.
    db.session.merge(DeletedVisitKey(idempotency_key=visit.idempotency_key, visit_id=visit.id,
                                     household_id=visit.household_id, deleted_at=utcnow()))
    pairs = _adopted_pairs(visit)
    record("delete", "visit", visit.id, visit.hamlet_id, before=_snapshot(visit), user=user)
    # Adoptions point at the visit that set them; let go of them first, the hook sets them again
    # from the visits that remain.
    db.session.execute(sa.delete(Adoption).where(Adoption.visit_id == visit.id))
    db.session.delete(visit)
    db.session.flush()
    _after_visit_change(pairs)


def move_household_visits(source: Household, target: Household) -> int:
    """Give the source household's visits to the target (a merge); adoptions follow, counted once."""
    lock_households([source.id, target.id])
    services = set(db.session.scalars(sa.select(Adoption.service_id).where(Adoption.household_id == source.id)))
    moved = db.session.execute(
        sa.update(Visit).where(Visit.household_id == source.id)
        .values(household_id=target.id, hamlet_id=target.hamlet_id)
        .execution_options(synchronize_session="fetch")).rowcount
    pairs = {(source.id, s) for s in services} | {(target.id, s) for s in services}
    _after_visit_change(pairs)
    return moved
