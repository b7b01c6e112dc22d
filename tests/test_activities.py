"""Classes and one-stop-centre shifts as a team logs them, and the commune officer's dossier totals:
counts that must add up, learners named and linked to households, the exactly-once key, the
team's combined list, closed months, and a shift at another commune's centre refused."""
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.activities.models import CentreShift, Class, ClassLearner, CommuneDossierTotal, Topic
from app.audit.models import AuditEvent
from app.reports.models import MonthClosure
from app.visits.models import Service, Visit
from tests.form_versions import post_total, with_version
from tests.html_tree import parse
from tests.visits_helpers import form as visit_form
from tests.visits_helpers import household, make_team, service_id, sign_in_as

ON = date(2026, 3, 12)


@pytest.fixture
def crew(app, db, tree):
    """A team of Khu vực 1 with three members, its leader signed in."""
    team, members = make_team(tree.commune, [tree.hamlet])
    db.session.commit()
    browser, leader = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])
    leader.locale = "en"  # the messages below are read in English
    db.session.commit()
    return browser, leader, team, members


def _topics(db, *codes):
    return [str(i) for i in db.session.scalars(sa.select(Topic.id).where(Topic.code.in_(codes)))]


def class_form(db, team, members, key=None, on=ON, total="30", bands=("4", "18", "8"), sexes=("17", "13"),
               results=None, learners=(), **extra):
    data = {"key": key or uuid.uuid4().hex, "held_on": on.isoformat(), "place_hamlet": "",
            "place_name": "Nhà văn hóa khu vực 1", "topics": _topics(db, "vneid", "smartphone"),
            "teams": [str(team.id)], "members": [str(m.id) for m in members[:2]],
            "learners_total": total, "age_15_17": bands[0], "age_18_59": bands[1], "age_60_plus": bands[2],
            "learners_female": sexes[0], "learners_male": sexes[1], "note": "", "save": "1"}
    for code, n in (results or {}).items():
        data[f"res-{code}"] = n
    for i, (name, year, hamlet, phone) in enumerate(learners):
        data.update({f"learners-{i}-name": name, f"learners-{i}-birth_year": year,
                     f"learners-{i}-hamlet": hamlet, f"learners-{i}-phone": phone})
    data.update(extra)
    return data


def _count(db, model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _coverage_rows(db):
    """Every household coverage figure the database keeps: the class must change none of them."""
    from app.coverage.models import HouseholdReach
    from app.visits.models import Adoption
    db.session.expire_all()
    reach = sorted(db.session.execute(sa.select(HouseholdReach.__table__)).all())
    adoptions = sorted(db.session.execute(sa.select(Adoption.__table__)).all())
    tallies = {}
    for table in db.metadata.sorted_tables:
        if table.name.startswith("coverage"):
            tallies[table.name] = sorted(map(tuple, db.session.execute(sa.select(table)).all()))
    return reach, adoptions, tallies


def test_a_leader_logs_a_class_of_30_with_5_named_learners_two_of_one_visited_household(db, tree, crew):
    browser, leader, team, members = crew
    home = household(tree.hamlet, "Trần Văn Hòa")
    home.phone = "0912345678"
    db.session.commit()
    resp = browser.post("/visits/new", data=visit_form(home.id, on=date(2026, 3, 2), members=[members[0].id],
                                                       services={"vneid": "adopted"}))
    assert resp.status_code == 303
    before = _coverage_rows(db)

    learners = [("Trần Văn Hòa", "1968", str(tree.hamlet.id), "0912 345 678"),
                ("Nguyễn Thị Mai", "1972", str(tree.hamlet.id), "0912345678"),   # his wife, the family phone
                ("Lê Văn Tám", "2008", str(tree.hamlet2.id), "0912345678"),  # that phone, in another hamlet
                ("Phạm Thị Hoa", "", "", ""),
                ("Võ Văn Kiệt", "1950", "", "0987654321")]
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, results={"vneid": "12", "e_wallet": "5", "dvc": "1", "cashless": "0"}, learners=learners))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    klass = db.session.scalar(sa.select(Class))
    assert (klass.learners_total, klass.age_15_17, klass.age_18_59, klass.age_60_plus) == (30, 4, 18, 8)
    assert (klass.learners_female, klass.learners_male) == (17, 13)
    assert {t.code for t in klass.topics} == {"vneid", "smartphone"}
    assert [t.id for t in klass.teams] == [team.id]
    # A service one learner took is kept; one nobody took (0) is not a result.
    assert {r.service.code: r.learners for r in klass.results} == {"vneid": 12, "e_wallet": 5, "dvc": 1}
    named = {x.name: x for x in klass.learners}
    assert len(named) == 5
    assert named["Trần Văn Hòa"].household_id == home.id and named["Nguyễn Thị Mai"].household_id == home.id
    assert named["Lê Văn Tám"].household_id is None and named["Võ Văn Kiệt"].household_id is None
    assert named["Trần Văn Hòa"].phone == "0912345678"
    assert (named["Trần Văn Hòa"].birth_year, named["Phạm Thị Hoa"].birth_year) == (1968, None)
    # The class page names the household the two learners belong to.
    page = browser.get(resp.headers["Location"]).get_data(as_text=True)
    assert "30" in page and page.count("Trần Văn Hòa") >= 2
    # Each named learner with the year and hamlet given; the class with who recorded it.
    listed = [li.text().strip() for li in parse(page).find_all("li") if "Văn Tám" in li.text()]
    assert listed == ["Lê Văn Tám (2008) · Khu vực 2"], listed
    assert f"Recorded by {leader.full_name} ({leader.username}) at" in page
    # A class adds learners, never households: every household coverage figure is as it was.
    assert _coverage_rows(db) == before
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_type == "class"))
    assert event.action == "create" and event.record_id == klass.id and "Nguyễn Thị Mai" not in event.changes


def test_a_learner_typed_without_diacritics_in_a_second_class_is_the_same_person(db, tree, crew):
    browser, _leader, team, members = crew
    for name in ("Nguyễn Thị Mai", "nguyen thi mai"):
        resp = browser.post("/activities/classes/new", data=class_form(
            db, team, members, learners=[(name, "1972", "", "")]))
        assert resp.status_code == 303
    keys = set(db.session.scalars(sa.select(ClassLearner.person_key)))
    assert len(keys) == 1 and _count(db, ClassLearner) == 2


@pytest.mark.parametrize("change, field_id, message", [
    # The bands' sum is said below all three (a slip in any of them), the summary leading to the first.
    ({"bands": ("4", "18", "7")}, "ages", "must add up to the total"),
    # A band left empty counts as none, in the check and in the sum the message gives.
    ({"bands": ("4", "", "7")}, "ages", "The age bands add up to 11, but 30 learners came"),
    ({"sexes": ("17", "12")}, "learners_male", "add up to 29"),
    ({"sexes": ("17", "")}, "learners_male", "Give both women and men"),
    ({"results": {"vneid": "31"}}, "res-vneid", "At most 30"),
    ({"on": date(2024, 2, 1)}, "held_on", "founded on"),
    ({"topics": []}, "topics", "at least one topic"),
    ({"learners": [("Lê Văn Tám", "", "", "0123")]}, "learners-0-phone", "10 digits"),
    ({"learners": [("Lê Văn Tám", "1890", "", "")]}, "learners-0-birth_year", "between 1920"),
    ({"learners": [("", "", "", "0912345678")]}, "learners-0-name", "Enter the learner's name"),
    ({"learners": [("", "1972", "", "")]}, "learners-0-name", "Enter the learner's name"),
    ({"results": {"vneid": "12a"}}, "res-vneid", "whole number"),
    ({"place_name": "  "}, "place_name", "Choose the hamlet, or write where the class was held"),
    ({"learners": [(f"Người học {i}", "", "", "") for i in range(31)]}, "learners", "31 learners are named"),
    ({"topics": ["999999"]}, "topics", "Choose topics from the list"),
    ({"teams": ["999999"]}, "teams", "Choose teams of the commune"),
    ({"members": ["999999"]}, "members", "Tick only members of the team"),
    ({"learners": [("Lê Văn Tám", "năm 90", "", "")]}, "learners-0-birth_year", "must be a year"),
])
def test_a_class_whose_figures_do_not_hold_is_refused_beside_the_field_and_nothing_is_saved(
        db, tree, crew, change, field_id, message):
    browser, _leader, team, members = crew
    extra = {key: change.pop(key) for key in ("topics", "teams", "members") if key in change}
    data = class_form(db, team, members, **change)
    data.update(extra)
    resp = browser.post("/activities/classes/new", data=data)
    assert resp.status_code == 400
    doc = parse(resp.get_data(as_text=True))
    error = doc.find(id=f"{field_id}-error")
    assert error is not None and message in error.text(), resp.get_data(as_text=True)[:3000]
    # The list above the form leads to it (a learner's row through the learners, a count to its own box, named).
    anchor = "learners" if field_id.startswith("learners-") else "age_15_17" if field_id == "ages" else field_id
    link = doc.find(id="error-summary").find(href=f"#{anchor}")
    assert link is not None
    if field_id.startswith("res-"):
        label = next(doc.find_all("label", **{"for": field_id})).text()
        assert link.text().startswith(f"{label}: ") and message in link.text()
    # One link per field in error, not one for every field of the form.
    assert len(list(doc.find(id="error-summary").find_all("a"))) == 1
    # What was typed comes back.
    assert doc.find(id="learners_total").attrs["value"] == "30"
    assert _count(db, Class) == 0 and _count(db, ClassLearner) == 0


