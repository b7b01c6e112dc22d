"""The visit form: recording once, bad input, adoption dates, edit/delete rights and lists."""
import json
import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.audit.models import AuditEvent
from app.dates import VN, today_vn
from app.households.models import Household
from app.teams.models import Member, Membership
from app.visits.models import Adoption, Visit, VisitService, visit_members
from app.visits.operations import REPLAY_WINDOW
from tests.conftest import PASSWORD
from tests.form_versions import with_version
from tests.html_tree import parse
from tests.visits_helpers import (
    TEAM_START,
    Browser,
    adoption,
    form,
    household,
    make_team,
    service_id,
    sign_in_as,
    visit_count,
)


@pytest.fixture
def signed(app, leader_login):
    return leader_login


@pytest.fixture
def leader_login(app, db, tree, team):
    return sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])


@pytest.fixture
def client(leader_login):
    """The leader's browser (overrides the plain client: every test here starts signed in)."""
    return leader_login[0]


@pytest.fixture
def leader(leader_login):
    return leader_login[1]


def test_field_users_land_on_the_visit_form(client, leader, team):
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/visits/new")
    page = client.get("/visits/new").get_data(as_text=True)
    assert "Ghi lượt hướng dẫn" in page
    assert f'value="{today_vn().isoformat()}"' in page
    # the signed-in member is ticked by default, every active service has three choices
    assert f'name="members" value="{team[1][0].id}" id="m-{team[1][0].id}" checked' in page
    assert page.count('value="adopted"') == 10


def test_a_new_household_named_by_accents_alone_or_a_picture_is_refused_beside_its_name(client, db, team):
    data = form(on=today_vn(), members=[team[1][0].id], services={"vneid": "guided"}, household_id="new",
                new_name="\u0301 🙂", new_address="Kế chợ")
    resp = client.post("/visits/new", data=data)
    error = parse(resp.get_data(as_text=True)).find(id="new_name-error")
    assert resp.status_code == 400 and error is not None
    assert "Tên phải có ít nhất một chữ cái hoặc chữ số." in error.text()
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_log_a_visit_with_a_new_household(client, db, leader, team, tree):
    data = form(on=today_vn(), members=[team[1][0].id], services={"e_wallet": "adopted", "vneid": "guided"},
                household_id="new", new_name="Nguyễn Văn  An", new_address="Kế chợ", new_phone="0912 345 678")
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert visit.household.head_name == "Nguyễn Văn An" and visit.household.phone == "0912345678"
    assert visit.household.address == "Kế chợ"
    assert visit.hamlet_id == tree.hamlet.id and visit.team_id == team[0].id
    assert {vs.service.code: vs.result for vs in visit.services} == {"e_wallet": "adopted", "vneid": "guided"}
    assert adoption(visit.household_id, "e_wallet").adopted_on == today_vn()
    assert adoption(visit.household_id, "vneid") is None
    assert [m.id for m in visit.members] == [team[1][0].id]
    assert visit.created_at is not None and visit.updated_at - visit.created_at < timedelta(seconds=1)
    # the trail says who logged what, where (on PostgreSQL all of this is one statement)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "visit")).one()
    assert (event.action, event.record_id, event.unit_id, event.user_id) == (
        "create", visit.id, tree.hamlet.id, leader.id)
    changes = {field: after for field, _before, after in event.change_items}
    assert changes["members"] == [team[1][0].id] and changes["visited_on"] == today_vn().isoformat()
    services = {str(vs.service_id): vs.result for vs in visit.services}
    assert changes["services"] == services and changes["household_id"] == visit.household_id


@pytest.mark.parametrize("new_household", [False, True], ids=["registered household", "new household"])
def test_the_same_form_posted_twice_records_one_visit(client, db, leader, team, tree, new_household):
    # The second post is the first one's answer: with a new household, that household is not added twice.
    chosen = {"household_id": "new", "new_name": "Phạm Thị Hoa"} if new_household else \
        {"household_id": household(tree.hamlet).id}
    data = form(members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn(), **chosen)
    first = client.post("/visits/new", data=data)
    second = client.post("/visits/new", data=data)
    assert first.status_code == 303 and second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert visit_count() == 1
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Lượt hướng dẫn này đã được ghi" in page


def test_the_same_form_resent_after_the_replay_window_records_no_second_visit(client, db, leader, team, tree):
    """A phone that lost its connection sends the form again later: past the 10 minutes in which a
    repost is recognised by what it says, its key alone finds the visit it made, even once the form
    would no longer pass (a member ticked on it has left the team since)."""
    from app.teams import operations as teams
    h = household(tree.hamlet)
    data = form(h.id, members=[team[1][0].id, team[1][1].id], services={"dvc": "adopted"}, on=today_vn(),
                note="Ông Tư nhờ cài lại mật khẩu VNeID")
    sent = datetime.now(UTC)
    with time_machine.travel(sent, tick=False):
        first = client.post("/visits/new", data=data)
    assert first.status_code == 303 and visit_count() == 1
    with time_machine.travel(sent + REPLAY_WINDOW + timedelta(minutes=1), tick=False):
        again = client.post("/visits/new", data=data)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert visit_count() == 1
    teams.leave(db.session.get(Member, team[1][1].id), today_vn())
    db.session.commit()
    with time_machine.travel(sent + timedelta(hours=1), tick=False):
        later = client.post("/visits/new", data=data)
        assert later.status_code == 303 and later.headers["Location"] == first.headers["Location"]
        assert "Lượt hướng dẫn này đã được ghi" in client.get(later.headers["Location"]).get_data(as_text=True)
    assert visit_count() == 1


def test_a_repost_with_a_fresh_key_is_recognised_as_a_replay(client, db, leader, team, tree):
    """The back button re-fetched the form (new key) and the same visit was sent again."""
    data = form(members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn(), household_id="new",
                new_name="Phạm Thị Hoa")
    client.post("/visits/new", data=data)
    data["key"] = form()["key"]
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 303
    assert visit_count() == 1
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 1



def test_a_fresh_key_with_the_same_content_is_a_replay_for_ten_minutes_and_a_new_visit_after(
        client, db, leader, team, tree):
    # The same person, household, day, services, members and note, with a fresh key: up to ten minutes
    # after the first it is that visit sent again; from then on, a second visit of the same kind.
    h = household(tree.hamlet)
    data = form(h.id, members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn())
    sent = datetime.now(UTC).replace(microsecond=0)
    with time_machine.travel(sent, tick=False):
        first = client.post("/visits/new", data=data)
    ten_minutes = timedelta(minutes=10)  # the replay window the README states, not the constant
    for after, visits in ((ten_minutes, 1), (ten_minutes + timedelta(seconds=1), 2)):
        data["key"] = form()["key"]
        with time_machine.travel(sent + after, tick=False):
            again = client.post("/visits/new", data=data)
        assert again.status_code == 303 and visit_count() == visits, after
        assert (again.headers["Location"] == first.headers["Location"]) == (visits == 1), after

def test_a_fresh_key_with_other_members_or_another_note_is_another_visit(client, db, leader, team, tree):
    """Only the same visit sent again is a replay: the leader back in the afternoon with another member,
    or noting something else, with the same services, logs a second visit of the day."""
    h = household(tree.hamlet)
    lan, binh = team[1][0], team[1][1]
    morning = form(h.id, members=[lan.id], services={"dvc": "guided"}, on=today_vn(), note="Hẹn quay lại chiều")
    first = client.post("/visits/new", data=morning)
    afternoon = dict(morning, key=form()["key"], members=[str(binh.id)])
    second = client.post("/visits/new", data=afternoon)
    assert first.status_code == second.status_code == 303 and visit_count() == 2
    assert second.headers["Location"] != first.headers["Location"]
    noted = dict(morning, key=form()["key"], note="Đã cài xong VNeID cho con trai")
    third = client.post("/visits/new", data=noted)
    assert third.status_code == 303 and visit_count() == 3
    assert third.headers["Location"] not in (first.headers["Location"], second.headers["Location"])
    # And the morning's form sent again as it was is still the morning's visit.
    again = client.post("/visits/new", data=dict(morning, key=form()["key"]))
    assert again.headers["Location"] == first.headers["Location"] and visit_count() == 3


