"""The team as the visit form sees it (TeamRoster), and the form's own checks against it."""
import re
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa

from app.catalogue.operations import active_services
from app.extensions import db
from app.teams.models import Membership, Team
from app.units import operations as unit_ops
from app.visits.forms import VisitForm
from app.visits.roster import TeamRoster
from tests.visits_helpers import TEAM_START, form, make_team


def _team_with_a_retired_hamlet_and_a_departed_member(tree):
    team, members = make_team(tree.commune, [tree.hamlet, tree.hamlet2])
    tree.hamlet2.retired_on = date(2024, 5, 1)
    db.session.scalar(sa.select(Membership).where(Membership.member_id == members[2].id)).left_on = date(2024, 5, 1)
    db.session.commit()
    db.session.expire_all()  # nothing of the team loaded, as at the start of a request
    return db.session.get(Team, team.id), members


@contextmanager
def statements():
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)


def test_the_roster_holds_the_hamlets_in_service_and_the_current_members_by_name(db, tree):
    team, members = _team_with_a_retired_hamlet_and_a_departed_member(tree)
    extra = unit_ops.create_unit("Ấp Bình Đông", "hamlet", tree.commune)
    team.hamlets.append(extra)
    db.session.commit()
    db.session.expire_all()
    team = db.session.get(Team, team.id)
    roster = TeamRoster(team)
    # In the order the ORM gives them (Team.hamlets by name, in the database's collation; members by
    # their folded names), the retired hamlet and the member who left out.
    in_service = [h for h in team.hamlets if h.retired_on is None]
    assert [(h.id, h.name) for h in roster.hamlets] == [(h.id, h.name) for h in in_service]
    assert sorted(h.name for h in roster.hamlets) == ["Khu vực 1", "Ấp Bình Đông"]
    assert [(m.id, m.full_name) for m in roster.members] == [(members[0].id, "Nguyễn Thị Lan"),
                                                             (members[1].id, "Trần Văn Bình")]
    assert (roster.hamlet_ids, roster.member_ids) == ([h.id for h in in_service], {members[0].id, members[1].id})
    roster.members.append(members[2])  # a page adding a visit's former member has a list of its own
    assert len(roster.members) == 2


def test_the_form_asks_for_the_team_in_one_statement_however_often_it_is_asked_and_keeps_it(app, db, tree):
    from app.coverage.rollup import _tokens
    from app.visits.roster import _team_rows
    team, _members = _team_with_a_retired_hamlet_and_a_departed_member(tree)
    _team_rows.cache_clear()
    with app.test_request_context():
        _tokens()  # read with the user at the start of a signed-in request
        roster = TeamRoster(team)
        with statements() as seen:
            for _ in range(3):
                _ids = (roster.hamlets, roster.members, roster.hamlet_ids, roster.member_ids)
        assert len(seen) == 1 and "team_hamlets" in seen[0] and "memberships" in seen[0]
    with app.test_request_context():  # the next request: kept, as long as the tokens say nothing changed
        _tokens()
        with statements() as seen:
            again = TeamRoster(team)
            assert (again.hamlets, again.members) == (roster.hamlets, roster.members)
        assert seen == []


def test_no_team_is_an_empty_roster(db):
    roster = TeamRoster(None)
    assert (roster.hamlets, roster.members, roster.hamlet_ids, roster.member_ids,
            roster.earliest) == ([], [], [], set(), None)


