"""A household's personal data on request (Decree 13/2023): export everything held, or erase it.

Erasure keeps the household row, its visits and adoptions, so coverage does not move; what goes is
what names or reaches the people: head's name, address, phone, size, and the visits' free-text notes,
including the copies of those values kept in earlier audit events.
"""
import json
import logging

import sqlalchemy as sa

from app.audit.models import AuditEvent, record
from app.extensions import db
from app.households.models import Household
from app.models_base import utcnow
from app.visits.models import Adoption, Service, Visit

# Household fields holding personal data, with the value each takes once erased.
ERASED_FIELDS = {"head_name": "", "head_name_folded": "", "address": "", "phone": "", "size": None}
# The tables an erasure rewrites: their old row versions still hold the values until cleaned up.
ERASURE_TABLES = ("households", "visits", "audit_events")
VACUUM_WAIT_MS = 5000  # per table, at most, after an erasure on PostgreSQL
# Keys of audit `changes` that carried those values (households) and visit notes (visits).
HOUSEHOLD_AUDIT_KEYS = ("head_name", "address", "phone", "size")
VISIT_AUDIT_KEYS = ("note",)


def _iso(value):
    return value.isoformat() if value is not None else None


def export(household: Household) -> dict:
    """Everything the app holds about the household, as plain JSON-ready data."""
    hamlet = household.hamlet
    chain = hamlet.ancestors()
    units = {u.level: u.name for u in chain}
    visits = list(db.session.scalars(
        sa.select(Visit).where(Visit.household_id == household.id).order_by(Visit.visited_on, Visit.id)))
    adoptions = list(db.session.scalars(
        sa.select(Adoption).where(Adoption.household_id == household.id).order_by(Adoption.adopted_on)))
    services = {s.id: s for s in db.session.scalars(sa.select(Service))}
    merged = list(db.session.scalars(
        sa.select(Household).where(Household.merged_into_id == household.id).order_by(Household.id)))
    return {
        "household": {
            "id": household.id,
            "head_name": household.head_name,
            "address": household.address,
            "phone": household.phone,
            "size": household.size,
            "hamlet": hamlet.name,
            "commune": units.get("commune"),
            "district": units.get("district"),
            "province": units.get("province"),
            "created_at": _iso(household.created_at),
            "merged_into_id": household.merged_into_id,
            "erased_at": _iso(household.erased_at),
        },
        "merged_duplicates": [{"id": h.id, "head_name": h.head_name, "address": h.address, "phone": h.phone,
                               "size": h.size, "created_at": _iso(h.created_at)} for h in merged],
        "visits": [{
            "id": v.id,
            "visited_on": _iso(v.visited_on),
            "team": v.team.name if v.team else None,
            "services": [{"service": vs.service.name, "code": vs.service.code, "result": vs.result}
                         for vs in sorted(v.services, key=lambda s: s.service.position)],
            "members": sorted(m.full_name for m in v.members),
            "note": v.note,
            "recorded_at": _iso(v.created_at),
        } for v in visits],
        "adoptions": [{"service": services[a.service_id].name, "code": services[a.service_id].code,
                       "adopted_on": _iso(a.adopted_on), "visit_id": a.visit_id} for a in adoptions],
    }


def export_json(household: Household, user=None) -> str:
    data = export(household)
    record("export", "household", household.id, household.hamlet_id, after={"format": "json"}, user=user)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _scrub(event: AuditEvent, keys: tuple[str, ...]) -> bool:
    """Blank the values of these keys in an audit event's before/after; True when it changed."""
    changes = json.loads(event.changes or "{}")
    touched = False
    for key in keys:
        change = changes.get(key)
        if change is None:
            continue
        for side in ("before", "after"):
            if change.get(side) not in (None, ""):
                change[side] = None
                touched = True
    if touched:
        event.changes = json.dumps(changes, ensure_ascii=False)
    return touched


def _visit_event_household(event: AuditEvent) -> set[int]:
    changes = json.loads(event.changes or "{}")
    ids = changes.get("household_id") or {}
    return {v for v in (ids.get("before"), ids.get("after")) if isinstance(v, int)}