def test_a_class_dated_tomorrow_in_vietnam_is_refused(app, db, tree, crew):
    _browser, _leader, team, members = crew
    with time_machine.travel(datetime(2026, 3, 31, 17, 30, tzinfo=UTC), tick=False):  # 00:30 on 1 April in VN
        # Signed in at that moment: a session cookie signed later than the clock reads is not valid.
        browser = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[1])[0]
        ok = browser.post("/activities/classes/new", data=class_form(db, team, members, on=date(2026, 4, 1)))
        late = browser.post("/activities/classes/new", data=class_form(db, team, members, on=date(2026, 4, 2)))
    assert ok.status_code == 303 and late.status_code == 400
    assert db.session.scalar(sa.select(Class.held_on)) == date(2026, 4, 1)


def test_the_class_form_opens_on_today_in_vietnam_with_the_leaders_team_and_self_ticked(app, db, tree, crew):
    _browser, _leader, team, members = crew
    with time_machine.travel(datetime(2026, 2, 28, 23, 0, tzinfo=UTC), tick=False):  # 06:00 on 1 March in VN
        browser = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])[0]
        doc = parse(browser.get("/activities/classes/new").get_data(as_text=True))
    assert doc.find(id="held_on").attrs["value"] == "2026-03-01"
    assert doc.find(id=f"members-{members[0].id}").attrs.get("checked") is not None
    assert doc.find(id=f"members-{members[1].id}").attrs.get("checked") is None
    # The team serves one hamlet: the class is placed there unless the leader says otherwise.
    chosen = [o for o in doc.find(id="place_hamlet").find_all("option") if o.attrs.get("selected") is not None]
    assert [o.attrs["value"] for o in chosen] == [str(tree.hamlet.id)]


def test_one_form_saved_twice_is_one_class_and_its_key_reused_for_other_figures_is_a_409(db, tree, crew):
    browser, _leader, team, members = crew
    data = class_form(db, team, members)
    first = browser.post("/activities/classes/new", data=data)
    again = browser.post("/activities/classes/new", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    other = browser.post("/activities/classes/new", data={**data, "learners_total": "31", "age_18_59": "19",
                                                          "learners_male": "14"})
    assert other.status_code == 409
    assert parse(other.get_data(as_text=True)).find(id="key-notice") is not None
    assert _count(db, Class) == 1

    class_id = db.session.scalar(sa.select(Class.id))
    assert browser.post(f"/activities/classes/{class_id}/delete").status_code == 303
    # The confirmation sent again (back button, double tap): back to the list with a word, not a 404.
    again = browser.post(f"/activities/classes/{class_id}/delete", follow_redirects=True)
    assert again.status_code == 200 and again.request.path == "/activities/"
    assert "This class was already deleted." in again.get_data(as_text=True)
    replay = browser.post("/activities/classes/new", data=data)
    assert replay.status_code == 409 and _count(db, Class) == 0


def test_a_leader_corrects_and_deletes_a_class_but_not_in_a_closed_month(db, tree, crew):
    browser, _leader, team, members = crew
    assert browser.post("/activities/classes/new", data=class_form(db, team, members)).status_code == 303
    class_id = db.session.scalar(sa.select(Class.id))
    data = class_form(db, team, members, total="25", bands=("0", "20", "5"), sexes=("", ""))
    assert browser.post(f"/activities/classes/{class_id}/edit", data=with_version(
        browser, f"/activities/classes/{class_id}/edit", data)).status_code == 303
    db.session.expire_all()
    klass = db.session.get(Class, class_id)
    assert (klass.learners_total, klass.learners_female) == (25, None)

    db.session.add(MonthClosure(province_id=tree.province.id, year=ON.year, month=ON.month, snapshot="{}"))
    db.session.commit()
    assert browser.post(f"/activities/classes/{class_id}/edit", data=with_version(
        browser, f"/activities/classes/{class_id}/edit", class_form(db, team, members))).status_code == 409
    assert browser.post(f"/activities/classes/{class_id}/delete").status_code == 409
    # Asking to delete it shows why it cannot be (a page, not an error).
    ask = browser.get(f"/activities/classes/{class_id}/delete")
    assert ask.status_code == 200 and "closed" in ask.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Class, class_id).learners_total == 25


def test_a_class_cannot_be_moved_into_a_closed_month(db, tree, crew):
    browser, _leader, team, members = crew
    assert browser.post("/activities/classes/new", data=class_form(db, team, members)).status_code == 303
    class_id = db.session.scalar(sa.select(Class.id))
    february = date(2026, 2, 20)
    db.session.add(MonthClosure(province_id=tree.province.id, year=2026, month=2, snapshot="{}"))
    db.session.commit()
    resp = browser.post(f"/activities/classes/{class_id}/edit", data=with_version(
        browser, f"/activities/classes/{class_id}/edit", class_form(db, team, members, on=february)))
    assert resp.status_code == 409
    assert parse(resp.get_data(as_text=True)).find(id="held_on-error") is not None
    db.session.expire_all()
    assert db.session.get(Class, class_id).held_on == ON


def shift_form(team, members, commune, key=None, on=ON, people="14", dossiers=None):
    data = {"key": key or uuid.uuid4().hex, "held_on": on.isoformat(), "commune": str(commune.id),
            "members": [str(members[0].id)], "people_helped": people, "note": "", "save": "1"}
    for code, n in (dossiers or {}).items():
        data[f"dos-{code}"] = n
    return data


def test_a_shift_is_logged_with_its_online_dossiers_and_counts_against_the_communes_month(app, db, tree, crew):
    browser, _leader, team, members = crew
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune,
                                                                   dossiers={"dvc": "9", "vneid": "3"}))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    shift = db.session.scalar(sa.select(CentreShift))
    assert (shift.commune_id, shift.team_id, shift.people_helped, shift.dossiers_total) == (
        tree.commune.id, team.id, 14, 12)
    assert {d.service_id: d.dossiers for d in shift.dossiers} == {service_id("dvc"): 9, service_id("vneid"): 3}
    # Its note, kept as typed and shown on its page; corrected, the new one.
    data = shift_form(team, members, tree.commune, on=date(2026, 3, 13)) | {"note": "Hướng dẫn cụ Tư nộp hồ sơ"}
    assert browser.post("/activities/shifts/new", data=data).status_code == 303
    noted = db.session.scalar(sa.select(CentreShift).where(CentreShift.held_on == date(2026, 3, 13)))
    assert noted.note == "Hướng dẫn cụ Tư nộp hồ sơ"
    page = browser.get(f"/activities/shifts/{noted.id}").get_data(as_text=True)
    assert "Hướng dẫn cụ Tư nộp hồ sơ" in page and f"Recorded by {_leader.full_name} ({_leader.username}) at" in page
    data = shift_form(team, members, tree.commune, on=date(2026, 3, 13)) | {"note": "Cụ Tư và cụ Năm"}
    assert browser.post(f"/activities/shifts/{noted.id}/edit", data=with_version(
        browser, f"/activities/shifts/{noted.id}/edit", data)).status_code == 303
    db.session.expire_all()
    assert db.session.get(CentreShift, noted.id).note == "Cụ Tư và cụ Năm"  # (no dossiers: March's share stays)

    # The officer enters the commune's total for March: 12 of 40 were filed online with help.
    officer = sign_in_as(app, "commune", tree.commune)[0]
    assert post_total(officer, {"month": "2026-03", "dossiers": "40"}).status_code == 303
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers).where(
        CommuneDossierTotal.month == 202603)) == 40
    assert officer.get("/activities/dossiers").status_code == 200
    rows = list(parse(officer.get("/activities/dossiers").get_data(as_text=True)).find(id="dossier-months")
                .find_all("tr"))[1:]
    assert len(rows) == 12  # the last twelve months
    row = [tr for tr in rows if "03/2026" in tr.text()][0]
    assert [td.text().strip() for td in row.find_all("td")] == ["03/2026", "40", "12", "30,0%"]  # 12 / 40
    # A second shift that month adds its dossiers.
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, on=date(2026, 3, 20),
                                                                   dossiers={"dvc": "5"})).status_code == 303
    row = [tr for tr in parse(officer.get("/activities/dossiers").get_data(as_text=True)).find(id="dossier-months")
           .find_all("tr") if "03/2026" in tr.text()][0]
    assert [td.text().strip() for td in row.find_all("td")] == ["03/2026", "40", "17", "42,5%"]
    bad = post_total(officer, {"month": "2026-13", "dossiers": "x"})
    assert bad.status_code == 400
    assert parse(bad.get_data(as_text=True)).find(id="month-error") is not None
    # February's total is a row of its own; correcting March's leaves it as it was.
    assert post_total(officer, {"month": "2026-02", "dossiers": "25"}).status_code == 303
    assert post_total(officer, {"month": "2026-03", "dossiers": "50"}).status_code == 303
    totals = dict(db.session.execute(sa.select(CommuneDossierTotal.month, CommuneDossierTotal.dossiers)).all())
    assert totals == {202602: 25, 202603: 50}


def _dossier_boxes(page: str) -> dict[str, str]:
    """The shift form's dossier boxes: {service code: value}."""
    found = parse(page).find(id="dossiers")
    return {i.attrs["name"][len("dos-"):]: i.attrs.get("value", "") for i in found.find_all(tag="input")}


def test_a_shift_counts_dossiers_only_for_the_services_people_file_dossiers_through(app, db, tree):
    """A shift at the one-stop centre counts online dossiers: the portal's and VNeID's, not e-wallets opened. A count
    for another service is refused beside the dossiers, the rest of the form kept; an empty box of it names nothing."""
    team, members = make_team(tree.commune, [tree.hamlet])
    db.session.commit()
    browser = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])[0]
    assert set(_dossier_boxes(browser.get("/activities/shifts/new").get_data(as_text=True))) == {"dvc", "vneid"}

    data = shift_form(team, members, tree.commune, people="11", dossiers={"dvc": "4", "e_wallet": "3"})
    resp = browser.post("/activities/shifts/new", data=data)
    assert resp.status_code == 400 and _count(db, CentreShift) == 0
    page = parse(resp.get_data(as_text=True))
    assert page.find(id="dossiers-error").text() == (
        "“Ví điện tử / Mobile Money” không phải là dịch vụ nộp hồ sơ: ca trực chỉ đếm hồ sơ trực tuyến của các "
        "dịch vụ có trong danh sách này.")
    assert page.find(id="dossiers-error").parent.attrs["id"] == "dossiers"  # beside the boxes, in their group
    assert _dossier_boxes(str(resp.get_data(as_text=True))) == {"dvc": "4", "vneid": ""}
    assert page.find(id="people_helped").attrs["value"] == "11"
    assert any(a.attrs.get("href") == "#dossiers" for a in page.find_all(tag="a"))  # and in the summary above

    data = shift_form(team, members, tree.commune, dossiers={"dvc": "4", "e_wallet": "", "smartphone": ""})
    assert browser.post("/activities/shifts/new", data=data).status_code == 303
    shift = db.session.scalar(sa.select(CentreShift))
    assert {d.service.code: d.dossiers for d in shift.dossiers} == {"dvc": 4}