def test_the_form_itself_refuses_a_former_member_a_date_before_the_team_and_a_nameless_new_household(app, db, tree):
    team, members = _team_with_a_retired_hamlet_and_a_departed_member(tree)
    data = form(household_id="new", on=date(2024, 2, 1), members=[members[0].id, members[2].id],
                services={"dvc": "guided"})
    with app.test_request_context("/visits/new", method="POST", data=data):
        visit_form = VisitForm(roster=TeamRoster(team), services=active_services())
        assert visit_form.validate() is False
        assert visit_form.members.errors == ["Chỉ chọn thành viên của tổ."]
        assert "không thể trước ngày này" in visit_form.visited_on.errors[0]
        assert visit_form.visited_on.errors[0].startswith(f"Tổ được thành lập ngày {TEAM_START:%d/%m/%Y}")
        assert visit_form.new_name.errors == ["Nhập họ tên chủ hộ."]
        assert visit_form.new_household()["hamlet_id"] == tree.hamlet.id  # the team's only hamlet in service
    data = form(new_name="Lê Văn Tư", on=date(2024, 4, 1), members=[members[0].id], services={"dvc": "adopted"})
    with app.test_request_context("/visits/new", method="POST", data=data):
        visit_form = VisitForm(roster=TeamRoster(team), services=active_services())
        assert visit_form.validate() is True
        assert visit_form.visit_data().member_ids == [members[0].id] and visit_form.visit_data().household is None


def test_members_of_the_same_name_are_told_apart_on_the_visit_class_and_shift_forms(app, db, tree):
    """Five members named Phạm Văn Hùng in one team: a tick beside the name alone would be a guess. Each is
    told apart by the year of birth where it is theirs alone, else the mobile number's last digits, else the
    order in which they were registered; a name of one member stays as it is."""
    from app.teams.models import Member
    from app.text import fold
    from tests.visits_helpers import sign_in_as
    team, members = make_team(tree.commune, [tree.hamlet])
    hung = []
    for year, phone in ((1990, "0912345678"), (1990, "0912000111"), (1985, None), (None, None),
                        (None, "0977000678")):
        m = Member(full_name="Phạm Văn Hùng", name_folded=fold("Phạm Văn Hùng"), birth_year=year, phone=phone)
        db.session.add(m)
        db.session.add(Membership(member=m, team=team, role="member", joined_on=TEAM_START))
        db.session.flush()
        hung.append(m.id)
    db.session.commit()
    browser, _leader = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])
    # The first shares its year with the second and its last three digits with the fifth, who gave no year.
    expected = {hung[0]: "Phạm Văn Hùng (người thứ 1 cùng tên)", hung[1]: "Phạm Văn Hùng (số máy …111)",
                hung[2]: "Phạm Văn Hùng (sinh năm 1985)", hung[3]: "Phạm Văn Hùng (người thứ 4 cùng tên)",
                hung[4]: "Phạm Văn Hùng (người thứ 5 cùng tên)", members[0].id: "Nguyễn Thị Lan"}
    for path, prefix in (("/visits/new", "m"), ("/activities/classes/new", "members"),
                         ("/activities/shifts/new", "members")):
        page = browser.get(path).get_data(as_text=True)
        for member_id, label in expected.items():
            assert f'<label for="{prefix}-{member_id}">{label}</label>' in page, (path, label)
    # Ticked, they are told apart on the pages of what was logged too, among the members listed there (the
    # second and the third differ by their years).
    from tests.test_activities import class_form, shift_form
    from tests.visits_helpers import household
    ticked = [hung[2], hung[1], members[0].id]
    shown = "Nguyễn Thị Lan, Phạm Văn Hùng (sinh năm 1985), Phạm Văn Hùng (sinh năm 1990)"
    home = household(tree.hamlet, name="Trần Văn Bảy")
    db.session.commit()
    logged = [browser.post("/visits/new", data=form(home.id, members=ticked, services={"dvc": "guided"})),
              browser.post("/activities/classes/new", data=class_form(db, team, members) | {
                  "members": [str(i) for i in ticked]}),
              browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune) | {
                  "members": [str(i) for i in ticked]})]
    for resp in logged:
        assert resp.status_code == 303, resp.get_data(as_text=True)[:1000]
        page = browser.get(resp.headers["Location"]).get_data(as_text=True)
        names = re.search(r"<strong>(?:Thành viên tham gia|Thành viên):</strong> ([^<]*)</p>", page)
        assert names and sorted(names.group(1).split(", ")) == sorted(shown.split(", ")), resp.headers["Location"]