def test_a_form_opened_before_a_merge_and_sent_twice_records_one_visit_on_the_kept_household(
        client, db, leader, team, tree):
    # The form names a household merged since it opened: the visit goes to the household kept, and the
    # same form sent again with a fresh key (the back button) is that visit, found among the kept one's.
    from app.households.operations import merge_households
    twin, kept = household(tree.hamlet, "Trần Văn Bình"), household(tree.hamlet, "Trần Văn Bình", "14 Lê Lợi")
    merge_households(twin, kept)
    db.session.commit()
    data = form(twin.id, members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn())
    first = client.post("/visits/new", data=data)
    data["key"] = form()["key"]
    again = client.post("/visits/new", data=data)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalars(sa.select(Visit.household_id)).all() == [kept.id]


def test_a_replay_is_told_from_another_visit_to_the_household_that_day(client, db, leader, team, tree):
    """Two different visits to one household the same day are both kept; a repost of the second
    (fresh key) leads to the second, not the first."""
    h = household(tree.hamlet)
    members = [team[1][0].id]
    first = client.post("/visits/new", data=form(h.id, members=members, services={"dvc": "adopted"}, on=today_vn()))
    second_data = form(h.id, members=members, services={"dvc": "guided", "vneid": "adopted"}, on=today_vn())
    second = client.post("/visits/new", data=second_data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] != second.headers["Location"] and visit_count() == 2
    second_data["key"] = form()["key"]
    again = client.post("/visits/new", data=second_data)
    assert again.status_code == 303 and again.headers["Location"] == second.headers["Location"]
    assert visit_count() == 2


def test_two_simultaneous_posts_record_one_visit(app, db, leader, team, tree):
    h = household(tree.hamlet)
    data = form(h.id, members=[team[1][0].id], services={"smartphone": "guided"}, on=today_vn())
    clients = []
    for _ in range(3):
        c = Browser(app)
        assert c.post("/auth/login", data={"username": leader.username, "password": PASSWORD}).status_code == 302
        clients.append(c)
    barrier, statuses = threading.Barrier(len(clients)), []

    def post(c):
        barrier.wait()
        r = c.post("/visits/new", data=data)
        statuses.append((r.status_code, r.headers["Location"]))

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 3 and {s for s, _ in statuses} == {303}
    assert len({location for _, location in statuses}) == 1  # all three see the same visit
    assert visit_count() == 1


def test_replayed_form_after_sign_out_records_nothing(client, db, leader, team, tree):
    h = household(tree.hamlet)
    client.post("/auth/logout")
    resp = client.post("/visits/new", data=form(h.id, members=[team[1][0].id], services={"dvc": "adopted"}))
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    assert visit_count() == 0



def test_a_team_of_two_hamlets_adds_a_household_to_the_hamlet_chosen(app, db, tree):
    from tests.visits_helpers import make_team
    team, members = make_team(tree.commune, [tree.hamlet, tree.hamlet2], name="Tổ CNSCĐ hai khu vực")
    db.session.commit()
    browser, _leader = sign_in_as(app, "team_leader", tree.commune, team, members[0])
    page = browser.get("/visits/new").get_data(as_text=True)
    assert 'name="new_hamlet"' in page and "Khu vực 2" in page  # two hamlets: the form asks which
    base = dict(on=today_vn(), members=[members[0].id], services={"vneid": "guided"}, household_id="new")
    resp = browser.post("/visits/new", data=form(**base, new_name="Phan Thị Hai", new_hamlet=str(tree.hamlet2.id)))
    assert resp.status_code == 303
    added = db.session.scalar(sa.select(Household).where(Household.head_name == "Phan Thị Hai"))
    assert added.hamlet_id == tree.hamlet2.id
    assert db.session.scalar(sa.select(Visit.hamlet_id).where(Visit.household_id == added.id)) == tree.hamlet2.id
    # A hamlet the team does not serve is refused beside the field, and nothing is added.
    resp = browser.post("/visits/new", data=form(**base, new_name="Võ Văn Ba", new_hamlet=str(tree.other_hamlet.id)))
    assert resp.status_code == 400 and "Chọn một ấp do tổ phụ trách." in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(Household).where(Household.head_name == "Võ Văn Ba")) is None

@pytest.mark.parametrize("change, field, message", [
    ({"visited_on": (today_vn() + timedelta(days=1)).isoformat()}, "visited_on", "không được ở tương lai"),
    ({"visited_on": (TEAM_START - timedelta(days=1)).isoformat()}, "visited_on", "Tổ được thành lập ngày 01/03/2024"),
    ({"visited_on": "31/02/2024"}, "visited_on", "Hãy nhập ngày hợp lệ"),
    ({"svc-bogus": "adopted"}, "services", "không có trong danh mục"),
    ({"svc-dvc": "maybe"}, "services", "Chọn chưa hướng dẫn"),
    ({"svc-dvc": "none"}, "services", "ít nhất một dịch vụ"),
    ({"note": "x" * 100_000}, "note", "100.000 ký tự"),
    ({"note": "ồ" * 2001}, "note", "2.001 ký tự, tối đa 2.000"),
    ({"household_id": "new", "new_name": "Lê Văn Tư", "new_size": "51"}, "new_size", "từ 1 đến 50"),
    ({"household_id": "new", "new_name": "Ấ" * 201}, "new_name", "Tối đa 200 ký tự."),
    ({"household_id": "new", "new_name": "Lê Văn Tư", "new_address": "ố" * 201}, "new_address", "Tối đa 200 ký tự."),
    ({"members": []}, "members", "ít nhất một thành viên"),
    ({"household_id": ""}, "household", "Chọn hộ gia đình"),
    ({"household_id": "new", "new_name": ""}, "new_name", "Nhập họ tên chủ hộ"),
    ({"household_id": "new", "new_name": "Lê Văn Tư", "new_phone": "12345"}, "new_phone", "số di động"),
])
def test_bad_input_is_refused_beside_the_field_and_kept(client, db, leader, team, tree, change, field, message):
    h = household(tree.hamlet)
    data = form(h.id, members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn(),
                note="ghi chú của tôi")
    data.update(change)
    resp = client.post("/visits/new", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in page
    assert_error_beside(page, field, message)
    assert_error_summarised(page, field, message)
    if field != "note":
        assert "ghi chú của tôi" in page  # what was typed is still there
    if str(data["household_id"]) == str(h.id):  # the household chosen is still chosen, under its name
        assert f'value="{h.id}" id="hh-{h.id}" checked>' in page and h.head_name in page
    assert visit_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(Household.id))) == 1



def test_the_limits_themselves_are_taken(client, db, leader, team, tree):
    # The day the team was founded, a note of 2,000 characters, new households of 50 people and of 1.
    h = household(tree.hamlet)
    members = [team[1][0].id]
    resp = client.post("/visits/new", data=form(h.id, on=TEAM_START, members=members, services={"dvc": "adopted"},
                                                note="ồ" * 2000))
    assert resp.status_code == 303
    resp = client.post("/visits/new", data=form(members=members, services={"vneid": "guided"}, on=today_vn(),
                                                household_id="new", new_name="Lê Văn Tư", new_size="50"))
    assert resp.status_code == 303
    # A household of one person, visited by the whole team.
    everyone = [m.id for m in team[1]]
    resp = client.post("/visits/new", data=form(members=everyone, services={"vneid": "guided"}, on=today_vn(),
                                                household_id="new", new_name="Bà Năm", new_size="1"))
    assert resp.status_code == 303
    visits = db.session.scalars(sa.select(Visit).order_by(Visit.id)).all()
    assert [v.visited_on for v in visits] == [TEAM_START, today_vn(), today_vn()] and len(visits[0].note) == 2000
    assert db.session.scalar(sa.select(Household.size).where(Household.head_name == "Lê Văn Tư")) == 50
    assert db.session.scalar(sa.select(Household.size).where(Household.head_name == "Bà Năm")) == 1
    assert sorted(m.id for m in visits[2].members) == sorted(everyone)

