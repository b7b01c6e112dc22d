"""A new visit's rows written in one PostgreSQL statement are the rows the four plain inserts write."""
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from app.audit.models import AuditEvent, event_row
from app.auth.cli import create_user
from app.visits import fast_write
from app.visits.models import Visit, VisitService, visit_members
from tests.conftest import PASSWORD
from tests.visits_helpers import household, make_team, service_id


def _rows(db, visit_id: int) -> dict:
    """Everything written for the visit, without its id and form key (the two writes differ there)."""
    visit = dict(db.session.execute(sa.select(Visit.__table__).where(Visit.id == visit_id)).mappings().one())
    assert visit.pop("id") == visit_id and visit.pop("idempotency_key")
    members = db.session.execute(sa.select(visit_members.c.member_id).where(visit_members.c.visit_id == visit_id)
                                 .order_by(visit_members.c.member_id)).scalars().all()
    services = db.session.execute(
        sa.select(VisitService.service_id, VisitService.result).where(VisitService.visit_id == visit_id)
        .order_by(VisitService.service_id)).all()
    events = [dict(e) for e in db.session.execute(
        sa.select(AuditEvent.__table__).where(AuditEvent.record_type == "visit", AuditEvent.record_id == visit_id)
    ).mappings()]
    for e in events:
        e.pop("id")
        assert e.pop("record_id") == visit_id
    return {"visit": visit, "members": members, "services": [tuple(s) for s in services], "events": events}


@pytest.mark.parametrize("with_members,codes", [(True, {"dvc": "adopted", "vneid": "guided"}), (False, {})])
def test_the_one_statement_write_leaves_the_same_rows_as_the_plain_inserts(db, tree, with_members, codes):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's; SQLite writes the plain inserts")
    team, members = make_team(tree.commune, [tree.hamlet])
    h = household(tree.hamlet)
    user = create_user("leader-fast", "team_leader", tree.commune, PASSWORD, full_name="Tổ trưởng")
    db.session.commit()
    member_ids = sorted(m.id for m in members) if with_members else []
    results = sorted((service_id(code), result) for code, result in codes.items())
    written = []
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), tick=False):
        for key, write in (("plain", fast_write.insert_plain), ("one", fast_write.insert_in_one_statement)):
            visit = {"household_id": h.id, "hamlet_id": tree.hamlet.id, "team_id": team.id,
                     "visited_on": date(2026, 11, 30), "note": "Ghi chú", "idempotency_key": key,
                     "author_id": user.id}
            event = event_row("create", "visit", None, tree.hamlet.id, None, {"members": member_ids}, user)
            written.append(write(db.session.connection(), visit, member_ids, results, event))
    db.session.commit()
    plain, one = (_rows(db, visit_id) for visit_id in written)
    assert plain["members"] == member_ids and plain["services"] == results and len(plain["events"]) == 1
    assert one == plain
