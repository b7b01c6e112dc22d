"""A team registered after the fact enters its older paper records: visits count from its founding day."""
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.dates import today_vn
from app.teams.models import Member, Membership, Team
from app.text import fold
from tests import migration_files
from tests.form_versions import with_version
from tests.visits_helpers import form, household, sign_in_as, visit_count

DECISION = date(2024, 3, 1)
REFUSED = "Tổ được thành lập ngày 01/03/2024"


@pytest.fixture
def officer(app, db, tree):
    return sign_in_as(app, "commune", tree.commune)[0]


def _register(officer, tree, **fields):
    data = {"name": "Tổ CNSCĐ ấp Mới", "decision_number": "", "decision_date": "", "founded_on": "",
            "hamlets": [str(tree.hamlet.id)], **fields}
    resp = officer.post(f"/teams/new/{tree.commune.id}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _leader_of(app, db, tree, team_id):
    team = db.session.get(Team, team_id)
    member = Member(full_name="Nguyễn Thị Lan", name_folded=fold("Nguyễn Thị Lan"))
    db.session.add(Membership(member=member, team=team, role="leader", joined_on=today_vn()))
    db.session.commit()
    return sign_in_as(app, "team_leader", tree.commune, team, member)[0], member


def test_a_visit_before_registration_but_after_the_decision_is_accepted_and_one_before_is_refused(
        app, db, tree, officer):
    team_id = _register(officer, tree, decision_number="12/QĐ-UBND", decision_date=DECISION.isoformat())
    assert db.session.get(Team, team_id).founded_on == DECISION
    leader, member = _leader_of(app, db, tree, team_id)
    h = household(tree.hamlet)

    page = leader.get("/visits/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="visited_on"[^>]*min="2024-03-01"', page)
    assert "Từ 01/03/2024, ngày tổ được thành lập, đến hôm nay." in page

    before_registration = form(h.id, on=DECISION + timedelta(days=10), members=[member.id],
                               services={"dvc": "adopted"})
    assert leader.post("/visits/new", data=before_registration).status_code == 303
    assert visit_count() == 1

    too_early = form(h.id, on=DECISION - timedelta(days=1), members=[member.id], services={"dvc": "adopted"},
                     note="sổ giấy")
    resp = leader.post("/visits/new", data=too_early)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and visit_count() == 1
    error = re.search(r'<p id="visited_on-error"[^>]*>([^<]*)</p>', page)
    assert error and REFUSED in error.group(1) and "sửa ngày thành lập" in error.group(1)
    assert 'value="2024-02-29"' in page and "sổ giấy" in page  # the input is kept


def test_the_commune_officer_moves_the_founding_day_back_and_older_records_are_accepted(app, db, tree, officer):
    team_id = _register(officer, tree)  # no decision: founded the day it is registered
    assert db.session.get(Team, team_id).founded_on == today_vn()
    leader, member = _leader_of(app, db, tree, team_id)
    h = household(tree.hamlet)
    older = form(h.id, on=today_vn() - timedelta(days=40), members=[member.id], services={"dvc": "guided"})
    assert leader.post("/visits/new", data=older).status_code == 400

    founded = today_vn() - timedelta(days=90)
    resp = officer.post(f"/teams/{team_id}/edit", data=with_version(officer, f"/teams/{team_id}/edit", {
        "name": "Tổ CNSCĐ ấp Mới", "decision_number": "", "decision_date": "", "founded_on": founded.isoformat(),
        "hamlets": [str(tree.hamlet.id)]}))
    assert resp.status_code == 302
    assert "Ngày thành lập" in officer.get(f"/teams/{team_id}").get_data(as_text=True)
    assert leader.post("/visits/new", data=older).status_code == 303


def test_a_founding_day_in_the_future_is_refused_beside_the_field(db, tree, officer):
    tomorrow = (today_vn() + timedelta(days=1)).isoformat()
    resp = officer.post(f"/teams/new/{tree.commune.id}", data={
        "name": "Tổ CNSCĐ ấp Mới", "founded_on": tomorrow, "hamlets": [str(tree.hamlet.id)]})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="founded_on-error"' in page and f'value="{tomorrow}"' in page
    assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 0


def test_the_migration_gives_old_teams_their_decision_date_or_their_registration_day(db, tree):
    migration = migration_files.load("49c5cf0a1898")
    # 20:00 UTC on 1 May is already 2 May in Vietnam.
    registered = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)
    decided = Team(commune_id=tree.commune.id, name="A", name_folded="a", decision_date=DECISION,
                   created_at=registered)
    undecided = Team(commune_id=tree.commune.id, name="B", name_folded="b", created_at=registered)
    db.session.add_all([decided, undecided])
    db.session.commit()
    with db.engine.begin() as conn:
        migration.fill_founded_on(conn)
    db.session.expire_all()
    assert (decided.founded_on, undecided.founded_on) == (DECISION, date(2024, 5, 2))