# The form's control for each field checked above (a service is one radio group among several).
CONTROL = {"visited_on": "visited_on", "services": "svc-dvc", "note": "note", "members": "members",
           "household": "household_id", "new_name": "new_name", "new_phone": "new_phone", "new_size": "new_size",
           "new_address": "new_address"}


def _box(element):
    """The nearest box a field lives in: the `.field` wrapper of one input, or a group's fieldset."""
    return next((a for a in element.ancestors()
                 if "field" in a.classes() or (a.tag == "fieldset" and "group" in a.classes())), None)


def assert_error_beside(page, field, message):
    """The message is in the field's own error element, in the same box as the field's control
    (not merely somewhere on the page); a single field's control points at it for screen readers."""
    tree = parse(page)
    error = tree.find(id=f"{field}-error")
    assert error is not None, f"no error element for {field}"
    assert message in error.text() and error.attrs.get("role") == "alert"
    box = _box(error)
    controls = [e for e in tree.iter() if e.attrs.get("name") == CONTROL[field]]
    assert box is not None and any(_box(c) is box for c in controls), f"the error for {field} is not beside it"
    if "field" in box.classes():
        control = next(c for c in controls if _box(c) is box)
        assert control.attrs.get("aria-describedby") == f"{field}-error"
        assert control.attrs.get("aria-invalid") == "true"
    others = [e.attrs["id"] for e in tree.iter() if e.attrs.get("id", "").endswith("-error") and e is not error]
    assert others == [], f"errors shown for other fields too: {others}"


def assert_error_summarised(page, field, message):
    """The refused form opens with a summary that takes the focus and links to the field in error."""
    tree = parse(page)
    summary = tree.find(id="error-summary")
    assert summary is not None and "autofocus" in summary.attrs and summary.attrs.get("tabindex") == "-1"
    order = [e.attrs.get("id") for e in tree.iter()]
    assert order.index("error-summary") < order.index("visited_on")  # above every field
    links = list(summary.find_all("a"))
    assert len(links) == 1 and message in links[0].text()
    target = tree.find(id=links[0].attrs["href"][1:])
    assert target is not None
    box = target if target.tag == "fieldset" and "group" in target.classes() else _box(target)
    assert box is _box(tree.find(id=f"{field}-error")), f"the summary's link for {field} leads elsewhere"


def test_the_error_summary_lists_every_error_in_page_order(client, db, leader, team, tree):
    data = form(household_id="new", members=[], services={}, on=today_vn() + timedelta(days=1),
                new_name="", q="tìm")
    page = client.post("/visits/new", data=data).get_data(as_text=True)
    tree = parse(page)
    links = [a.attrs["href"] for a in tree.find(id="error-summary").find_all("a")]
    first_member = next(tree.find_all("input", name="members")).attrs["id"]
    assert links == ["#visited_on", "#new_name", f"#{first_member}", "#services"]
    # Each line says which field it is about, as the page names it, then what is wrong.
    texts = [a.text() for a in tree.find(id="error-summary").find_all("a")]
    assert [t.split(": ", 1)[0] for t in texts] == [
        "Ngày hướng dẫn", "Chủ hộ", "Thành viên tham gia", "Dịch vụ"], texts
    assert "error-summary" not in client.get("/visits/new").get_data(as_text=True)


def _service_order(page):
    return list(dict.fromkeys(re.findall(r'name="svc-([a-z_]+)"', page)))


def _tomorrow_morning():
    """07:00 tomorrow in Vietnam: when the team opens the form the next day."""
    return datetime.combine(today_vn() + timedelta(days=1), time(7), tzinfo=VN)


def test_services_the_team_used_most_in_the_last_90_days_come_first(client, db, leader, team, tree):
    catalogue_order = _service_order(client.get("/visits/new").get_data(as_text=True))
    assert catalogue_order[:3] == ["dvc", "vneid", "province_app"]  # no visits yet: the catalogue's order
    h, member = household(tree.hamlet), team[1][0]
    for days in (1, 2, 3):
        _log(client, h, today_vn() - timedelta(days=days), {"e_health": "guided"}, member)
    _log(client, h, today_vn() - timedelta(days=4), {"safe_online": "adopted", "e_health": "guided"}, member)
    _log(client, h, today_vn() - timedelta(days=5), {"cashless": "guided"}, member)
    # Counted tomorrow: the 90 days up to tomorrow (its day 89 before it, twice), not the day before them
    # (tomorrow's 90th day back), however many.
    for _twice in range(2):
        _log(client, h, today_vn() - timedelta(days=88), {"province_app": "guided"}, member)
    for _times in range(6):
        _log(client, h, today_vn() - timedelta(days=89), {"ecommerce": "adopted"}, member)
    # Recorded today: the boxes stay where they were while the team logs the day's visits, on every
    # worker, also one that opens its first form of the day only now and reads the visits afresh.
    assert _service_order(client.get("/visits/new").get_data(as_text=True)) == catalogue_order
    from app.catalogue import operations as catalogue
    catalogue._team_use.cache_clear()
    assert _service_order(client.get("/visits/new").get_data(as_text=True)) == catalogue_order
    with time_machine.travel(_tomorrow_morning(), tick=False):
        order = _service_order(client.get("/visits/new").get_data(as_text=True))
    assert order[:4] == ["e_health", "province_app", "cashless", "safe_online"]  # a tie: the catalogue's order
    assert order[4:] == [c for c in catalogue_order if c not in order[:4]]


def test_the_service_order_follows_the_visits_of_the_day_before_as_they_stand(client, db, leader, team, tree):
    # The next morning counts what the days before hold then: a visit recorded, edited or deleted
    # yesterday (or earlier) counts as it stands, the team's other visits and other teams' not at all.
    h, member = household(tree.hamlet), team[1][0]
    kept = _log(client, h, today_vn() - timedelta(days=1), {"smartphone": "guided"}, member)
    edited = _log(client, h, today_vn() - timedelta(days=2), {"e_wallet": "guided"}, member)
    deleted = _log(client, h, today_vn() - timedelta(days=3), {"bank_account": "guided"}, member)
    deleted_too = _log(client, h, today_vn() - timedelta(days=4), {"bank_account": "guided"}, member)
    resp = client.post(f"/visits/{edited}/edit", data=with_version(
        client, f"/visits/{edited}/edit", form(h.id, on=today_vn() - timedelta(days=2),
                                                         members=[member.id], services={"vneid": "guided"})))
    assert resp.status_code == 303
    for visit_id in (deleted, deleted_too):
        assert client.post(f"/visits/{visit_id}/delete", data={}).status_code == 303
    assert db.session.get(Visit, kept) is not None and db.session.get(Visit, deleted) is None
    with time_machine.travel(_tomorrow_morning(), tick=False):
        order = _service_order(client.get("/visits/new").get_data(as_text=True))
    assert order[:2] == ["vneid", "smartphone"]  # vneid before smartphone: the catalogue's order of a tie
    assert order.index("bank_account") > order.index("e_wallet")  # deleted: back in the catalogue's order