def test_a_shift_recorded_before_with_another_service_s_dossiers_stays_readable_and_correctable(app, db, tree):
    from app.activities.models import ShiftDossier
    team, members = make_team(tree.commune, [tree.hamlet])
    shift = CentreShift(key=uuid.uuid4().hex, commune_id=tree.commune.id, team_id=team.id, held_on=ON,
                        people_helped=9, members=[members[0]])
    db.session.add(shift)
    db.session.flush()
    db.session.add_all([ShiftDossier(shift_id=shift.id, service_id=service_id("e_wallet"), dossiers=5),
                        ShiftDossier(shift_id=shift.id, service_id=service_id("dvc"), dossiers=2)])
    db.session.commit()
    browser = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])[0]
    shown = parse(browser.get(f"/activities/shifts/{shift.id}").get_data(as_text=True)).find(tag="ul")
    assert [li.text() for li in shown.find_all(tag="li")] == ["Tài khoản và hồ sơ dịch vụ công trực tuyến: 2",
                                                              "Ví điện tử / Mobile Money: 5"]
    # Its form keeps the count it holds, and a correction elsewhere saves with it.
    edit = browser.get(f"/activities/shifts/{shift.id}/edit").get_data(as_text=True)
    assert _dossier_boxes(edit) == {"dvc": "2", "vneid": "", "e_wallet": "5"}
    data = shift_form(team, members, tree.commune, key=shift.key, people="10",
                      dossiers={"dvc": "2", "vneid": "", "e_wallet": "5"})
    assert browser.post(f"/activities/shifts/{shift.id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift.id}/edit", data)).status_code == 303
    db.session.expire_all()
    shift = db.session.get(CentreShift, shift.id)
    assert shift.people_helped == 10 and {d.service.code: d.dossiers for d in shift.dossiers} == {
        "dvc": 2, "e_wallet": 5}
    # Another non-dossier service is refused there too.
    data["dos-smartphone"] = "1"
    resp = browser.post(f"/activities/shifts/{shift.id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift.id}/edit", data))
    assert resp.status_code == 400 and "“Sử dụng điện thoại thông minh cơ bản” không phải là dịch vụ nộp hồ sơ" in \
        parse(resp.get_data(as_text=True)).find(id="dossiers-error").text()


def test_an_admin_records_a_commune_s_dossiers_and_never_a_district_s_or_a_province_s(app, db, tree):
    admin = sign_in_as(app, "admin", tree.province)[0]
    for unit in (tree.province, tree.district, tree.hamlet):
        assert admin.get(f"/activities/dossiers?commune={unit.id}").status_code == 403
        refused = admin.post(f"/activities/dossiers?commune={unit.id}", data={"month": "2026-03", "dossiers": "40"})
        assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommuneDossierTotal)) == 0
    saved = admin.post(f"/activities/dossiers?commune={tree.other_commune.id}",
                       data={"month": "2026-03", "dossiers": "40"})
    assert saved.status_code == 303
    assert db.session.execute(sa.select(CommuneDossierTotal.commune_id, CommuneDossierTotal.month,
                                        CommuneDossierTotal.dossiers)).all() == [(tree.other_commune.id, 202603, 40)]


def test_the_dossier_table_runs_back_twelve_months_across_the_new_year_in_vietnam(app, db, tree):
    # 15 February 2026 in Vietnam: the table runs 02/2026, 01/2026, 12/2025 ... 03/2025, newest first. A shift
    # on 1 March 2025 counts in its first row; one on 28 February 2025 is before the table.
    from app.activities.models import ShiftDossier
    for held_on, n in ((date(2025, 3, 1), 4), (date(2025, 2, 28), 7), (date(2025, 12, 31), 3), (date(2026, 1, 1), 2)):
        shift = CentreShift(key=uuid.uuid4().hex, commune_id=tree.commune.id, held_on=held_on, people_helped=n)
        db.session.add(shift)
        db.session.flush()
        db.session.add(ShiftDossier(shift_id=shift.id, service_id=service_id("dvc"), dossiers=n))
    db.session.add_all([CommuneDossierTotal(commune_id=tree.commune.id, month=202512, dossiers=12),
                        CommuneDossierTotal(commune_id=tree.commune.id, month=202511, dossiers=40),
                        CommuneDossierTotal(commune_id=tree.commune.id, month=202502, dossiers=70)])
    db.session.commit()
    with time_machine.travel(datetime(2026, 2, 14, 17, 30, tzinfo=UTC), tick=False):  # 00:30 on the 15th in VN
        officer = sign_in_as(app, "commune", tree.commune)[0]
        resp = officer.get("/activities/dossiers")
    assert resp.status_code == 200, resp.status_code
    page = parse(resp.get_data(as_text=True))
    rows = [[td.text().strip() for td in tr.find_all("td")] for tr in page.find(id="dossier-months").find_all("tr")][1:]
    assert [r[0] for r in rows] == ["02/2026", "01/2026", "12/2025", "11/2025", "10/2025", "09/2025", "08/2025",
                                    "07/2025", "06/2025", "05/2025", "04/2025", "03/2025"]
    assert rows[1] == ["01/2026", "–", "2", "–"]
    assert rows[2] == ["12/2025", "12", "3", "25,0%"]
    assert rows[3] == ["11/2025", "40", "0", "0,0%"]  # a total, no shift: none filed with help
    assert rows[-1] == ["03/2025", "–", "4", "–"]
    assert sum(int(r[2]) for r in rows) == 9  # not February 2025's 7


def test_one_shift_form_saved_twice_is_one_shift_and_its_key_never_records_other_figures(db, tree, crew):
    browser, _leader, team, members = crew
    data = shift_form(team, members, tree.commune, dossiers={"dvc": "2"})
    first = browser.post("/activities/shifts/new", data=data)
    again = browser.post("/activities/shifts/new", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    other = browser.post("/activities/shifts/new", data={**data, "people_helped": "15"})
    assert other.status_code == 409
    page = parse(other.get_data(as_text=True))
    assert page.find(id="key-notice") is not None
    assert next(page.find_all("input", name="key")).attrs["value"] != data["key"]  # a fresh key to send again
    assert _count(db, CentreShift) == 1

    shift_id = db.session.scalar(sa.select(CentreShift.id))
    assert browser.post(f"/activities/shifts/{shift_id}/delete").status_code == 303
    again = browser.post(f"/activities/shifts/{shift_id}/delete", follow_redirects=True)
    assert again.status_code == 200 and again.request.path == "/activities/"
    assert "This shift was already deleted." in again.get_data(as_text=True)
    assert browser.post("/activities/shifts/new", data=data).status_code == 409
    assert _count(db, CentreShift) == 0


def test_a_shift_at_another_communes_centre_is_refused_and_nothing_is_saved(db, tree, crew):
    browser, _leader, team, members = crew
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.other_commune))
    assert resp.status_code == 400
    error = parse(resp.get_data(as_text=True)).find(id="commune-error")
    assert error is not None and "own commune" in error.text()
    assert _count(db, CentreShift) == 0


def test_the_leader_sees_classes_shifts_and_visits_together_newest_first_and_no_other_teams(app, db, tree, crew):
    browser, _leader, team, members = crew
    other_team, other_members = make_team(tree.commune, [tree.hamlet2], name="Tổ CNSCĐ Khu vực 2")
    db.session.commit()
    other, _u = sign_in_as(app, "team_leader", tree.commune, team=other_team, member=other_members[0])
    h = household(tree.hamlet, "Đặng Văn Lâm")
    assert browser.post("/visits/new", data=visit_form(h.id, on=date(2026, 3, 14), members=[members[0].id],
                                                       services={"vneid": "guided"})).status_code == 303
    assert browser.post("/activities/classes/new", data=class_form(db, team, members, on=date(2026, 3, 12))
                        ).status_code == 303
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, on=date(2026, 3, 11))
                        ).status_code == 303
    assert other.post("/activities/classes/new", data=class_form(
        db, other_team, other_members, on=date(2026, 3, 13), total="7", bands=("0", "7", "0"), sexes=("", ""))
    ).status_code == 303
    items = list(parse(browser.get("/activities/").get_data(as_text=True)).find(id="work-list").find_all("li"))
    assert [li.attrs["data-kind"] for li in items] == ["visit", "class", "shift"]
    # The other team's class is theirs to correct: not this leader's, though it is in the same commune.
    theirs = db.session.scalar(sa.select(Class.id).where(Class.learners_total == 7))
    assert browser.get(f"/activities/classes/{theirs}/edit").status_code in (403, 404)
    assert browser.post(f"/activities/classes/{theirs}/edit", data=class_form(
        db, other_team, other_members, on=date(2026, 3, 13), total="9", bands=("0", "9", "0"), sexes=("", ""))
    ).status_code in (403, 404)
    assert browser.post(f"/activities/classes/{theirs}/delete").status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Class, theirs).learners_total == 7
    # Deleted by its own team, it is still nothing to this leader: a 404, not the word its team gets.
    assert other.post(f"/activities/classes/{theirs}/delete").status_code == 303
    assert browser.post(f"/activities/classes/{theirs}/delete").status_code == 404
    assert other.post(f"/activities/classes/{theirs}/delete").status_code == 303
    assert "Đặng Văn Lâm" in items[0].text()
    assert all("Correct" in li.text() for li in items)
    # A visit another member of the team logged, without the leader, is the team's work too.
    member_browser, _m = sign_in_as(app, "team_member", tree.commune, team=team, member=members[2])
    h2 = household(tree.hamlet, "Lý Thị Năm")
    assert member_browser.post("/visits/new", data=visit_form(h2.id, on=date(2026, 3, 15), members=[members[2].id],
                                                              services={"vneid": "guided"})).status_code == 303
    items = list(parse(browser.get("/activities/").get_data(as_text=True)).find(id="work-list").find_all("li"))
    assert "Lý Thị Năm" in items[0].text() and len(items) == 4


