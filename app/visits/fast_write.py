"""A new visit's rows (the visit, its members, its services, its audit event) in one statement on PostgreSQL.

Fast path: one writable CTE, one round trip to the server; faster than the four plain inserts
(`insert_plain`, which SQLite keeps: its statements cost no round trip). tests/test_fast_write.py holds
both to the same rows; bench/README.md ("Fast paths") has the figures.
"""
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.audit.models import AuditEvent
from app.models_base import utcnow
from app.visits.models import Visit, VisitService, visit_members

_VISITS = Visit.__table__


def insert_visit_rows(connection, visit: dict, member_ids: list[int], results: list[tuple[int, str]],
                      event: dict) -> int:
    """Insert the visit (a dict of its columns), its members, its (service, result) pairs and its audit
    event (event_row's columns, without the record's id); return the visit's id. A second insert of
    the same key fails at the visit, before anything else is written."""
    if connection.dialect.name == "postgresql":
        return insert_in_one_statement(connection, visit, member_ids, results, event)
    return insert_plain(connection, visit, member_ids, results, event)


def insert_plain(connection, visit: dict, member_ids: list[int], results: list[tuple[int, str]],
                 event: dict) -> int:
    visit_id = connection.execute(_INSERT_VISIT, visit).inserted_primary_key[0]
    if member_ids:
        connection.execute(_INSERT_MEMBERS, [{"visit_id": visit_id, "member_id": m} for m in member_ids])
    if results:
        connection.execute(_INSERT_SERVICES, [{"visit_id": visit_id, "service_id": s, "result": r}
                                              for s, r in results])
    connection.execute(_INSERT_EVENT, event | {"record_id": visit_id})
    return visit_id


def insert_in_one_statement(connection, visit: dict, member_ids: list[int], results: list[tuple[int, str]],
                            event: dict) -> int:
    return connection.execute(_one_statement(), visit | {
        "now": utcnow(), "member_ids": member_ids, "service_ids": [s for s, _r in results],
        "results": [r for _s, r in results], "user_id": event["user_id"], "changes": event["changes"],
    }).scalar_one()


_INSERT_VISIT = sa.insert(_VISITS)
_INSERT_MEMBERS = sa.insert(visit_members)
_INSERT_SERVICES = sa.insert(VisitService.__table__)
_INSERT_EVENT = sa.insert(AuditEvent.__table__)


@cache
def _one_statement() -> sa.Insert:
    """The four inserts as one PostgreSQL statement (built once), returning the visit's id.

    WITH new_visit AS (INSERT INTO visits … RETURNING id, hamlet_id),
         new_members AS (INSERT INTO visit_members SELECT new_visit.id, unnest(member_ids) …),
         new_services AS (INSERT INTO visit_services SELECT new_visit.id, unnest(service_ids, results) …)
    INSERT INTO audit_events … SELECT …, new_visit.id, new_visit.hamlet_id … RETURNING record_id

    Only the visit's insert fires a coverage trigger (reach); the adoptions, which fire the others,
    stay a statement of their own after it, so every writer still locks tally rows in one order.
    The foreign keys of the members and services are checked at the end of the statement, when the
    visit is there."""
    visits, events = _VISITS.c, AuditEvent.__table__.c
    now = sa.bindparam("now", type_=visits.created_at.type)
    new_visit = (sa.insert(_VISITS)
                 .values({name: sa.bindparam(name, type_=visits[name].type) for name in (
                     "household_id", "hamlet_id", "team_id", "visited_on", "note", "author_id", "idempotency_key")}
                         | {"created_at": now, "updated_at": now})
                 .returning(visits.id, visits.hamlet_id).cte("new_visit"))
    members = sa.func.unnest(sa.bindparam("member_ids", type_=postgresql.ARRAY(sa.Integer))) \
        .table_valued("member_id").render_derived()
    new_members = sa.insert(visit_members).from_select(
        ["visit_id", "member_id"],
        sa.select(new_visit.c.id, members.c.member_id).select_from(new_visit.join(members, sa.true()))
    ).cte("new_members")
    services = sa.func.unnest(sa.bindparam("service_ids", type_=postgresql.ARRAY(sa.Integer)),
                              sa.bindparam("results", type_=postgresql.ARRAY(sa.String))) \
        .table_valued("service_id", "result").render_derived()
    new_services = sa.insert(VisitService.__table__).from_select(
        ["visit_id", "service_id", "result"],
        sa.select(new_visit.c.id, services.c.service_id, services.c.result)
        .select_from(new_visit.join(services, sa.true()))).cte("new_services")
    event = sa.select(now.label("at"), sa.bindparam("user_id", type_=sa.Integer).label("user_id"),
                      sa.literal("create").label("action"), sa.literal("visit").label("record_type"),
                      new_visit.c.id.label("record_id"), new_visit.c.hamlet_id.label("unit_id"),
                      sa.bindparam("changes", type_=sa.Text).label("changes"))
    return (sa.insert(AuditEvent.__table__)
            .from_select(["at", "user_id", "action", "record_type", "record_id", "unit_id", "changes"], event)
            .add_cte(new_members, new_services).returning(events.record_id))