def test_the_day_the_service_order_counts_up_to_begins_at_midnight_in_vietnam(client, db, leader, team, tree):
    h, member = household(tree.hamlet), team[1][0]
    day = today_vn()
    late = _log(client, h, day - timedelta(days=1), {"cashless": "guided"}, member)
    early = [_log(client, h, day - timedelta(days=1), {"e_health": "guided"}, member) for _ in range(2)]
    # Recorded at 23:30 the night before (16:30 UTC) and at 00:30 today (17:30 UTC the day before).
    for visit_id, at in [(late, time(23, 30)), *((v, time(0, 30)) for v in early)]:
        on = day - timedelta(days=1) if at.hour == 23 else day
        db.session.execute(sa.update(Visit).where(Visit.id == visit_id)
                           .values(created_at=datetime.combine(on, at, tzinfo=VN).astimezone(UTC)))
    db.session.commit()
    order = _service_order(client.get("/visits/new").get_data(as_text=True))
    assert order[0] == "cashless" and order.index("e_health") == 9  # the catalogue puts e_health last


def test_a_busy_team_s_form_orders_its_services_by_its_latest_visits(client, db, leader, team, tree, monkeypatch):
    # However many visits the team made in 90 days, the form counts only its latest ones (here 3).
    from app.catalogue import operations as catalogue
    monkeypatch.setattr(catalogue, "USAGE_VISITS", 3)
    h, member = household(tree.hamlet), team[1][0]
    for days in (10, 11, 12, 13, 14):
        _log(client, h, today_vn() - timedelta(days=days), {"cashless": "guided"}, member)
    for days in (1, 2, 3):
        _log(client, h, today_vn() - timedelta(days=days), {"e_health": "guided"}, member)
    with time_machine.travel(_tomorrow_morning(), tick=False):
        order = _service_order(client.get("/visits/new").get_data(as_text=True))
        assert order[0] == "e_health"  # all 90 days counted, cashless's 5 would come first
        monkeypatch.setattr(catalogue, "USAGE_VISITS", 300)
        order = _service_order(client.get("/visits/new").get_data(as_text=True))
    assert order[:2] == ["cashless", "e_health"]


def _plain_services_block(app, services, locale):
    """The services fieldset rendered from the template on its own, as a form with nothing chosen has it."""
    from flask import render_template
    from flask_babel import force_locale
    with app.test_request_context(), force_locale(locale):
        return render_template("visits/_services.html", services=services, chosen={}, service_errors=[])


def test_a_blank_form_s_services_are_the_template_s_in_the_user_s_language_and_names(app, client, db, leader):
    # A blank form's services are rendered once per worker (app/visits/blank_services.py): in each
    # language, and again once a service's name changes.
    from app.catalogue import operations as catalogue
    services = catalogue.active_services()
    for service in services:  # named in Vietnamese only: the names alike in both languages
        service.name_en = service.name_vi
    db.session.commit()
    vietnamese = _plain_services_block(app, services, "vi")
    assert "hồ sơ dịch vụ công trực tuyến" in vietnamese and "Đã sử dụng" in vietnamese
    assert vietnamese in client.get("/visits/new").get_data(as_text=True)

    leader.locale = "en"
    db.session.commit()
    page = client.get("/visits/new").get_data(as_text=True)
    english = _plain_services_block(app, services, "en")
    assert english in page and vietnamese not in page
    assert "hồ sơ dịch vụ công trực tuyến" in english and "Adopted" in english

    services[0].name_en = "Public services online (renamed)"
    db.session.commit()
    page = client.get("/visits/new").get_data(as_text=True)
    assert "Public services online (renamed)" in page and _plain_services_block(app, services, "en") in page


def _plain_household_fields(app, team, locale):
    """A new visit's fields for a new household rendered from the template on its own, empty and folded."""
    from flask import render_template
    from flask_babel import force_locale
    from wtforms.fields.choices import SelectChoice

    from app.visits.forms import VisitForm
    from app.visits.roster import TeamRoster
    with app.test_request_context(), force_locale(locale):
        hamlets = TeamRoster(team).hamlets
        form = VisitForm(formdata=None)
        form.new_hamlet.choices = [SelectChoice(h.id, h.name) for h in hamlets]
        return render_template("visits/_new_household.html", form=form, visit=None, hamlets=hamlets, open_new=False)


def test_a_new_visit_s_household_fields_are_the_template_s_for_the_team_s_hamlets_and_language(
        app, client, db, leader, team, tree):
    # Rendered once per worker (app/visits/blank_services.py): the template's, for the team's hamlets as they
    # are now, in the user's language; a form that opens them filled, or a refused one, renders them itself.
    from flask import template_rendered
    one_hamlet = _plain_household_fields(app, team[0], "vi")
    assert "Thêm hộ mới" in one_hamlet and 'id="new_hamlet"' not in one_hamlet
    from app.visits import blank_services
    blank_services._HOUSEHOLD_FIELDS.clear()  # kept per worker: earlier tests' forms may have filled it
    rendered = []
    with template_rendered.connected_to(lambda _app, template, context: rendered.append(template.name), app):
        for _ in range(3):
            assert one_hamlet in client.get("/visits/new").get_data(as_text=True)
    # Rendered on its own for the first form, then taken as kept.
    assert rendered.count("visits/_new_household.html") == 1 and rendered.count("visits/form.html") == 3

    team[0].hamlets.append(tree.hamlet2)
    db.session.commit()
    two_hamlets = _plain_household_fields(app, team[0], "vi")
    assert 'id="new_hamlet"' in two_hamlets and "Khu vực 2" in two_hamlets
    page = client.get("/visits/new").get_data(as_text=True)
    assert two_hamlets in page and one_hamlet not in page

    tree.hamlet2.name = "Khu vực 2 mới"
    db.session.commit()
    page = client.get("/visits/new").get_data(as_text=True)
    assert "Khu vực 2 mới" in page and _plain_household_fields(app, team[0], "vi") in page

    leader.locale = "en"
    db.session.commit()
    page = client.get("/visits/new").get_data(as_text=True)
    english = _plain_household_fields(app, team[0], "en")
    assert "Add a new household" in english and english in page and "Thêm hộ mới" not in page

    # Opened with a name to add: the fields come filled and open, not the kept ones.
    page = client.get("/visits/new?new_name=Lê%20Thị%20Hồng").get_data(as_text=True)
    assert english not in page and '<details class="new-household" open>' in page
    assert 'value="Lê Thị Hồng"' in page
    # A refused post shows what was typed.
    page = client.post("/visits/new", data=form(household_id="new", new_name="Lê Thị Hồng", new_phone="12",
                                                members=[team[1][0].id], services={"dvc": "guided"}))
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert english not in text and 'value="Lê Thị Hồng"' in text and 'value="12"' in text


def test_a_household_of_another_hamlet_or_commune_is_refused(client, db, leader, team, tree):
    outside = [household(tree.hamlet2, "Võ Văn Kiệt"), household(tree.other_hamlet, "Đỗ Thị Mai")]
    for h in outside:
        resp = client.post("/visits/new", data=form(h.id, members=[team[1][0].id], services={"dvc": "adopted"}))
        assert resp.status_code == 400
        assert "không thuộc các ấp của tổ" in resp.get_data(as_text=True)
    assert visit_count() == 0


def test_members_of_another_team_are_refused(client, db, leader, team, tree):
    _other_team, others = make_team(tree.commune, [tree.hamlet2], name="Tổ khác")
    h = household(tree.hamlet)
    resp = client.post("/visits/new", data=form(h.id, members=[others[0].id], services={"dvc": "adopted"}))
    assert resp.status_code == 400 and visit_count() == 0


@pytest.mark.parametrize("key", [None, "", "abc", "g" * 32, "0" * 33])
def test_a_visit_form_without_its_own_key_is_a_400_and_saves_nothing(client, db, leader, team, tree, key):
    data = form(household(tree.hamlet).id, members=[team[1][0].id], services={"dvc": "adopted"}, on=today_vn())
    if key is None:
        del data["key"]
    else:
        data["key"] = key
    assert client.post("/visits/new", data=data).status_code == 400
    assert visit_count() == 0