def _work_list(browser, query: str = "") -> tuple[list[tuple[str, str]], object]:
    """The list's entries as (kind, date shown) and the page it is on."""
    page = parse(browser.get("/activities/" + query).get_data(as_text=True))
    found = page.find(id="work-list")
    items = list(found.find_all("li")) if found is not None else []
    return [(li.attrs["data-kind"], li.find(**{"class": "meta"}).text().split(" · ")[0]) for li in items], page


def test_the_work_list_goes_a_page_of_30_at_a_time_and_one_kind_at_a_time(app, db, tree, crew, monkeypatch):
    from datetime import timedelta
    browser, leader, team, members = crew
    leader.locale = "vi"
    db.session.commit()
    h = household(tree.hamlet, "Đặng Văn Lâm")
    first = date(2026, 2, 1)
    for i in range(33):  # a visit a day from 1 February, the newest on 5 March
        assert browser.post("/visits/new", data=visit_form(h.id, on=first + timedelta(days=i), members=[members[0].id],
                                                           services={"vneid": "guided"})).status_code == 303
    for on in (date(2026, 3, 6), date(2026, 2, 10)):
        assert browser.post("/activities/classes/new", data=class_form(db, team, members, on=on)).status_code == 303
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, on=date(2026, 2, 20))
                        ).status_code == 303

    one, page = _work_list(browser)
    two, page2 = _work_list(browser, "?page=2")
    assert len(one) == 30 and len(two) == 6
    every = one + two
    assert every[0] == ("class", "06/03/2026") and every[1] == ("visit", "05/03/2026")
    days = [date(*reversed([int(x) for x in d.split("/")])) for _k, d in every]
    assert days == sorted(days, reverse=True)  # newest first, across the two pages
    assert sorted(k for k, _d in every) == ["class"] * 2 + ["shift"] + ["visit"] * 33
    assert page.find(**{"class": "pager-count"}).text() == "1–30 trên 36"
    assert page2.find(**{"class": "pager-count"}).text() == "31–36 trên 36"
    assert _work_list(browser, "?page=99")[0] == two  # past the end: the last page
    assert _work_list(browser, "?page=x")[0] == one

    # One kind alone; the tabs count each kind of the whole list.
    classes, page = _work_list(browser, "?kind=class")
    assert classes == [("class", "06/03/2026"), ("class", "10/02/2026")]
    tabs = {a.attrs["href"]: a.text().split()[-1]
            for a in page.find(**{"class": "tabs four"}).find_all("a")}
    assert tabs == {"/activities/": "36", "/activities/?kind=class": "2", "/activities/?kind=shift": "1",
                    "/activities/?kind=visit": "33"}
    current = page.find(**{"class": "tabs four"}).find(**{"aria-current": "page"})
    assert current.attrs["href"] == "/activities/?kind=class"
    assert page.find(**{"class": "pager-count"}) is None  # one page: no page links
    visits, page = _work_list(browser, "?kind=visit&page=2")
    assert [k for k, _d in visits] == ["visit"] * 3 and visits[-1] == ("visit", "01/02/2026")
    assert _work_list(browser, "?kind=nonsense")[0] == one
    assert "báo cáo tháng đếm đủ" not in page.text()

    # A province's staff would list millions: the list goes back so many entries of each kind, and says so.
    from app.activities import views
    monkeypatch.setattr(views, "LISTED_MAX", 10)
    listed, page = _work_list(browser)
    tabs = {a.attrs["href"]: a.text().split()[-1] for a in page.find(**{"class": "tabs four"}).find_all("a")}
    assert tabs == {"/activities/": "13+", "/activities/?kind=class": "2", "/activities/?kind=shift": "1",
                    "/activities/?kind=visit": "10+"}
    assert "10 mục gần nhất của mỗi loại" in page.text()
    assert sorted(k for k, _d in listed) == ["class"] * 2 + ["shift"] + ["visit"] * 10
    assert listed[:2] == one[:2] and listed[-1] == ("class", "10/02/2026")
    assert ("visit", "24/02/2026") in listed and ("visit", "23/02/2026") not in listed  # the 10 newest visits
    monkeypatch.setattr(views, "LISTED_MAX", 2)  # as many classes as it lists: all of them, no "+"
    tabs = {a.attrs["href"]: a.text().split()[-1]
            for a in _work_list(browser)[1].find(**{"class": "tabs four"}).find_all("a")}
    assert tabs["/activities/?kind=class"] == "2" and tabs["/activities/?kind=visit"] == "2+"

    # A closed month's entries can no longer be corrected from the list; the month before still can.
    monkeypatch.setattr(views, "LISTED_MAX", 3000)
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, on=date(2026, 3, 5))
                        ).status_code == 303  # a shift of March too
    db.session.add(MonthClosure(province_id=tree.province.id, year=2026, month=3, snapshot="{}"))
    db.session.commit()
    items = list(parse(browser.get("/activities/").get_data(as_text=True)).find(id="work-list").find_all("li"))
    march = [li for li in items if "/03/2026" in li.text()]
    february = [li for li in items if "/02/2026" in li.text()]
    assert sum("Ca trực" in li.text() for li in march) == 1
    assert len(march) == 7 and not any("Correct" in li.text() or "Sửa" in li.text() for li in march)
    assert february and all("Sửa" in li.text() for li in february)


def test_the_demo_has_classes_and_shifts_in_every_commune_with_teams_and_they_add_up(db):
    from app.demo.seed import seed_demo
    from app.teams.models import Team
    seed_demo()
    communes = set(db.session.scalars(sa.select(Team.commune_id)))
    assert communes
    assert set(db.session.scalars(sa.select(Class.commune_id))) == communes
    assert set(db.session.scalars(sa.select(CentreShift.commune_id))) == communes
    for klass in db.session.scalars(sa.select(Class)):
        assert klass.age_15_17 + klass.age_18_59 + klass.age_60_plus == klass.learners_total
        assert all(r.learners <= klass.learners_total for r in klass.results)
        assert klass.held_on >= min(t.visits_from for t in klass.teams)
    assert db.session.scalar(sa.select(sa.func.count(ClassLearner.household_id))) > 0


def test_province_staff_add_a_topic_that_their_provinces_class_form_offers_and_can_take_it_off(app, db, tree, crew):
    browser, _leader, team, members = crew
    staff = sign_in_as(app, "province", tree.province)[0]
    assert staff.post("/activities/topics", data={"name": "Chuyển đổi số nông nghiệp", "name_en": ""}
                      ).status_code == 303
    again = staff.post("/activities/topics", data={"name": "chuyen doi so nong nghiep"})
    assert again.status_code == 400 and parse(again.get_data(as_text=True)).find(id="name-error") is not None
    topic = db.session.scalar(sa.select(Topic).where(Topic.province_id == tree.province.id))
    assert topic.code == "chuyen_doi_so_nong_nghiep"
    assert f'id="topics-{topic.id}"' in browser.get("/activities/classes/new").get_data(as_text=True)
    # Another province's form does not offer it.
    from app.units import operations as units
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_commune = units.create_unit("Phường 1", "commune", units.create_unit("TP Sóc Trăng", "district", far, "941"),
                                    "31471")
    far_team, far_members = make_team(far_commune, [])
    db.session.commit()
    far_leader = sign_in_as(app, "team_leader", far_commune, team=far_team, member=far_members[0])[0]
    assert f'id="topics-{topic.id}"' not in far_leader.get("/activities/classes/new").get_data(as_text=True)

    assert staff.post("/activities/topics", data={"toggle": str(topic.id)}).status_code == 303
    assert f'id="topics-{topic.id}"' not in browser.get("/activities/classes/new").get_data(as_text=True)
    # The default list is every province's: no province takes a topic of it off (404), nor another's.
    national = db.session.scalar(sa.select(Topic).where(Topic.province_id.is_(None)).order_by(Topic.id))
    far_topic = Topic(code="far_topic", name="Chủ đề Sóc Trăng", province_id=far.id, position=1000)
    db.session.add(far_topic)
    db.session.commit()
    for other in (national, far_topic):
        assert staff.post("/activities/topics", data={"toggle": str(other.id)}).status_code == 404
        db.session.expire_all()
        assert db.session.get(Topic, other.id).active
    assert f'id="topics-{national.id}"' in browser.get("/activities/classes/new").get_data(as_text=True)
    assert not db.session.get(Topic, topic.id).active


def test_province_staff_read_topics_by_name_and_only_an_administrator_sees_their_codes(app, db, tree):
    staff = sign_in_as(app, "province", tree.province)[0]
    assert staff.post("/activities/topics", data={"name": "Sử dụng Zalo an toàn"}).status_code == 303
    listed = parse(staff.get("/activities/topics").get_data(as_text=True)).find(id="topic-list")
    assert "Sử dụng Zalo an toàn" in listed.text() and "Sử dụng điện thoại thông minh" in listed.text()
    assert "su_dung_zalo_an_toan" not in listed.text() and "smartphone" not in listed.text()
    assert list(listed.find_all(tag="small")) == []
    admin = sign_in_as(app, "admin", tree.province)[0]
    listed = parse(admin.get("/activities/topics").get_data(as_text=True)).find(id="topic-list")
    item = next(li for li in listed.find_all(tag="li") if "Sử dụng Zalo an toàn" in li.text())
    assert item.find(tag="strong").text() == "Sử dụng Zalo an toàn"
    assert [e.text() for e in item.find_all(tag="small")] == ["Mã: su_dung_zalo_an_toan"]


