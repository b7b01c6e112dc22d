"""The messages a leader or an officer pastes into a Zalo group: a team's month, a unit's summary.

Each is read from the page as the user copies it (the text of its box), and checked figure by figure
against the records the test made."""
import uuid
from datetime import UTC, date, datetime

import time_machine

from app.activities.models import CentreShift, Class, ShiftDossier
from app.coverage import activity_months, named_learners
from app.coverage.team_month import TeamMonth, team_month
from app.extensions import db
from app.units import operations as unit_ops
from tests.html_tree import parse
from tests.report_data import Activity, visit
from tests.visits_helpers import sign_in_as


def _message(html: str, box: str) -> str:
    area = parse(html).find(id=f"{box}-text")
    assert area is not None, "no message box on the page"
    return area.text().strip("\n")


def _class(team, commune, on, learners):
    klass = Class(key=uuid.uuid4().hex, commune_id=commune.id, held_on=on, place_name="Nhà văn hóa ấp",
                  learners_total=learners, age_15_17=0, age_18_59=learners, age_60_plus=0)
    klass.teams.append(team)
    db.session.add(klass)
    db.session.flush()
    named_learners.ClassChange().done(klass)  # as the class operations do
    activity_months.ClassChange().done(klass)


def _shift(team, commune, on, people, dossiers=()):
    shift = CentreShift(key=uuid.uuid4().hex, commune_id=commune.id, team_id=team.id, held_on=on,
                        people_helped=people)
    db.session.add(shift)
    db.session.flush()
    for service, n in dossiers:
        db.session.add(ShiftDossier(shift_id=shift.id, service_id=service.id, dossiers=n))
    db.session.flush()
    db.session.refresh(shift)
    activity_months.ShiftChange().done(shift)  # as the shift operations do


def _october_with_classes_and_shifts(tree):
    """The report world's October 2024, and around it what must not count in the team's October."""
    activity = Activity(tree)
    team, other = activity.team, activity.other_team
    h1 = activity.households["h1"]
    # Hộ Một again in October: one more visit, not one more household; its e-wallet counted once.
    visit(h1, date(2024, 10, 20), team, {activity.wallet: "adopted", activity.vneid: "guided"})
    _class(team, tree.commune, date(2024, 10, 12), 40)
    _class(team, tree.commune, date(2024, 11, 2), 25)  # November
    _class(other, tree.other_commune, date(2024, 10, 12), 30)  # another team
    _shift(team, tree.commune, date(2024, 10, 31), 12, [(activity.wallet, 5), (activity.vneid, 2)])
    _shift(team, tree.commune, date(2024, 9, 30), 9, [(activity.wallet, 4)])  # September
    _shift(other, tree.other_commune, date(2024, 10, 20), 7)
    db.session.commit()
    return activity