def test_the_household_s_link_opens_the_form_with_that_household_chosen(client, db, leader, team, tree):
    chosen, other = household(tree.hamlet, "Đinh Thị Mai"), household(tree.hamlet, "Hà Văn Tùng")
    page = client.get(f"/visits/new?household={chosen.id}").get_data(as_text=True)
    assert f'value="{chosen.id}" id="hh-{chosen.id}" checked>' in page and "Hà Văn Tùng" not in page
    # A household merged since, or one of another commune, is not chosen.
    from app.households.operations import merge_households
    merge_households(other, chosen)
    stranger = household(tree.other_hamlet, "Lò Văn Pá")
    db.session.commit()
    for h in (other, stranger):
        page = client.get(f"/visits/new?household={h.id}").get_data(as_text=True)
        assert f'id="hh-{h.id}"' not in page and h.head_name not in page


def test_search_as_you_type_without_diacritics(client, leader, tree):
    household(tree.hamlet, "Nguyễn Văn An")
    household(tree.hamlet2, "Nguyễn Văn Anh")  # not the team's hamlet
    resp = client.get("/visits/households?q=nguyen van an", headers={"HX-Request": "true"})
    page = resp.get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Nguyễn Văn Anh" not in page
    assert "<html" not in page  # only the partial
    assert len(resp.get_data()) < 5000