def test_a_topic_whose_code_is_taken_gets_the_next_one_and_its_english_name_shows_in_english(app, db, tree, crew):
    """Two names that differ only in punctuation make the same code: the second is numbered, and both stay
    on the form; a topic's English name is what an English reader sees, its Vietnamese name the rest."""
    browser, _leader, _team, _members = crew
    staff = sign_in_as(app, "province", tree.province)[0]
    assert staff.post("/activities/topics", data={"name": "Nông nghiệp số"}).status_code == 303
    assert staff.post("/activities/topics", data={"name": "Nông nghiệp - số", "name_en": "Digital farming"}
                      ).status_code == 303
    assert staff.post("/activities/topics", data={"name": "Nông nghiệp: số!"}).status_code == 303
    codes = list(db.session.scalars(sa.select(Topic.code).where(Topic.province_id == tree.province.id)
                                    .order_by(Topic.id)))
    assert codes == ["nong_nghiep_so", "nong_nghiep_so_2", "nong_nghiep_so_3"]
    second = db.session.scalar(sa.select(Topic).where(Topic.code == "nong_nghiep_so_2"))
    first = db.session.scalar(sa.select(Topic).where(Topic.code == "nong_nghiep_so"))
    english = parse(browser.get("/activities/classes/new").get_data(as_text=True))  # the crew's leader reads English
    assert english.find(**{"for": f"topics-{second.id}"}).text().strip() == "Digital farming"
    assert english.find(**{"for": f"topics-{first.id}"}).text().strip() == "Nông nghiệp số"  # none in English
    assert browser.post("/language", data={"lang": "vi"}).status_code in (302, 303)
    vietnamese = parse(browser.get("/activities/classes/new").get_data(as_text=True))
    assert vietnamese.find(**{"for": f"topics-{second.id}"}).text().strip() == "Nông nghiệp - số"


def test_a_class_with_no_total_is_asked_for_it_alone_and_a_place_in_another_commune_is_refused(db, tree, crew):
    browser, _leader, team, members = crew
    # The bands and sexes cannot be checked against a total not given: one message, beside the total.
    resp = browser.post("/activities/classes/new", data=class_form(db, team, members, total=""))
    assert resp.status_code == 400
    doc = parse(resp.get_data(as_text=True))
    assert "how many learners came" in doc.find(id="learners_total-error").text()
    assert doc.find(id="ages-error") is None and doc.find(id="learners_male-error") is None
    # A band that is not a number is refused beside itself, and the sum is not checked on top of it.
    resp = browser.post("/activities/classes/new", data=class_form(db, team, members, bands=("4", "mười", "8"),
                                                                   sexes=("x", "13")))
    doc = parse(resp.get_data(as_text=True))
    assert doc.find(id="age_18_59-error") is not None and doc.find(id="ages-error") is None
    assert doc.find(id="learners_female-error") is not None and doc.find(id="learners_male-error") is None
    # The hamlet where the class was held must be one of the commune's.
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, place_hamlet=str(tree.other_hamlet.id)))
    assert resp.status_code == 400
    error = parse(resp.get_data(as_text=True)).find(id="place_hamlet-error")
    assert error is not None and "one of the commune's hamlets" in error.text()
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, place_hamlet=str(tree.hamlet2.id), place_name=""))
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(Class.place_hamlet_id)) == tree.hamlet2.id
    assert _count(db, Class) == 1


def test_a_class_on_the_teams_founding_day_by_the_whole_team_is_saved_and_a_bad_form_key_is_a_400(db, tree, crew):
    from tests.visits_helpers import TEAM_START
    browser, _leader, team, members = crew
    data = class_form(db, team, members, on=TEAM_START, results={"vneid": "0", "e_wallet": "2"})
    data["members"] = [str(m.id) for m in members]
    assert browser.post("/activities/classes/new", data=data).status_code == 303
    assert db.session.scalar(sa.select(Class.held_on)) == TEAM_START
    # A count of 0 is no result: only the service some learners came away with is kept.
    assert {r.service.code: r.learners for r in db.session.scalar(sa.select(Class)).results} == {"e_wallet": 2}
    assert len(db.session.scalar(sa.select(Class)).members) == len(members)
    # A form key that is not one the form makes: refused, nothing saved.
    assert browser.post("/activities/classes/new", data=class_form(db, team, members, key="k")).status_code == 400
    assert _count(db, Class) == 1


def test_the_communes_dossier_total_is_for_a_real_month_up_to_this_one(app, db, tree):
    from app.dates import today_vn
    officer = sign_in_as(app, "commune", tree.commune)[0]
    this_month = today_vn().strftime("%Y-%m")
    assert post_total(officer, {"month": this_month, "dossiers": "25"}).status_code == 303
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers)) == 25
    for month in ("1999-05", "2026-00", "2025-13", "2026-3", "tháng 3"):
        bad = post_total(officer, {"month": month, "dossiers": "25"})
        assert bad.status_code == 400, month
        error = parse(bad.get_data(as_text=True)).find(id="month-error").text()
        assert "Nhập tháng theo dạng tháng/năm, ví dụ 10/2024." in error
    # Next month (in Vietnam) has not begun: its dossiers cannot be counted yet.
    following = (today_vn().replace(day=1) + timedelta(days=31)).strftime("%Y-%m")
    bad = post_total(officer, {"month": following, "dossiers": "25"})
    assert bad.status_code == 400
    assert "Tháng không thể ở tương lai." in parse(bad.get_data(as_text=True)).find(id="month-error").text()
    assert _count(db, CommuneDossierTotal) == 1


def _flash(resp) -> str:
    return " ".join(p.text() for p in parse(resp.get_data(as_text=True)).find_all("p") if "flash" in p.classes())


def test_a_month_total_below_the_dossiers_the_teams_helped_file_is_asked_about_first(app, db, tree, crew):
    """44 dossiers filed online with the teams' help in March, a total of 20 typed: 220 % online. The officer is
    asked beside the number (409), the 20 still in the box; saving the same number again saves it."""
    browser = crew[0]
    assert browser.post("/activities/shifts/new", data=shift_form(crew[2], crew[3], tree.commune,
                                                                   dossiers={"dvc": "44"})).status_code == 303
    officer = sign_in_as(app, "commune", tree.commune)[0]
    asked = post_total(officer, {"month": "2026-03", "dossiers": "20"})
    assert asked.status_code == 409
    page = parse(asked.get_data(as_text=True))
    question = page.find(id="dossiers-error").text()
    assert "03/2026" in question and "44 hồ sơ" in question and "nhiều hơn 20" in question
    assert page.find(id="dossiers").attrs["value"] == "20" and page.find(id="month").attrs["value"] == "2026-03"
    assert _count(db, CommuneDossierTotal) == 0
    # Another number is asked about again; the number asked about, sent again, is saved.
    again = post_total(officer, {"month": "2026-03", "dossiers": "21", "confirm": "20"})
    assert again.status_code == 409 and _count(db, CommuneDossierTotal) == 0
    saved = post_total(officer, {"month": "2026-03", "dossiers": "20", "confirm": "20"},
                         follow_redirects=True)
    assert "Đã ghi nhận số hồ sơ tháng 03/2026." in _flash(saved)
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers)) == 20
    # 44 or more is not asked about: the teams' dossiers are part of the commune's.
    assert post_total(officer, {"month": "2026-03", "dossiers": "44"}).status_code == 303
    # Nor is a month the teams helped with nothing.
    assert post_total(officer, {"month": "2026-02", "dossiers": "3"}).status_code == 303


def test_the_dossier_form_opens_on_the_month_s_total_and_says_which_total_a_new_one_replaced(app, db, tree):
    db.session.add_all([CommuneDossierTotal(commune_id=tree.commune.id, month=202610, dossiers=424),
                        CommuneDossierTotal(commune_id=tree.commune.id, month=202609, dossiers=1350)])
    db.session.commit()
    with time_machine.travel(datetime(2026, 10, 8, 3, tzinfo=UTC), tick=False):
        officer = sign_in_as(app, "commune", tree.commune)[0]
        page = parse(officer.get("/activities/dossiers").get_data(as_text=True))
        assert page.find(id="month").attrs["value"] == "2026-10" and page.find(id="dossiers").attrs["value"] == "424"
        # A month of the table opens on its own total.
        link = [a for a in page.find(id="dossier-months").find_all("a") if a.text() == "09/2026"][0]
        page = parse(officer.get(link.attrs["href"]).get_data(as_text=True))
        assert page.find(id="month").attrs["value"] == "2026-09" and page.find(id="dossiers").attrs["value"] == "1350"
        # A month without a total opens empty; a month to come or a slip opens this month.
        page = parse(officer.get("/activities/dossiers?month=2026-08").get_data(as_text=True))
        assert page.find(id="month").attrs["value"] == "2026-08" and page.find(id="dossiers").attrs.get("value") in (
            None, "")
        for asked in ("2026-11", "2026-13", "x"):
            page = parse(officer.get(f"/activities/dossiers?month={asked}").get_data(as_text=True))
            assert page.find(id="month").attrs["value"] == "2026-10", asked
        # Replacing October's 424 says so, the month as people write it; the same number again says nothing more.
        resp = post_total(officer, {"month": "2026-10", "dossiers": "1.430"},
                            follow_redirects=True)
        assert "Đã ghi nhận số hồ sơ tháng 10/2026: 1.430, thay cho 424." in _flash(resp)
        resp = post_total(officer, {"month": "2026-10", "dossiers": "1430"},
                            follow_redirects=True)
        assert _flash(resp).strip() == "Đã ghi nhận số hồ sơ tháng 10/2026."
        resp = post_total(officer, {"month": "2026-08", "dossiers": "70"}, follow_redirects=True)
        assert _flash(resp).strip() == "Đã ghi nhận số hồ sơ tháng 08/2026."
        # The form is back on the month just saved, with its total, not on this month.
        page = parse(resp.get_data(as_text=True))
        assert page.find(id="month").attrs["value"] == "2026-08" and page.find(id="dossiers").attrs["value"] == "70"