def test_a_leader_copies_the_team_october_for_the_group(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    resp = browser.get("/coverage/team?month=2024-10")
    assert resp.status_code == 200
    assert _message(resp.get_data(as_text=True), "team-message") == "\n".join([
        f"{activity.team.name}, tháng 10/2024:",
        # Hộ Một twice, Hộ Hai, Hộ Bốn (31 Oct); not Hộ Ba (20 Sep) nor Hộ Hai's November visit.
        "- 4 lượt hướng dẫn tại 3 hộ",
        "- Số hộ bắt đầu sử dụng dịch vụ:",
        "  + Ví điện tử / Mobile Money: 2 hộ",  # Hộ Một and Hộ Bốn; Hộ Ba's was September's
        "  + Định danh điện tử VNeID mức 2: 1 hộ",  # Hộ Bốn; Hộ Hai's came in November
        "- 1 buổi học, 40 người học",
        "- 1 ca trực tại Trung tâm phục vụ hành chính công, hỗ trợ 12 người, 7 hồ sơ nộp trực tuyến",
        # Khu vực 1 and 2: 320 + 410 households; reached by the end of October: Hộ Một, Hai, Ba, Bốn.
        "Các ấp của tổ đến cuối tháng: 730 hộ, đã tiếp cận 4 hộ (0,5%).",
    ])


def test_in_the_month_in_progress_the_page_and_the_message_count_up_to_today_not_the_month_s_end(app, db, tree):
    """On 15 October 2024 October has not ended: its figures are as of today, said so on the page and in the
    message for the group; a month that is over is still counted to its end."""
    activity = _october_with_classes_and_shifts(tree)
    with time_machine.travel(datetime(2024, 10, 15, 3, tzinfo=UTC), tick=False):
        browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
        html = browser.get("/coverage/team").get_data(as_text=True)
        assert "tháng 10/2024, tính đến hôm nay (15/10/2024)" in html and "cuối tháng" not in html
        message = _message(html, "team-message").splitlines()
        assert message[0] == f"{activity.team.name}, tháng 10/2024:"
        assert message[-1].startswith("Các ấp của tổ đến hôm nay (15/10/2024): 730 hộ")
        html = browser.get("/coverage/team?month=2024-09").get_data(as_text=True)
        assert "tính đến cuối tháng 09/2024" in html and "hôm nay" not in html
        assert _message(html, "team-message").splitlines()[-1].startswith("Các ấp của tổ đến cuối tháng: 730 hộ")


def test_the_other_commune_member_gets_their_own_team_month_only(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    browser, _user = sign_in_as(app, "team_member", tree.other_commune, activity.other_team)
    message = _message(browser.get("/coverage/team?month=2024-10").get_data(as_text=True), "team-message")
    assert message.splitlines() == [
        f"{activity.other_team.name}, tháng 10/2024:",
        "- 1 lượt hướng dẫn tại 1 hộ",
        "- Số hộ bắt đầu sử dụng dịch vụ:",
        "  + Ví điện tử / Mobile Money: 1 hộ",
        "- 1 buổi học, 30 người học",
        "- 1 ca trực tại Trung tâm phục vụ hành chính công, hỗ trợ 7 người",  # no dossier recorded
        "Các ấp của tổ đến cuối tháng: 530 hộ, đã tiếp cận 1 hộ (0,2%).",
    ]


def test_a_month_without_work_says_so_and_the_team_name_stays_text(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    activity.team.name = "Tổ <b>Khu vực 1</b> & 2"
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = browser.get("/coverage/team?month=2024-08").get_data(as_text=True)
    # That line alone: no count of nothing, no heading over an empty list.
    assert _message(html, "team-message").splitlines() == [
        "Tổ <b>Khu vực 1</b> & 2, tháng 08/2024:", "- Chưa ghi lượt hướng dẫn, buổi học hay ca trực nào.",
        "Các ấp của tổ đến cuối tháng: 730 hộ, đã tiếp cận 0 hộ (0,0%)."]
    assert "&lt;b&gt;Khu vực 1&lt;/b&gt; &amp; 2, tháng 08/2024" in html
    assert "<b>Khu vực 1" not in html


def test_a_commune_officer_copies_the_monthly_summary(app, db, tree, login_as, client):
    _october_with_classes_and_shifts(tree)
    login_as("commune", tree.commune)
    resp = client.get(f"/reports/{tree.commune.id}/monthly?month=2024-10")
    assert resp.status_code == 200
    lines = _message(resp.get_data(as_text=True), "summary-message").splitlines()
    assert lines[0] == f"Báo cáo tháng: {tree.commune.name} (10/2024)"
    assert "- Lượt hướng dẫn trong tháng: 4" in lines
    assert "- Số hộ được hướng dẫn trong tháng: 3" in lines
    assert "- Số tổ hoạt động trong tháng: 1/1" in lines
    assert "- Lượt người học trong tháng: 40" in lines
    assert "- Hồ sơ trực tuyến được hỗ trợ trong tháng: 7" in lines
    assert "- Tỷ lệ tiếp cận: 4/730 hộ (0,5%)" in lines
    coverage = lines[lines.index("Tỷ lệ bao phủ đến cuối tháng:") + 1:]
    assert coverage == [
        # Hộ Ba (September), Hộ Một and Hộ Bốn of 730: 0,41 %; two of them new in October.
        "+ Ví điện tử / Mobile Money: 0,4% (chỉ tiêu 50%), thêm 2 hộ",
        "+ Định danh điện tử VNeID mức 2: 0,1%, thêm 1 hộ",  # no target set for it
    ]


def test_the_quarter_message_adds_up_its_months(app, db, tree, login_as, client):
    _october_with_classes_and_shifts(tree)
    login_as("commune", tree.commune)
    html = client.get(f"/reports/{tree.commune.id}/quarterly?quarter=2024-Q4").get_data(as_text=True)
    lines = _message(html, "summary-message").splitlines()
    assert lines[0] == f"Báo cáo quý: {tree.commune.name} (Quý IV/2024)"
    # October's four and Hộ Hai's November visit; Hộ Một, Hai and Bốn once each.
    assert "- Lượt hướng dẫn trong quý: 5" in lines
    assert "- Số hộ được hướng dẫn trong quý: 3" in lines
    assert "- Lượt người học trong quý: 65" in lines  # 40 in October, 25 in November
    assert "+ Định danh điện tử VNeID mức 2: 0,3%, thêm 2 hộ" in lines  # Hộ Bốn, then Hộ Hai



def test_november_has_visits_and_a_class_but_no_shift(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    message = _message(browser.get("/coverage/team?month=2024-11").get_data(as_text=True), "team-message")
    assert message.splitlines() == [
        f"{activity.team.name}, tháng 11/2024:",
        "- 1 lượt hướng dẫn tại 1 hộ",
        "- Số hộ bắt đầu sử dụng dịch vụ:",
        "  + Định danh điện tử VNeID mức 2: 1 hộ",  # Hộ Hai, 1 November
        "- 1 buổi học, 25 người học",
        "Các ấp của tổ đến cuối tháng: 730 hộ, đã tiếp cận 4 hộ (0,5%).",
    ]


def test_a_month_of_a_class_alone_or_a_shift_alone_is_a_month_of_work(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    _class(activity.team, tree.commune, date(2024, 12, 5), 18)
    _shift(activity.team, tree.commune, date(2025, 1, 9), 6)
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    for month, work in (("2024-12", "- 1 buổi học, 18 người học"),
                        ("2025-01", "- 1 ca trực tại Trung tâm phục vụ hành chính công, hỗ trợ 6 người")):
        page = browser.get(f"/coverage/team?month={month}").get_data(as_text=True)
        lines = _message(page, "team-message").splitlines()
        assert lines[1] == work and not any("Chưa ghi" in line for line in lines), (month, lines)


def test_a_hamlet_not_yet_counted_gives_no_reach(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    # The team now serves a new hamlet whose household count the commune has not entered.
    activity.team.hamlets[:] = [unit_ops.create_unit("Khu vực 3", "hamlet", tree.commune)]
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = browser.get("/coverage/team?month=2024-10").get_data(as_text=True)
    assert "Khu vực 3 · 0 hộ" in html  # listed hamlet by hamlet, though it counts none yet
    message = _message(html, "team-message")
    assert message.splitlines()[1] == "- 4 lượt hướng dẫn tại 3 hộ"
    assert "Các ấp của tổ" not in message and " 0 hộ" not in message


def test_a_month_without_work_counts_nothing(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    assert team_month(activity.team.id, 2024, 8) == TeamMonth(
        visits=0, households=0, adopted={}, classes=0, learners=0, shifts=0, people_helped=0, dossiers_online=0)


def test_a_month_without_classes_says_none_came(app, db, tree, login_as, client):
    _october_with_classes_and_shifts(tree)
    login_as("commune", tree.commune)
    html = client.get(f"/reports/{tree.commune.id}/monthly?month=2024-09").get_data(as_text=True)
    lines = _message(html, "summary-message").splitlines()
    assert "- Lượt hướng dẫn trong tháng: 1" in lines  # Hộ Ba, 20 September
    assert "- Lượt người học trong tháng: 0" in lines
    assert "- Hồ sơ trực tuyến được hỗ trợ trong tháng: 4" in lines  # the shift of 30 September


def test_in_english_a_count_of_one_is_singular(app, db, tree):
    activity = _october_with_classes_and_shifts(tree)
    browser, _user = sign_in_as(app, "team_member", tree.other_commune, activity.other_team)
    browser.post("/language", data={"lang": "en"})
    message = _message(browser.get("/coverage/team?month=2024-10").get_data(as_text=True), "team-message")
    assert message.splitlines()[1:] == [
        "- 1 visit to 1 household",
        "- Households that began using a service:",
        "  + E-wallet / Mobile Money: 1 hh",
        "- 1 class, 30 learners",
        "- 1 shift at the one-stop centre, 7 people helped",
        "The team's hamlets at the month's end: 530 households, 1 reached (0.2%).",
    ]