def test_search_as_you_type_offers_at_most_eight_households_best_first(client, leader, tree):
    # Ten households of the team's hamlet bear "Nguyễn Văn": a phone's screen gets eight, and a name typed
    # in full finds its own household among them.
    names = [f"Nguyễn Văn {n}" for n in ("An", "Bình", "Cường", "Dũng", "Em", "Giang", "Hải", "Khánh", "Lộc", "Minh")]
    for name in names:
        household(tree.hamlet, name)
    page = client.get("/visits/households?q=nguyen van", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert sum(name in page for name in names) == 8
    assert "Nguyễn Văn Minh" in client.get("/visits/households?q=nguyen van minh").get_data(as_text=True)


def test_find_button_works_without_javascript(client, leader, team, tree):
    household(tree.hamlet, "Trần Thị Đào")
    household(tree.hamlet, "Lê Văn Sáu")
    data = form(members=[team[1][0].id], services={"dvc": "guided"}, q="tran thi dao", find="1",
                note="giữ lại")
    resp = client.post("/visits/new", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Trần Thị Đào" in page and "giữ lại" in page
    assert "Lê Văn Sáu" not in page  # only the households the search found
    assert visit_count() == 0


def _new_household_fields(page):
    """Whether the new-household fields are open, and the head's name they hold."""
    tree = parse(page)
    details = next(tree.find_all("details", **{"class": "new-household"}))
    return "open" in details.attrs, details.find(id="new_name").attrs.get("value"), \
        "checked" in tree.find(id="hh-new").attrs


def test_a_new_household_after_a_search_takes_the_searched_name_without_javascript(client, leader, team, tree):
    household(tree.hamlet, "Thạch Văn Sa")
    data = form(members=[team[1][0].id], services={"dvc": "guided"}, q="Thạch Thị Sa Rươl", note="giữ lại")
    # The search (button or as-you-type) offers to add what was searched for as a new household.
    page = client.post("/visits/new", data=dict(data, find="1")).get_data(as_text=True)
    assert 'name="add_new"' in page and "Thêm “Thạch Thị Sa Rươl” là hộ mới" in page
    assert 'name="add_new"' in client.get("/visits/households?q=thach thi sa").get_data(as_text=True)
    resp = client.post("/visits/new", data=dict(data, add_new="1"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and visit_count() == 0 and "giữ lại" in page
    assert _new_household_fields(page) == (True, "Thạch Thị Sa Rươl", True)
    # A name typed into the new fields already is kept, not overwritten by the search.
    page = client.post("/visits/new", data=dict(data, add_new="1", new_name="Thạch Sa")).get_data(as_text=True)
    assert _new_household_fields(page) == (True, "Thạch Sa", True)
    # A link can carry the name too.
    page = client.get("/visits/new?new_name=Thạch Thị Sa Rươl").get_data(as_text=True)
    assert _new_household_fields(page) == (True, "Thạch Thị Sa Rươl", True)
    page = client.get("/visits/new").get_data(as_text=True)
    assert _new_household_fields(page) == (False, "", False)


def _log(client, h, on, services, member):
    resp = client.post("/visits/new", data=form(h.id, on=on, members=[member.id], services=services))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def test_adoption_is_dated_by_the_first_visit_and_moves_on_edit_and_delete(client, db, leader, team, tree):
    h = household(tree.hamlet)
    m = team[1][0]
    second = _log(client, h, date(2024, 6, 10), {"e_wallet": "adopted"}, m)
    first = _log(client, h, date(2024, 5, 2), {"e_wallet": "adopted", "dvc": "guided"}, m)
    third = _log(client, h, date(2024, 7, 1), {"e_wallet": "adopted"}, m)
    a = adoption(h.id, "e_wallet")
    assert (a.adopted_on, a.visit_id) == (date(2024, 5, 2), first)
    # editing the first visit to "guided" moves the adoption to the next visit that marked it
    resp = client.post(f"/visits/{first}/edit", data=with_version(
        client, f"/visits/{first}/edit", form(h.id, on=date(2024, 5, 2), members=[m.id],
                                                          services={"e_wallet": "guided"})))
    assert resp.status_code == 303
    assert adoption(h.id, "e_wallet").visit_id == second
    # moving the third visit's date before all others makes it the adoption
    client.post(f"/visits/{third}/edit", data=with_version(
        client, f"/visits/{third}/edit", form(h.id, on=date(2024, 4, 1), members=[m.id],
                                                   services={"e_wallet": "adopted"})))
    assert adoption(h.id, "e_wallet").adopted_on == date(2024, 4, 1)
    for visit_id in (third, second):
        assert client.post(f"/visits/{visit_id}/delete").status_code == 303
    assert adoption(h.id, "e_wallet") is None
    assert db.session.scalar(sa.select(sa.func.count(Adoption.household_id))) == 0
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.record_type == "visit")).all()
    assert actions.count("delete") == 2 and actions.count("update") == 2


def test_a_household_visited_twice_in_a_day_adopts_with_the_visit_that_marked_it(client, db, leader, team, tree):
    """Back the same afternoon: the morning's visit only guided the e-wallet, the afternoon's saw it
    adopted. The adoption is the afternoon's visit, and `flask coverage verify` agrees."""
    from app.coverage import store
    h = household(tree.hamlet)
    m = team[1][0]
    morning = _log(client, h, date(2024, 6, 10), {"e_wallet": "guided", "dvc": "adopted"}, m)
    afternoon = _log(client, h, date(2024, 6, 10), {"e_wallet": "adopted"}, m)
    assert morning < afternoon
    a = adoption(h.id, "e_wallet")
    assert (a.adopted_on, a.visit_id) == (date(2024, 6, 10), afternoon)
    assert adoption(h.id, "dvc").visit_id == morning
    assert store.verify(db.session.connection()) == []


def test_a_visit_corrected_to_another_household_and_other_members_takes_its_adoptions_and_counts_along(
        client, db, leader, team, tree, runner):
    """The wrong household was chosen (of another hamlet the team serves), and the wrong members ticked: the
    correction moves the visit, its adoptions (one service now adopted too) and the hamlets' figures."""
    from app.coverage.models import CoverageTotal
    crew, (lan, binh, khang) = team
    crew.hamlets.append(tree.hamlet2)
    db.session.commit()
    wrong = household(tree.hamlet, "Nguyễn Văn An")
    right = household(tree.hamlet2, "Nguyễn Văn Ân", "5 Trần Phú")
    visit_id = _log(client, wrong, date(2024, 6, 10), {"e_wallet": "adopted", "dvc": "guided"}, lan)
    assert adoption(wrong.id, "e_wallet") is not None

    def reached(hamlet):
        return db.session.scalar(sa.select(sa.func.sum(CoverageTotal.households)).where(
            CoverageTotal.unit_id == hamlet.id, CoverageTotal.service_id == 0)) or 0

    assert (reached(tree.hamlet), reached(tree.hamlet2)) == (1, 0)
    corrected = form(right.id, on=date(2024, 6, 10), members=[binh.id, khang.id],
                     services={"e_wallet": "adopted", "dvc": "adopted"})
    resp = client.post(f"/visits/{visit_id}/edit", data=with_version(client, f"/visits/{visit_id}/edit", corrected))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert (visit.household_id, visit.hamlet_id) == (right.id, tree.hamlet2.id)
    assert sorted(m.full_name for m in visit.members) == ["Lê Minh Khang", "Trần Văn Bình"]
    assert adoption(wrong.id, "e_wallet") is None
    assert adoption(right.id, "e_wallet").visit_id == visit_id
    assert adoption(right.id, "dvc").adopted_on == date(2024, 6, 10)  # guided, now adopted
    assert (reached(tree.hamlet), reached(tree.hamlet2)) == (0, 1)
    page = client.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert "Nguyễn Văn Ân" in page and "Trần Văn Bình" in page and "Nguyễn Thị Lan" not in page
    # The trail keeps the visit as it was and as it is.
    changes = json.loads(db.session.scalar(sa.select(AuditEvent.changes).where(
        AuditEvent.record_type == "visit", AuditEvent.record_id == visit_id, AuditEvent.action == "update")))
    assert changes["household_id"] == {"before": wrong.id, "after": right.id}
    assert changes["members"] == {"before": [lan.id], "after": sorted([binh.id, khang.id])}
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 0, result.output


def test_a_tie_on_date_goes_to_the_lowest_visit_id(client, db, leader, team, tree, runner):
    h = household(tree.hamlet)
    a = _log(client, h, date(2024, 6, 1), {"cashless": "adopted"}, team[1][0])
    _log(client, h, date(2024, 6, 1), {"cashless": "adopted", "dvc": "guided"}, team[1][0])
    assert adoption(h.id, "cashless").visit_id == a
    # A later visit leaves the adoption; an earlier one takes it; the coverage tallies follow each.
    _log(client, h, date(2024, 7, 1), {"cashless": "adopted", "dvc": "adopted"}, team[1][0])
    earlier = _log(client, h, date(2024, 5, 1), {"cashless": "adopted"}, team[1][0])
    assert adoption(h.id, "cashless").visit_id == earlier and adoption(h.id, "dvc").adopted_on == date(2024, 7, 1)
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 0, result.output


def test_a_visit_s_page_lists_its_services_in_catalogue_order_and_its_members_by_name(client, db, leader, team, tree):
    """The page a saved visit opens: each service with its result, in the catalogue's order whatever the
    order ticked; the members present by name; nothing of another visit; the services' English names in
    English."""
    from app.visits.models import Service
    lan, binh, khang = team[1]
    positions = dict(db.session.execute(sa.select(Service.code, Service.position)).all())
    ticked = {"e_wallet": "adopted", "vneid": "guided", "dvc": "guided"}
    assert len(set(positions[c] for c in ticked)) == 3
    first, second = household(tree.hamlet), household(tree.hamlet, "Trần Thị Bé", "3 Hùng Vương")
    resp = client.post("/visits/new", data=form(first.id, on=today_vn(), members=[lan.id, khang.id, binh.id],
                                                 services=ticked))
    assert resp.status_code == 303
    # another visit, other services and members: none of it on the first one's page
    assert client.post("/visits/new", data=form(second.id, on=today_vn(), members=[binh.id],
                                                services={"cashless": "adopted"})).status_code == 303
    page = parse(client.get(resp.headers["Location"]).get_data(as_text=True))
    names = {s.code: (s.name_vi, s.name_en) for s in db.session.scalars(sa.select(Service))}
    badges = {"guided": "Đã hướng dẫn", "adopted": "Đã sử dụng"}
    def listed(page):
        results = next(e for e in page.find_all("ul") if "results" in e.classes())
        return [" ".join(li.text().split()) for li in results.find_all("li")]

    def said(page):
        return " ".join(page.text().split())
    assert listed(page) == [f"{badges[ticked[c]]} {names[c][0]}" for c in sorted(ticked, key=positions.get)]
    assert "Thành viên tham gia: Lê Minh Khang, Nguyễn Thị Lan, Trần Văn Bình" in said(page)
    leader.locale = "en"
    db.session.commit()
    page = parse(client.get(resp.headers["Location"]).get_data(as_text=True))
    badges = {"guided": "Guided", "adopted": "Adopted"}
    assert listed(page) == [f"{badges[ticked[c]]} {names[c][1]}" for c in sorted(ticked, key=positions.get)]
    # a visit with no member recorded (logged by province staff, say) says so
    visit_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    db.session.execute(sa.delete(visit_members).where(visit_members.c.visit_id == visit_id))
    db.session.commit()
    assert "Members present: –" in said(parse(client.get(resp.headers["Location"]).get_data(as_text=True)))


def test_editing_a_visit_shows_a_member_who_has_left_since_once_and_ticked(client, db, leader, team, tree):
    h = household(tree.hamlet)
    lan, binh, khang = team[1]
    resp = client.post("/visits/new", data=form(h.id, on=date(2024, 6, 1), members=[lan.id, khang.id],
                                                services={"dvc": "guided"}))
    visit_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    db.session.scalar(sa.select(Membership).where(Membership.member_id == khang.id)).left_on = date(2024, 7, 1)
    db.session.commit()
    page = parse(client.get(f"/visits/{visit_id}/edit").get_data(as_text=True))
    boxes = [(box.attrs["value"], "checked" in box.attrs) for box in page.find_all("input", name="members")]
    # The current members first, by name, then the one who has left: each once, those who were there ticked.
    assert boxes == [(str(lan.id), True), (str(binh.id), False), (str(khang.id), True)]
    labels = [label.text().strip() for label in page.find(id="members").find_all("label")]
    assert labels == ["Nguyễn Thị Lan", "Trần Văn Bình", "Lê Minh Khang"]


def test_a_service_switched_off_stays_on_the_visits_that_record_it(client, db, leader, team, tree):
    from app.visits.models import Service
    h = household(tree.hamlet)
    visit_id = _log(client, h, today_vn(), {"e_wallet": "adopted", "dvc": "guided"}, team[1][0])
    db.session.scalar(sa.select(Service).where(Service.code == "e_wallet")).active = False
    db.session.commit()
    assert 'name="svc-e_wallet"' not in client.get("/visits/new").get_data(as_text=True)
    edit = client.get(f"/visits/{visit_id}/edit").get_data(as_text=True)
    assert edit.count('name="svc-e_wallet"') == 3  # its three choices, "adopted" ticked
    assert re.search(r'name="svc-e_wallet"[^>]*value="adopted"[^>]*checked', edit)
    data = form(h.id, members=[team[1][0].id], services={"e_wallet": "adopted", "dvc": "adopted"}, on=today_vn())
    assert client.post(f"/visits/{visit_id}/edit", data=with_version(
        client, f"/visits/{visit_id}/edit", data)).status_code == 303
    db.session.expire_all()
    assert {vs.service.code: vs.result for vs in db.session.get(Visit, visit_id).services} == \
        {"e_wallet": "adopted", "dvc": "adopted"}


def test_edit_and_delete_rights(app, client, db, leader, team, tree):
    h = household(tree.hamlet)
    visit_id = _log(client, h, date(2024, 6, 1), {"dvc": "adopted"}, team[1][0])
    edit = form(h.id, on=date(2024, 6, 1), members=[team[1][0].id], services={"dvc": "guided"})

    def other(role, unit, member=None):
        return sign_in_as(app, role, unit, team[0] if member else None, member)[0]

    member_client = other("team_member", tree.commune, team[1][1])  # same team, not the author
    assert member_client.get(f"/visits/{visit_id}").status_code == 200
    assert member_client.post(f"/visits/{visit_id}/edit", data=edit).status_code == 403
    assert member_client.post(f"/visits/{visit_id}/delete").status_code == 403
    # A visit the member logged is theirs to correct and to delete.
    own = _log(member_client, h, date(2024, 6, 2), {"vneid": "adopted"}, team[1][1])
    own_edit = form(h.id, on=date(2024, 6, 2), members=[team[1][1].id], services={"vneid": "guided"})
    assert member_client.post(f"/visits/{own}/edit", data=with_version(
        member_client, f"/visits/{own}/edit", own_edit)).status_code == 303
    assert adoption(h.id, "vneid") is None
    assert member_client.post(f"/visits/{own}/delete").status_code == 303
    assert db.session.get(Visit, own) is None
    # The confirmation sent again (back button, double tap) goes to the household with a word, not a 404.
    again = member_client.post(f"/visits/{own}/delete", follow_redirects=True)
    assert again.status_code == 200 and again.request.path == f"/households/{h.id}"
    assert "Lượt hướng dẫn này đã được xóa." in again.get_data(as_text=True)
    district = other("district", tree.district)
    assert district.get(f"/visits/{visit_id}").status_code == 200
    assert district.post(f"/visits/{visit_id}/delete").status_code == 403
    for outsider in (other("commune", tree.sibling_commune), other("district", tree.other_district)):
        assert outsider.get(f"/visits/{visit_id}").status_code == 404
        assert outsider.post(f"/visits/{visit_id}/edit", data=edit).status_code == 404
        assert outsider.post(f"/visits/{visit_id}/delete").status_code == 404
        assert outsider.post(f"/visits/{own}/delete").status_code == 404  # deleted, and not theirs to know
    assert adoption(h.id, "dvc") is not None
    officer = other("commune", tree.commune)
    assert officer.post(f"/visits/{visit_id}/edit", data=with_version(
        officer, f"/visits/{visit_id}/edit", edit)).status_code == 303
    assert adoption(h.id, "dvc") is None


def test_field_users_see_only_their_team_hamlets(app, client, db, leader, team, tree):
    other_team, others = make_team(tree.commune, [tree.hamlet2], name="Tổ Khu vực 2")
    h2 = household(tree.hamlet2, "Võ Văn Kiệt")
    c, _user = sign_in_as(app, "team_leader", tree.commune, other_team, others[0])
    visit_id = _log(c, h2, date(2024, 6, 1), {"dvc": "adopted"}, others[0])
    assert client.get(f"/visits/{visit_id}").status_code == 404
    assert client.get(f"/households/{h2.id}").status_code == 404
    assert "Võ Văn Kiệt" not in client.get("/households/?q=vo").get_data(as_text=True)


def test_an_account_moved_to_another_team_sees_that_team_s_hamlets_on_its_next_page(app, client, db, leader, team,
                                                                                    tree):
    # The scoped statements are built once per scope (app/scope.py): the team is part of it.
    other_team, others = make_team(tree.commune, [tree.hamlet2], name="Tổ Khu vực 2")
    h1, h2 = household(tree.hamlet), household(tree.hamlet2, "Võ Văn Kiệt")
    c, _user = sign_in_as(app, "team_leader", tree.commune, other_team, others[0])
    theirs = _log(c, h2, date(2024, 6, 1), {"dvc": "adopted"}, others[0])
    ours = _log(client, h1, date(2024, 6, 1), {"dvc": "adopted"}, team[1][0])
    assert client.get(f"/visits/{theirs}").status_code == 404
    assert client.get(f"/visits/{ours}").status_code == 200
    leader.team_id = other_team.id
    db.session.commit()
    assert client.get(f"/visits/{theirs}").status_code == 200
    assert client.get(f"/households/{h2.id}").status_code == 200
    assert client.get(f"/visits/{ours}").status_code == 404
    assert client.get(f"/households/{h1.id}").status_code == 404


def test_recent_lists_count_today_week_and_month(client, db, leader, team, tree):
    # Wednesday 16 December 2026 in Vietnam: the week began on Monday the 14th, the month on the 1st.
    h = household(tree.hamlet)
    days = [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 13), date(2026, 12, 14), date(2026, 12, 16)]
    with time_machine.travel(datetime(2026, 12, 16, 3, 0, tzinfo=UTC), tick=False):
        for i, day in enumerate(days):
            _log(client, h, day, {"dvc" if i % 2 else "vneid": "guided"}, team[1][0])
        pages = {p: client.get(f"/visits/?period={p}").get_data(as_text=True) for p in ("today", "week", "month")}
    for period, shown in (("today", 1), ("week", 2), ("month", 4)):
        page = pages[period]
        tabs = dict(re.findall(r'period=(\w+)"[^>]*>\s*[^<]*<strong>(\d+)</strong>', page))
        assert tabs == {"today": "1", "week": "2", "month": "4"}, period
        assert page.count("Nguyễn Văn An") == shown, period
    assert "30/11/2026" not in pages["month"] and "14/12/2026" in pages["week"] and "13/12/2026" not in pages["week"]


def test_an_area_s_officer_counts_and_lists_its_own_visits_read_by_date(app, db, client, leader, team, tree):
    """District and province officers' lists read their visits by date (scope.wide_visits_query): the
    counts and rows are their area's, the next district's visits are not."""
    far_team, far_members = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ CNSCĐ Một Ngàn")
    far_leader, _u = sign_in_as(app, "team_leader", tree.other_commune, far_team, far_members[0])
    near, far = household(tree.hamlet), household(tree.other_hamlet, "Lê Thị Xa")
    with time_machine.travel(datetime(2026, 12, 16, 3, 0, tzinfo=UTC), tick=False):
        for day in (date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 15), date(2026, 12, 16)):
            _log(client, near, day, {"vneid": "guided"}, team[1][0])
        for day in (date(2026, 12, 3), date(2026, 12, 16)):
            _log(far_leader, far, day, {"vneid": "guided"}, far_members[0])
        pages = {}
        for role, unit in (("district", tree.district), ("province", tree.province)):
            officer, _o = sign_in_as(app, role, unit)
            pages[role] = {p: officer.get(f"/visits/?period={p}").get_data(as_text=True) for p in ("today", "month")}
    for role, want in (("district", {"today": "1", "week": "2", "month": "3"}),
                       ("province", {"today": "2", "week": "3", "month": "5"})):
        for period, page in pages[role].items():
            assert dict(re.findall(r'period=(\w+)"[^>]*>\s*[^<]*<strong>(\d+)</strong>', page)) == want, (role, period)
    assert "Lê Thị Xa" not in pages["district"]["month"] and pages["district"]["month"].count("Nguyễn Văn An") == 3
    assert pages["province"]["month"].count("Lê Thị Xa") == 2 and "30/11/2026" not in pages["province"]["month"]