def test_named_learners_stop_at_200_rows_with_a_message_never_a_500_or_a_silent_cut(db, tree, crew):
    from app.activities.forms import LEARNER_ROWS_MAX
    browser, _leader, team, members = crew
    # The form opens with five empty rows; "More rows" adds five at a time up to the most, then says
    # so instead of offering more.
    assert browser.get("/activities/classes/new").get_data(as_text=True).count('name="learners-') == 4 * 5
    data = class_form(db, team, members)
    data.update({f"learners-{i}-name": "" for i in range(5)}, more_learners="1")
    assert browser.post("/activities/classes/new", data=data).get_data(as_text=True).count(
        'name="learners-') == 4 * 10
    data = class_form(db, team, members)
    data.update({f"learners-{i}-name": "" for i in range(LEARNER_ROWS_MAX - 2)}, more_learners="1")
    page = browser.post("/activities/classes/new", data=data).get_data(as_text=True)
    assert page.count('name="learners-') == 4 * LEARNER_ROWS_MAX and 'name="more_learners"' not in page
    assert "At most 200 named learners in one class." in page
    data.update({f"learners-{i}-name": "" for i in range(LEARNER_ROWS_MAX + 30)})
    assert browser.post("/activities/classes/new", data=data).status_code == 200
    # Names posted beyond the most (a replayed or forged form) are refused, not dropped.
    data = class_form(db, team, members, total="300", bands=("0", "300", "0"), sexes=("", ""))
    data.update({f"learners-{i}-name": f"Người học {i}" for i in range(LEARNER_ROWS_MAX + 1)})
    resp = browser.post("/activities/classes/new", data=data)
    assert resp.status_code == 400
    doc = parse(resp.get_data(as_text=True))
    assert "At most 200 named learners in one class." in doc.find(id="learners-error").text()
    # The list of what to correct, above the form, leads to it.
    assert "At most 200 named learners" in doc.find(id="error-summary").find(href="#learners").text()
    assert _count(db, Class) == 0 and _count(db, ClassLearner) == 0


def test_a_leader_corrects_a_shift_and_a_bad_count_is_refused_beside_the_dossiers(db, tree, crew):
    browser, _leader, team, members = crew
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune,
                                                                  dossiers={"dvc": "9"})).status_code == 303
    shift_id = db.session.scalar(sa.select(CentreShift.id))
    form = parse(browser.get(f"/activities/shifts/{shift_id}/edit").get_data(as_text=True))
    assert form.find(id="people_helped").attrs["value"] == "14" and form.find(name="dos-dvc").attrs["value"] == "9"
    data = shift_form(team, members, tree.commune, people="20", dossiers={"dvc": "chín"})
    resp = browser.post(f"/activities/shifts/{shift_id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift_id}/edit", data))
    assert resp.status_code == 400
    doc = parse(resp.get_data(as_text=True))
    link = doc.find(id="error-summary").find(href="#dos-dvc")
    label = next(doc.find_all("label", **{"for": "dos-dvc"})).text()
    assert link is not None and link.text() == f"{label}: Enter a whole number, e.g. 12."
    assert doc.find(id="people_helped").attrs["value"] == "20"  # what was typed comes back
    db.session.expire_all()
    assert db.session.get(CentreShift, shift_id).people_helped == 14
    data = shift_form(team, members, tree.commune, people="20", dossiers={"dvc": "11"})
    assert browser.post(f"/activities/shifts/{shift_id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift_id}/edit", data)).status_code == 303
    db.session.expire_all()
    shift = db.session.get(CentreShift, shift_id)
    assert (shift.people_helped, shift.dossiers_total) == (20, 11)


def test_a_member_sees_the_work_they_logged_or_took_part_in_and_not_the_rest_of_the_team(app, db, tree, crew):
    browser, _leader, team, members = crew
    member_browser, _m = sign_in_as(app, "team_member", tree.commune, team=team, member=members[1])
    with_them, without_them = household(tree.hamlet, "Đặng Văn Lâm"), household(tree.hamlet, "Lý Thị Năm")
    for h, ticked in ((with_them, [members[0].id, members[1].id]), (without_them, [members[0].id])):
        assert browser.post("/visits/new", data=visit_form(h.id, on=date(2026, 3, 14), members=ticked,
                                                           services={"vneid": "guided"})).status_code == 303
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune)).status_code == 303
    assert browser.post("/activities/classes/new", data=class_form(db, team, [members[0]], on=date(2026, 3, 13))
                        ).status_code == 303  # the leader's class without them
    page = parse(member_browser.get("/activities/").get_data(as_text=True))
    items = list(page.find(id="work-list").find_all("li"))
    assert [li.attrs["data-kind"] for li in items] == ["visit"] and "Đặng Văn Lâm" in items[0].text()
    # What they logged themselves is theirs, ticked or not.
    assert member_browser.post("/activities/classes/new", data=class_form(
        db, team, [members[0]], on=date(2026, 3, 10), total="9", bands=("0", "9", "0"), sexes=("", ""))
    ).status_code == 303
    assert member_browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune,
                                                                          on=date(2026, 3, 9))).status_code == 303
    items = list(parse(member_browser.get("/activities/").get_data(as_text=True)).find(id="work-list").find_all("li"))
    assert [li.attrs["data-kind"] for li in items] == ["visit", "class", "shift"]
    assert "9" in items[1].text()


def test_a_result_for_a_service_not_in_the_catalogue_is_refused_and_said_above_the_form(db, tree, crew):
    browser, _leader, team, members = crew
    resp = browser.post("/activities/classes/new", data=class_form(db, team, members, results={"khong_co": "3"}))
    assert resp.status_code == 400
    summary = parse(resp.get_data(as_text=True)).find(id="error-summary")
    assert "“khong_co” is not a service of the catalogue." in summary.text()
    assert _count(db, Class) == 0


def test_a_class_at_its_limits_is_saved_and_a_learner_of_another_commune_refused_beside_the_row(db, tree, crew):
    browser, _leader, team, members = crew
    # Every topic offered, every learner named, all of them with the service working.
    topics = [str(t) for t in db.session.scalars(sa.select(Topic.id).where(Topic.province_id.is_(None),
                                                                            Topic.active.is_(True)))]
    data = class_form(db, team, members, total="2", bands=("0", "2", "0"), sexes=("", ""),
                      results={"vneid": "2"}, learners=[("Lê Văn Tám", "", "", ""), ("Võ Thị Chín", "", "", "")])
    data["topics"] = topics
    assert browser.post("/activities/classes/new", data=data).status_code == 303
    klass = db.session.scalar(sa.select(Class))
    assert (len(klass.learners), len(klass.topics), klass.results[0].learners) == (2, len(topics), 2)
    # A learner's hamlet must be one of the commune's.
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, learners=[("Lê Văn Tám", "", str(tree.other_hamlet.id), "")]))
    assert resp.status_code == 400
    error = parse(resp.get_data(as_text=True)).find(id="learners-0-hamlet-error")
    assert error is not None and "one of the commune's hamlets" in error.text()
    assert _count(db, Class) == 1


def test_a_dossier_total_for_december_or_january_2000_is_a_real_month(app, db, tree):
    officer = sign_in_as(app, "commune", tree.commune)[0]
    for month in ("2025-12", "2000-01"):
        assert post_total(officer, {"month": month, "dossiers": "7"}).status_code == 303, month
    assert _count(db, CommuneDossierTotal) == 2


def test_the_audit_trail_shows_what_a_visit_a_class_and_a_shift_held_in_words_not_ids(app, db, tree, crew):
    """An officer reading the trail sees names where the records hold ids (the team, its members, the
    household, the services and topics), each field under its label, and a month as a month."""
    import re

    from app.visits.models import Service
    browser, _leader, team, members = crew
    h = household(tree.hamlet, "Đặng Văn Lâm")
    assert browser.post("/visits/new", data=visit_form(h.id, on=date(2026, 3, 14), members=[members[0].id],
                                                       services={"vneid": "adopted"})).status_code == 303
    assert browser.post("/activities/classes/new", data=class_form(db, team, members, results={"vneid": "6"})
                        ).status_code == 303
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, dossiers={"dvc": "5"})
                        ).status_code == 303
    officer = sign_in_as(app, "commune", tree.commune)[0]
    assert post_total(officer, {"month": "2026-03", "dossiers": "40"}).status_code == 303
    vneid, dvc = (db.session.scalar(sa.select(Service.name_vi).where(Service.code == c)) for c in ("vneid", "dvc"))

    staff = sign_in_as(app, "province", tree.province)[0]
    doc = parse(staff.get("/audit/").get_data(as_text=True))
    pairs = [(dt.text(), dd.text()) for dl in doc.find_all("dl", **{"class": "changes"})
             for dt, dd in zip(dl.find_all("dt"), dl.find_all("dd"), strict=True)]
    assert pairs
    assert [label for label, _v in pairs if re.fullmatch(r"[a-z0-9_]+", label)] == []  # no field's code shown
    # The visit
    assert ("Hộ gia đình", "Đặng Văn Lâm") in pairs
    assert ("Thành viên tham gia", members[0].full_name) in pairs
    assert ("Dịch vụ", f"{vneid}: Đã sử dụng") in pairs
    # The class
    assert ("Tổ CNSCĐ", team.name) in pairs
    assert ("Thành viên tham gia", f"{members[0].full_name}, {members[1].full_name}") in pairs
    assert ("Học viên sử dụng được dịch vụ sau buổi học", f"{vneid}: 6") in pairs
    topics = dict(pairs)["Nội dung"]
    assert "Cài đặt và sử dụng VNeID" in topics and "Sử dụng điện thoại thông minh" in topics
    assert ("Ngày", "12/03/2026") in pairs
    # The shift
    assert ("Xã", tree.commune.name) in pairs and ("Tổ", team.name) in pairs
    assert ("Hồ sơ", f"{dvc}: 5") in pairs and ("Số người được hỗ trợ", "14") in pairs
    # The commune's dossiers of March
    assert ("Tháng", "03/2026") in pairs and ("Hồ sơ", "40") in pairs
    # A deletion: what the shift held, struck through, and a dash after it.
    shift_id = db.session.scalar(sa.select(CentreShift.id))
    assert browser.post(f"/activities/shifts/{shift_id}/delete").status_code == 303
    deleted = parse(staff.get("/audit/?record_type=shift").get_data(as_text=True)).find_all("li")
    gone = next(li for li in deleted if "Đã xóa" in li.text())
    details = dict((dt.text(), dd.text()) for dt, dd in zip(gone.find_all("dt"), gone.find_all("dd"), strict=True))
    assert details["Số người được hỗ trợ"] == "14 → –" and details["Tổ"] == f"{team.name} → –"
    assert "Ghi chú" not in details  # no note before, none after: nothing to say
    assert "Ghi chú" not in dict(pairs)  # nor when logged without one