def erase(household: Household, reason: str, user=None) -> bool:
    """Erase the household's personal data (and that of duplicates merged into it). False if already done.

    Nothing here commits: the caller commits once, so the erasure and its audit event go together.
    """
    if household.erased_at is not None:
        return False
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # Old values are overwritten with zeros, not only unlinked (every connection has it on, see
        # app.database; said again here because the erasure depends on it).
        connection.exec_driver_sql("PRAGMA secure_delete=ON")
    records = [household] + list(db.session.scalars(
        sa.select(Household).where(Household.merged_into_id == household.id, Household.erased_at.is_(None))))
    ids = {h.id for h in records}
    hamlet_ids = {h.hamlet_id for h in records}
    now = utcnow()
    for h in records:
        for attr, value in ERASED_FIELDS.items():
            setattr(h, attr, value)
        h.erased_at = now
        h.erased_by_id = user.id if user is not None else None
    visit_ids = set(db.session.scalars(sa.select(Visit.id).where(Visit.household_id.in_(ids))))
    notes = 0
    if visit_ids:
        # The tallies watch visits' household, hamlet and date only: clearing notes leaves them alone.
        notes = db.session.execute(
            sa.update(Visit).where(Visit.id.in_(visit_ids), Visit.note != "")
            .values(note="").execution_options(synchronize_session="fetch")).rowcount

    # Earlier audit events kept the values themselves; the data is not erased while they remain.
    for event in db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.record_type == "household", AuditEvent.record_id.in_(ids))):
        _scrub(event, HOUSEHOLD_AUDIT_KEYS)
    # Visit events: those of its visits now, and of visits since deleted or moved (found by household).
    for event in db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.record_type == "visit",
            sa.or_(AuditEvent.record_id.in_(visit_ids), AuditEvent.unit_id.in_(hamlet_ids)))):
        if event.record_id in visit_ids or _visit_event_household(event) & ids:
            _scrub(event, VISIT_AUDIT_KEYS)

    record("erase", "household", household.id, household.hamlet_id,
           before={"erased_at": None},
           after={"erased_at": now, "erased_fields": ", ".join(HOUSEHOLD_AUDIT_KEYS) + ", visit notes",
                  "visit_notes_cleared": notes, "merged_duplicates_erased": len(records) - 1,
                  "reason": reason}, user=user)
    db.session.flush()
    return True


def reach_the_disk() -> bool:
    """After an erasure has committed, clear the old copies the database still keeps on disk.

    SQLite: the erasure's connection overwrote the old values in the database's pages (secure_delete),
    but the write-ahead log still holds the pages as they were before; a TRUNCATE checkpoint copies
    the new pages into the database file and empties the log. PostgreSQL: an UPDATE leaves the old
    row version in place; VACUUM of the tables the erasure rewrote removes them (outside a
    transaction, as VACUUM must run; a version that a transaction still running may see stays
    until autovacuum's next pass). What neither reaches: backups, and PostgreSQL's own WAL
    segments and archives (see the README). True when done; a failure is logged, not raised: the
    erasure itself has been committed.
    """
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                connection.rollback()
            if busy:
                _logger.warning("erasure: readers kept the SQLite log from being emptied; "
                                "the next checkpoint will")
            return not busy
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # The officer is waiting for the page: a VACUUM that must wait for a reader's open result
            # on a page it cleans gives up after a few seconds (logged below; autovacuum's next pass
            # removes those versions).
            connection.exec_driver_sql(f"SET statement_timeout = '{VACUUM_WAIT_MS}ms'")
            try:
                for table in ERASURE_TABLES:
                    # TRUNCATE false: giving empty trailing pages back to the system needs the table
                    # to itself, and VACUUM waits up to 5 s per table for that while any reader has it
                    # open; the old row versions are removed either way.
                    connection.exec_driver_sql(f'VACUUM (TRUNCATE false) "{table}"')
            finally:
                connection.exec_driver_sql("RESET statement_timeout")
        return True
    except sa.exc.DBAPIError:
        _logger.exception("erasure: cleaning the old copies on disk failed")
        return False


_logger = logging.getLogger(__name__)