def test_commune_officers_cannot_log_visits_but_see_them(app, db, tree):
    officer, _user = sign_in_as(app, "commune", tree.commune)
    assert officer.get("/visits/new").status_code == 403
    assert officer.get("/visits/").status_code == 200


def test_a_member_sees_the_visits_they_made_or_attended(app, db, client, leader, team, tree):
    h = household(tree.hamlet)
    member_user_browser, _member = sign_in_as(app, "team_member", tree.commune, team[0], team[1][1])
    alone = _log(client, h, today_vn(), {"dvc": "guided"}, team[1][0])                    # leader alone
    attended = _log(client, h, today_vn(), {"vneid": "guided", "dvc": "adopted"}, team[1][1])  # with the member
    page = member_user_browser.get("/visits/?period=today").get_data(as_text=True)
    assert page.count("Nguyễn Văn An") == 1 and "Lượt hướng dẫn của bạn" in page
    assert f'href="/visits/{attended}"' in page and f'href="/visits/{alone}"' not in page
    assert page.count("Nguyễn Văn An") < client.get("/visits/?period=today").get_data(as_text=True).count(
        "Nguyễn Văn An")


def test_demo_visits_imply_exactly_the_stored_adoptions(db):
    """The demo step goes through the service layer: recomputing from the visits changes nothing."""
    from app.demo.seed import seed_demo
    seed_demo()
    stored = {(a.household_id, a.service_id): (a.adopted_on, a.visit_id, a.hamlet_id)
              for a in db.session.scalars(sa.select(Adoption))}
    expected = {}
    rows = db.session.execute(sa.select(Visit.household_id, VisitService.service_id, Visit.visited_on, Visit.id,
                                        Visit.hamlet_id).join(VisitService)
                              .where(VisitService.result == "adopted").order_by(Visit.visited_on, Visit.id))
    for household_id, service_id_, on, visit_id, hamlet_id in rows:
        expected.setdefault((household_id, service_id_), (on, visit_id, hamlet_id))
    assert len(stored) > 100 and stored == expected
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) >= 300