def test_a_wide_area_reads_its_newest_visits_by_date_and_nothing_outside_it(app, db, tree, crew, monkeypatch):
    """Past the list's reach (an area holding more visits than it lists) staff read the newest visits by
    their date (scope.wide_visits_query): the same visits the plain query would give, still only the area's."""
    from datetime import timedelta

    from app.activities import views
    browser, _leader, _team, members = crew
    far_team, far_members = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ CNSCĐ Một Ngàn")
    db.session.commit()
    far_leader = sign_in_as(app, "team_leader", tree.other_commune, team=far_team, member=far_members[0])[0]
    near, far = household(tree.hamlet, "Đặng Văn Lâm"), household(tree.other_hamlet, "Lê Thị Xa")
    first = date(2026, 2, 1)
    for i in range(8):  # the district's: 1–8 February; the next district's: 1, 3, … 15 February
        assert browser.post("/visits/new", data=visit_form(near.id, on=first + timedelta(days=i),
                                                           members=[members[0].id], services={"vneid": "guided"})
                            ).status_code == 303
        assert far_leader.post("/visits/new", data=visit_form(far.id, on=first + timedelta(days=2 * i),
                                                              members=[far_members[0].id],
                                                              services={"vneid": "guided"})).status_code == 303
    district = sign_in_as(app, "district", tree.district)[0]
    province = sign_in_as(app, "province", tree.province)[0]
    plain = {who: _work_list(client, "?kind=visit")[0] for who, client in (("district", district),
                                                                            ("province", province))}
    monkeypatch.setattr(views, "LISTED_MAX", 5)
    assert _work_list(district, "?kind=visit")[0] == plain["district"][:5] == [
        ("visit", f"0{d}/02/2026") for d in (8, 7, 6, 5, 4)]
    assert _work_list(province, "?kind=visit")[0] == plain["province"][:5]
    assert [d for _k, d in plain["province"][:5]] == ["15/02/2026", "13/02/2026", "11/02/2026", "09/02/2026",
                                                      "08/02/2026"]


def test_a_record_written_without_its_time_comes_after_its_day_s_others(app, db, tree, crew):
    """A visit put in by hand in SQL without created_at (an old import) sorts after the day's entries
    that have one, on both databases, and does not break the list."""
    browser, _leader, team, members = crew
    h = household(tree.hamlet, "Đặng Văn Lâm")
    on = date(2026, 3, 14)
    assert browser.post("/visits/new", data=visit_form(h.id, on=on, members=[members[0].id],
                                                       services={"vneid": "guided"})).status_code == 303
    assert browser.post("/activities/classes/new", data=class_form(db, team, members, on=on)).status_code == 303
    later = household(tree.hamlet, "Lý Thị Năm")  # logged an hour after the class, for the same day
    assert browser.post("/visits/new", data=visit_form(later.id, on=on, members=[members[0].id],
                                                       services={"vneid": "guided"})).status_code == 303
    db.session.execute(sa.update(Visit).where(Visit.household_id == later.id).values(
        created_at=datetime.now(UTC) + timedelta(hours=1)))
    db.session.commit()
    assert browser.post("/visits/new", data=visit_form(h.id, on=date(2026, 3, 13), members=[members[0].id],
                                                       services={"vneid": "guided"})).status_code == 303
    first_visit = db.session.scalar(sa.select(sa.func.min(Visit.id)))
    db.session.execute(sa.update(Visit).where(Visit.id == first_visit).values(created_at=None))
    db.session.commit()
    listed, page = _work_list(browser)
    # A day's entries newest logged first, whatever their kind; the one without its time last.
    assert listed == [("visit", "Mar 14, 2026"), ("class", "Mar 14, 2026"), ("visit", "Mar 14, 2026"),
                      ("visit", "Mar 13, 2026")]  # the crew's leader reads English
    assert "Lý Thị Năm" in next(page.find(id="work-list").find_all("li")).text()


def test_a_class_keeps_what_it_recorded_after_the_lists_change_and_a_blank_age_band_is_none(db, tree, crew):
    """A blank age band is stored as none; a topic and a service taken off the lists since stay on the class's
    edit form, ticked and filled in (else saving a correction would drop them); a new class dated in a
    closed month is refused beside its date."""
    browser, _leader, team, members = crew
    data = class_form(db, team, members, bands=("", "22", "8"), results={"vneid": "12"})
    assert browser.post("/activities/classes/new", data=data).status_code == 303
    klass = db.session.scalar(sa.select(Class))
    assert (klass.age_15_17, klass.age_18_59, klass.age_60_plus) == (0, 22, 8)
    db.session.execute(sa.update(Service).where(Service.code == "vneid").values(active=False))
    db.session.execute(sa.update(Topic).where(Topic.code == "smartphone").values(active=False))
    db.session.commit()
    assert 'name="res-vneid"' not in browser.get("/activities/classes/new").get_data(as_text=True)
    html = browser.get(f"/activities/classes/{klass.id}/edit").get_data(as_text=True)
    smartphone = db.session.scalar(sa.select(Topic.id).where(Topic.code == "smartphone"))
    box = re.search(rf'<input[^>]*id="topics-{smartphone}"[^>]*>', html)
    assert box is not None and "checked" in box.group(0)
    field = re.search(r'<input[^>]*name="res-vneid"[^>]*>', html)
    assert field is not None and 'value="12"' in field.group(0)

    db.session.add(MonthClosure(province_id=tree.province.id, year=ON.year, month=ON.month, snapshot="{}"))
    db.session.commit()
    resp = browser.post("/activities/classes/new", data=class_form(db, team, members, topics=_topics(db, "vneid")))
    assert resp.status_code == 409
    assert parse(resp.get_data(as_text=True)).find(id="held_on-error") is not None
    assert _count(db, Class) == 1


def test_a_provinces_own_topic_gets_a_code_from_its_name_and_comes_after_the_default_list(db, tree):
    import json

    from app.activities import topics
    from app.audit.models import AuditEvent
    from app.units import operations as unit_ops
    defaults_end = db.session.scalar(sa.select(sa.func.max(Topic.position)).where(Topic.province_id.is_(None)))
    first = topics.add_topic(tree.province.id, "Dùng Zalo an toàn")
    second = topics.add_topic(tree.province.id, "Dùng Zalo an toàn!")  # the same code once folded: numbered
    blank = topics.add_topic(tree.province.id, "???")
    assert (first.code, second.code, blank.code) == ("dung_zalo_an_toan", "dung_zalo_an_toan_2", "topic")
    long_one = topics.add_topic(tree.province.id, "Hướng dẫn người cao tuổi dùng ứng dụng ngân hàng số")
    assert long_one.code == "huong_dan_nguoi_cao_tuoi_dun"  # 28 characters at most, room for a number
    long_one.active = False
    assert [t.position for t in (first, second, blank, long_one)] == [defaults_end + 10 * n for n in (1, 2, 3, 4)]
    # Another province's own list is its own: the same name, the same code, after the default list.
    elsewhere = unit_ops.create_unit("Tỉnh Vĩnh Long", "province", None, "86")
    theirs = topics.add_topic(elsewhere.id, "Dùng Zalo an toàn")
    assert (theirs.code, theirs.position) == ("dung_zalo_an_toan", defaults_end + 10)
    listed = [t.code for t in topics.topics_for(tree.province.id)]
    assert listed[-3:] == ["dung_zalo_an_toan", "dung_zalo_an_toan_2", "topic"] and len(listed) == 9 + 3
    topics.set_topic_active(first, False)
    db.session.commit()
    assert "dung_zalo_an_toan" not in [t.code for t in topics.topics_for(tree.province.id)]
    assert [t.code for t in topics.topics_for(elsewhere.id)][-1] == "dung_zalo_an_toan"
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "topic")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.record_id, e.unit_id) for e in events] == [
        ("create", first.id, tree.province.id), ("create", second.id, tree.province.id),
        ("create", blank.id, tree.province.id), ("create", long_one.id, tree.province.id),
        ("create", theirs.id, elsewhere.id),
        ("update", first.id, tree.province.id)]
    assert json.loads(events[-1].changes)["active"] == {"before": True, "after": False}