def test_of_two_visits_on_one_day_that_both_adopt_the_first_holds_the_adoption_until_deleted(db, tree):
    import uuid

    from app.visits.operations import VisitData, create_visit, delete_visit
    h = household(tree.hamlet, "Nguyễn Văn Hai")
    vneid = service_id("vneid")
    on = date(2024, 5, 2)
    first, second = (create_visit(VisitData(h, on, {vneid: "adopted"}), uuid.uuid4().hex, None) for _ in range(2))
    db.session.commit()

    def adopting_visit():
        db.session.expire_all()
        return db.session.scalar(sa.select(Adoption.visit_id).where(Adoption.household_id == h.id,
                                                                    Adoption.service_id == vneid))

    assert adopting_visit() == first
    delete_visit(db.session.get(Visit, first))
    db.session.commit()
    assert adopting_visit() == second  # still adopted, by the visit that is left
    delete_visit(db.session.get(Visit, second))
    db.session.commit()
    assert adopting_visit() is None


def test_a_leader_cannot_correct_another_teams_visit_in_a_hamlet_both_teams_serve(app, db, tree, client, team):
    """Two teams serve Khu vực 1; a visit is its own team's to correct (its author, its leader), not the
    other team's leader's, though it lies in a hamlet they serve too."""
    other_team, other_members = make_team(tree.commune, [tree.hamlet], name="Tổ CNSCĐ Khu vực 1B")
    db.session.commit()
    other, _user = sign_in_as(app, "team_leader", tree.commune, other_team, other_members[0])
    h = household(tree.hamlet, "Phan Thị Mười")
    db.session.commit()
    sent = form(h.id, on=today_vn(), members=[other_members[0].id], services={"vneid": "guided"})
    assert other.post("/visits/new", data=sent).status_code == 303
    visit_id = db.session.scalar(sa.select(Visit.id).where(Visit.team_id == other_team.id))
    changed = form(h.id, on=today_vn(), members=[other_members[0].id], services={"vneid": "adopted"})
    assert client.get(f"/visits/{visit_id}/edit").status_code in (403, 404)
    assert client.post(f"/visits/{visit_id}/edit", data=changed).status_code in (403, 404)
    assert client.post(f"/visits/{visit_id}/delete").status_code in (403, 404)
    db.session.expire_all()
    assert [s.result for s in db.session.get(Visit, visit_id).services] == ["guided"]
    assert other.get(f"/visits/{visit_id}/edit").status_code == 200  # its own leader may


def _team_on_form(client) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The hamlets (the new household's choice, when the team serves several) and members the form offers."""
    page = client.get("/visits/new").get_data(as_text=True)
    members = [(int(i), name.strip()) for i, name in re.findall(
        r'name="members" value="(\d+)" id="m-\d+"[^>]*>\s*<label for="m-\d+">([^<]+)</label>', page)]
    select = re.search(r'<select[^>]*name="new_hamlet"[^>]*>(.*?)</select>', page, re.S)
    hamlets = [(int(i), name) for i, name in re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]+)</option>',
                                                        select.group(1))] if select else []
    return hamlets, members


def _team_read_plainly(team) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    from app.extensions import db
    from app.visits.roster import _TEAM
    rows = db.session.connection().execute(_TEAM, {"team_id": team.id}).all()
    hamlets = [(i, name) for kind, i, name, _sort in rows if kind == 0]
    return (hamlets if len(hamlets) > 1 else []), [(i, name) for kind, i, name, _sort in rows if kind == 1]


def test_the_visit_form_offers_the_team_as_it_is_after_every_change(client, db, tree, team):
    # The team's hamlets and members are kept per worker under the units' and the teams' tokens, which
    # triggers replace (app/visits/roster.py): each change shows on the leader's next form, and a posted
    # visit is checked against the team as it is.
    from app.units import operations as unit_ops
    the_team, members = team
    assert _team_on_form(client) == _team_read_plainly(the_team) and len(_team_on_form(client)[1]) == 3
    the_team.hamlets.append(tree.hamlet2)
    db.session.commit()
    assert [h for _i, h in _team_on_form(client)[0]] == ["Khu vực 1", "Khu vực 2"]
    unit_ops.rename_unit(tree.hamlet2, "Khu vực 2A")
    db.session.commit()
    assert (tree.hamlet2.id, "Khu vực 2A") in _team_on_form(client)[0]
    assert _team_on_form(client) == _team_read_plainly(the_team)

    khang = members[2]
    db.session.scalar(sa.select(Membership).where(Membership.member_id == khang.id)).left_on = today_vn()
    db.session.commit()
    assert khang.id not in dict(_team_on_form(client)[1]) and _team_on_form(client) == _team_read_plainly(the_team)
    target = household(tree.hamlet)
    resp = client.post("/visits/new", data=form(target.id, members=[khang.id], services={"dvc": "guided"}, save="1"))
    assert resp.status_code == 400 and visit_count() == 0  # no longer the team's

    newcomer = Member(full_name="Phạm Thị Ánh", name_folded="pham thi anh")
    db.session.add(newcomer)
    db.session.add(Membership(member=newcomer, team=the_team, role="member", joined_on=today_vn()))
    db.session.commit()
    assert (newcomer.id, "Phạm Thị Ánh") in _team_on_form(client)[1]
    resp = client.post("/visits/new", data=form(target.id, members=[newcomer.id], services={"dvc": "guided"},
                                                save="1"))
    assert resp.status_code == 303 and visit_count() == 1
    newcomer.full_name = "Phạm Thị Ngọc Ánh"
    db.session.commit()
    assert (newcomer.id, "Phạm Thị Ngọc Ánh") in _team_on_form(client)[1]

    the_team.hamlets.remove(tree.hamlet2)  # one hamlet left: no choice to make
    db.session.commit()
    assert _team_on_form(client) == _team_read_plainly(the_team) == ([], _team_read_plainly(the_team)[1])
    resp = client.post("/visits/new", data=form("new", members=[newcomer.id], services={"dvc": "guided"},
                                                new_name="Lê Văn Tư", new_hamlet=str(tree.hamlet2.id), save="1"))
    assert resp.status_code == 303 and visit_count() == 2
    added = db.session.scalar(sa.select(Household).where(Household.head_name == "Lê Văn Tư"))
    assert added.hamlet_id == tree.hamlet.id  # the team's one hamlet, whatever an old form said