def test_a_count_typed_below_zero_is_told_so_beside_its_field(app, db, tree, crew):
    """'-3' is a whole number: the message says it may not be below zero (not "enter a whole number")."""
    browser, _leader, team, members = crew
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="-3",
                                                                 dossiers={"vneid": "−2"}))
    assert resp.status_code == 400 and _count(db, CentreShift) == 0
    page = parse(resp.get_data(as_text=True))
    assert page.find(id="people_helped-error").text() == "The number cannot be below 0."
    assert page.find(id="dos-vneid-error").text() == "The number cannot be below 0."
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="-",
                                                                 dossiers={"vneid": "-x"}))
    page = parse(resp.get_data(as_text=True))
    assert page.find(id="people_helped-error").text() == "Enter a whole number, e.g. 1851."
    assert page.find(id="dos-vneid-error").text() == "Enter a whole number, e.g. 12."


def test_the_largest_class_shift_and_dossier_month_are_saved_and_one_more_is_refused_beside_the_field(
        app, db, tree, crew):
    """A school hall's class of a thousand, a thousand people helped or dossiers in a shift, a ward's million
    dossiers in a month are recorded; one more is a slip of the finger, refused beside its field, nothing saved."""
    browser, _leader, team, members = crew
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, total="1001", bands=("1", "1000", "0"), sexes=("", "")))
    assert resp.status_code == 400
    assert "at most 1,000." in parse(resp.get_data(as_text=True)).find(id="learners_total-error").text()
    assert _count(db, Class) == 0
    resp = browser.post("/activities/classes/new", data=class_form(
        db, team, members, total="1000", bands=("0", "1000", "0"), sexes=("500", "500")))
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(Class.learners_total)) == 1000

    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="1001"))
    assert resp.status_code == 400
    assert "at most 1,000." in parse(resp.get_data(as_text=True)).find(id="people_helped-error").text()
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="1000",
                                                                 dossiers={"vneid": "1001"}))
    assert resp.status_code == 400 and _count(db, CentreShift) == 0
    html = resp.get_data(as_text=True)
    assert parse(html).find(id="dos-vneid-error").text() == "At most 1,000 in one shift."
    assert 'value="1001"' in html  # the slip shown as typed, to mend
    # (A thousand people is asked about first, as a likely slip: the leader confirms it.)
    resp = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="1000",
                                                                 dossiers={"vneid": "1000"}) | {"confirm": "1000"})
    assert resp.status_code == 303
    shift = db.session.scalar(sa.select(CentreShift))
    assert (shift.people_helped, shift.dossiers_total) == (1000, 1000)

    officer = sign_in_as(app, "commune", tree.commune)[0]
    month = ON.strftime("%Y-%m")
    resp = post_total(officer, {"month": month, "dossiers": "1000001"})
    assert resp.status_code == 400 and parse(resp.get_data(as_text=True)).find(id="dossiers-error") is not None
    assert _count(db, CommuneDossierTotal) == 0
    assert post_total(officer, {"month": month, "dossiers": "1000000"}).status_code == 303
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers)) == 1_000_000


def test_a_month_total_ten_times_the_month_before_or_a_tenth_of_it_is_asked_about_first(app, db, tree):
    """245 dossiers in February, 2455 typed for March (a digit typed twice): asked beside the number (409), the
    2455 still in the box; the same number sent again is saved. A tenth of the month before is asked about too."""
    officer = sign_in_as(app, "commune", tree.commune)[0]
    assert post_total(officer, {"month": "2026-02", "dossiers": "245"}).status_code == 303
    asked = post_total(officer, {"month": "2026-03", "dossiers": "2455"})
    assert asked.status_code == 409
    page = parse(asked.get_data(as_text=True))
    question = page.find(id="dossiers-error").text()
    assert "2.455" in question and "02/2026" in question and "245" in question
    assert page.find(id="dossiers").attrs["value"] == "2455" and page.find(id="confirm").attrs["value"] == "2455"
    assert _count(db, CommuneDossierTotal) == 1
    saved = post_total(officer, {"month": "2026-03", "dossiers": "2455", "confirm": "2455"})
    assert saved.status_code == 303
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers).where(CommuneDossierTotal.month == 202603)) == 2455
    # A tenth of the month before (24 for 245) is asked about; an ordinary change is not.
    assert post_total(officer, {"month": "2026-03", "dossiers": "24"}).status_code == 409
    assert post_total(officer, {"month": "2026-03", "dossiers": "260"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers).where(CommuneDossierTotal.month == 202603)) == 260


def test_people_helped_far_above_the_team_s_usual_shift_or_its_dossiers_are_asked_about_once(db, tree, crew):
    """155 typed for 15: asked beside the number (409, the form kept with its key), saved when sent again with the
    same number. With no shift of its own a team is asked above a plain 100; then against its usual shift (the
    median of its others), and whenever the people are ten times the dossiers counted."""
    browser, _leader, team, members = crew
    data = shift_form(team, members, tree.commune, people="155")
    asked = browser.post("/activities/shifts/new", data=data)
    assert asked.status_code == 409 and _count(db, CentreShift) == 0
    page = parse(asked.get_data(as_text=True))
    assert "155 people is a lot for one shift" in page.find(id="people_helped-error").text()
    assert page.find(id="people_helped").attrs["value"] == "155"
    assert page.find(id="key").attrs["value"] == data["key"] and page.find(id="confirm").attrs["value"] == "155"
    assert any(a.attrs.get("href") == "#people_helped" for a in page.find_all(tag="a"))  # in the summary too
    # Another number is asked about again; the one asked about, sent again, is saved.
    assert browser.post("/activities/shifts/new", data=data | {"people_helped": "156", "confirm": "155"}
                        ).status_code == 409
    assert browser.post("/activities/shifts/new", data=data | {"confirm": "155"}).status_code == 303
    assert db.session.scalar(sa.select(CentreShift.people_helped)) == 155
    for people in ("15", "14", "15"):
        assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people=people)
                            ).status_code == 303
    # The usual shift is now 15 (the median of 155, 15, 14, 15, the slip among them left aside).
    asked = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="150"))
    assert asked.status_code == 409
    assert "150 people is far above the team's usual shift, about 15" in parse(asked.get_data(as_text=True)).find(
        id="people_helped-error").text()
    assert browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="40")
                        ).status_code == 303
    # Ten times the online dossiers counted: asked about, though near the team's usual.
    asked = browser.post("/activities/shifts/new", data=shift_form(team, members, tree.commune, people="60",
                                                                   dossiers={"dvc": "5"}))
    assert asked.status_code == 409
    assert "60 people helped, but only 5 dossiers" in parse(asked.get_data(as_text=True)).find(
        id="people_helped-error").text()
    assert _count(db, CentreShift) == 5
    # Corrected, a shift keeping its number is saved; one given a slip is asked about.
    shift_id = db.session.scalar(sa.select(CentreShift.id).where(CentreShift.people_helped == 155))
    kept = shift_form(team, members, tree.commune, people="155") | {"note": "Đông người"}
    assert browser.post(f"/activities/shifts/{shift_id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift_id}/edit", kept)).status_code == 303
    slip = shift_form(team, members, tree.commune, people="160")
    assert browser.post(f"/activities/shifts/{shift_id}/edit", data=with_version(
        browser, f"/activities/shifts/{shift_id}/edit", slip)).status_code == 409
    db.session.expire_all()
    assert db.session.get(CentreShift, shift_id).people_helped == 155


def test_the_age_bands_sum_is_said_below_all_three_boxes_and_the_summary_leads_to_the_first(db, tree, crew):
    """A typo in “18–59” (225 for 22): the sum's message is not the last box's alone. It shows below the three
    boxes, each marked and pointing to it, and the summary above links to the first of them."""
    browser, _leader, team, members = crew
    crew[1].locale = "vi"
    db.session.commit()
    resp = browser.post("/activities/classes/new", data=class_form(db, team, members, total="30",
                                                                   bands=("0", "225", "8")))
    assert resp.status_code == 400 and _count(db, Class) == 0
    doc = parse(resp.get_data(as_text=True))
    error = doc.find(id="ages-error")
    assert "Các nhóm tuổi cộng lại được 233" in error.text()
    assert all(doc.find(id=f"{band}-error") is None for band in ("age_15_17", "age_18_59", "age_60_plus"))
    assert error.parent.attrs["id"] == "counts"  # in the learners' group, after the row of the three boxes
    for band in ("age_15_17", "age_18_59", "age_60_plus"):
        box = doc.find(id=band)
        assert box.attrs["aria-describedby"] == "ages-error" and box.attrs["aria-invalid"] == "true"
    link = doc.find(id="error-summary").find(href="#age_15_17")
    assert link is not None and "Các nhóm tuổi cộng lại được 233" in link.text()
    assert doc.find(id="error-summary").find(href="#age_60_plus") is None
    assert doc.find(id="age_18_59").attrs["value"] == "225"  # what was typed comes back, to mend


def test_a_leader_s_menu_names_the_shift_form_as_the_form_does_and_the_visits_list_as_visits(app, db, tree):
    """One name for the shift ("Ghi ca trực": the link, the form's title, the button on the activities page), and
    the link to the visits list says it holds guidance visits, not everything logged."""
    team, members = make_team(tree.commune, [tree.hamlet])
    db.session.commit()
    browser = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])[0]
    header = parse(browser.get("/activities/").get_data(as_text=True)).find(tag="header")
    links = {a.attrs.get("href"): " ".join(a.text().split()) for a in header.find_all("a")}
    assert links["/activities/shifts/new"] == "Ghi ca trực"
    assert links["/visits/"] == "Lượt hướng dẫn đã ghi"
    form = parse(browser.get("/activities/shifts/new").get_data(as_text=True))
    assert " ".join(form.find(tag="h1").text().split()) == "Ghi ca trực"
    assert "Ghi ca hỗ trợ" not in browser.get("/activities/").get_data(as_text=True)
