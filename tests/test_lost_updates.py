"""Two people editing the same record: the second save over a change made since its form was opened answers 409
with the form as typed and what the record holds now; sent again, it saves (app/versions.py)."""
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.dates import today_vn
from app.households.models import Household
from app.teams.models import Member, Team
from app.units import operations as unit_ops
from app.visits.models import Service, Target, Visit
from tests.form_versions import version_on, with_version
from tests.html_tree import parse
from tests.visits_helpers import form, household, sign_in_as

NOTICE = "Người khác đã sửa mục này sau khi bạn mở biểu mẫu. Chưa có gì được lưu."


def _notice(resp) -> str:
    """The notice's text, a space between its elements' (a label, what it is now, what was typed). How it says to
    keep the other's change is checked against the page: a Cancel (Hủy) it names is one of the page's links or
    buttons; a page without one is left without saving."""
    page = parse(resp.get_data(as_text=True))
    box = page.find(id="changed-meanwhile")
    assert box is not None, "no notice of the change made meanwhile"
    text = " ".join(" ".join(_texts(box)).split())
    controls = {e.text().strip() for e in page.iter() if e.tag in ("a", "button")}
    if "Hủy" in controls:
        assert text.endswith("muốn giữ thay đổi đó, bấm Hủy."), text
    else:
        assert text.endswith("muốn giữ thay đổi đó, hãy rời trang này mà không lưu."), text
    return text


def _texts(element):
    for child in element.children:
        yield from ([child] if isinstance(child, str) else _texts(child))


def _value(resp, name: str) -> str:
    return parse(resp.get_data(as_text=True)).find(tag="input", name=name).attrs.get("value", "")


def _name(db, unit_id: int) -> str:
    from app.units.models import AdminUnit
    db.session.expire_all()
    return db.session.get(AdminUnit, unit_id).name


def _sign_in(app, role, unit, team=None, member=None, name=None):
    return sign_in_as(app, role, unit, team, member, username=name)


def test_a_household_saved_over_another_officer_s_change_answers_409_and_keeps_what_was_typed(app, db, tree):
    h = household(tree.hamlet, "Trần Văn Tư", "Số 4")
    url = f"/households/{h.id}/edit"
    a, _a = _sign_in(app, "commune", tree.commune, name="canbo-xa")
    b, b_user = _sign_in(app, "commune", tree.commune, name="canbo-hai")
    opened = version_on(a, url)  # A opens the form, then B opens it, changes the phone and saves
    assert b.post(url, data=with_version(b, url, {"head_name": "Trần Văn Tư", "address": "Số 4",
                                                  "phone": "0912 345 678"})).status_code == 303
    typed = {"head_name": "Trần Văn Tư", "address": "Số 6 đường Lê Lợi", "phone": "", "size": "5",
             "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert NOTICE in notice and f"{b_user.full_name} đã sửa lúc" in notice
    # Field by field, what B changed: the phone, written as the pages write it. The address, which A alone changed,
    # is A's to save, not a difference; the name, the same, is not listed either.
    assert "Số điện thoại (không bắt buộc) Hiện tại: 0912 345 678 Bạn nhập: (trống)" in notice
    assert "Số nhà hoặc địa chỉ nhận biết" not in notice and "Số 6 đường Lê Lợi" not in notice
    assert "Chủ hộ" not in notice
    assert _value(resp, "address") == "Số 6 đường Lê Lợi" and _value(resp, "size") == "5"
    db.session.expire_all()
    assert (db.session.get(Household, h.id).address, db.session.get(Household, h.id).phone) == ("Số 4", "0912345678")
    # Seen, and sent again as it stands (the form now carries the new version): A's entries are saved.
    again = a.post(url, data={**typed, "version": _value(resp, "version")})
    assert again.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Household, h.id)
    assert (saved.address, saved.phone, saved.size) == ("Số 6 đường Lê Lợi", "", 5)


def test_a_save_that_keeps_all_the_other_s_changes_saves_without_a_question(app, db, tree):
    # B changed the phone; A, who also typed that number, changed the address: nothing of B's is lost by saving.
    h = household(tree.hamlet, "Trần Văn Tư", "Số 4")
    url = f"/households/{h.id}/edit"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, _b = _sign_in(app, "commune", tree.commune)
    opened = version_on(a, url)
    assert b.post(url, data=with_version(b, url, {"head_name": "Trần Văn Tư", "address": "Số 4",
                                                  "phone": "0912345678"})).status_code == 303
    resp = a.post(url, data={"head_name": "Trần Văn Tư", "address": "Số 6", "phone": "0912 345 678",
                             "version": opened})
    assert resp.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Household, h.id)
    assert (saved.address, saved.phone) == ("Số 6", "0912345678")


@pytest.mark.parametrize("version", [None, "", "x", "0" * 32 + ".abc", "🙂" * 40, "1." + "9" * 40])
def test_a_missing_or_tampered_version_is_a_change_made_meanwhile_not_an_error(app, db, tree, version):
    h = household(tree.hamlet, "Trần Văn Tư", "Số 4")
    a, _a = _sign_in(app, "commune", tree.commune)
    data = {"head_name": "Trần Văn Tư", "address": "Số 8"}
    if version is not None:
        data["version"] = version
    resp = a.post(f"/households/{h.id}/edit", data=data)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert NOTICE in notice and "đã sửa lúc" not in notice  # who changed it is not known
    assert _value(resp, "address") == "Số 8"
    assert a.post(f"/households/{h.id}/edit", data={**data, "version": _value(resp, "version")}).status_code == 303


def test_the_same_form_sent_twice_saves_without_a_question(app, db, tree):
    # A double tap: the second finds the record changed by the first, to exactly what it says, so nothing is lost.
    h = household(tree.hamlet, "Trần Văn Tư", "Số 4")
    a, _a = _sign_in(app, "commune", tree.commune)
    data = with_version(a, f"/households/{h.id}/edit", {"head_name": "Trần Văn Tư", "address": "Số 8"})
    assert a.post(f"/households/{h.id}/edit", data=data).status_code == 303
    assert a.post(f"/households/{h.id}/edit", data=data).status_code == 303


def test_a_team_saved_over_another_s_change_answers_409_with_the_hamlets_now(app, db, tree):
    from app.teams import operations as team_ops
    team = team_ops.create_team(tree.commune, "Tổ CNSCĐ Khu vực 1", "125/QĐ-UBND", date(2022, 3, 15), [tree.hamlet])
    db.session.commit()
    url = f"/teams/{team.id}/edit"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, b_user = _sign_in(app, "commune", tree.commune)
    base = {"name": "Tổ CNSCĐ Khu vực 1", "decision_number": "125/QĐ-UBND", "decision_date": "2022-03-15",
            "founded_on": "2022-03-15"}
    opened = version_on(a, url)
    assert b.post(url, data=with_version(b, url, {**base, "hamlets": [tree.hamlet.id, tree.hamlet2.id]})
                  ).status_code == 302
    typed = {**base, "decision_number": "130/QĐ-UBND", "hamlets": [tree.hamlet.id], "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice
    assert "Hiện tại: Khu vực 1, Khu vực 2 Bạn nhập: Khu vực 1" in notice
    assert "130/QĐ-UBND" not in notice  # A's own change, which B did not touch: not a difference to look at
    assert _value(resp, "decision_number") == "130/QĐ-UBND"
    db.session.expire_all()
    assert len(db.session.get(Team, team.id).hamlets) == 2
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Team, team.id)
    assert ([h.id for h in saved.hamlets], saved.decision_number) == ([tree.hamlet.id], "130/QĐ-UBND")


@pytest.mark.parametrize("inline", [False, True])
def test_a_member_saved_over_another_s_change_answers_409_on_the_page_and_in_the_row(app, db, tree, inline):
    from tests.test_teams import make_member, make_team
    team = make_team(tree)
    m = make_member(team, "Nguyễn Văn An", "0912345678", role="leader")
    url = f"/teams/members/{m.id}/edit"
    p = f"edit-{m.id}-"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, b_user = _sign_in(app, "commune", tree.commune)
    fields = {p + "full_name": "Nguyễn Văn An", p + "phone": "0912 345 678", p + "gender": "male",
              p + "birth_year": "1990", p + "role": "leader", p + "affiliation": "youth_union",
              p + "joined_on": "2022-04-01"}
    opened = version_on(a, url, p + "version")
    assert b.post(url, data=with_version(b, url, {**fields, p + "birth_year": "1991"}, p + "version")
                  ).status_code == 302
    typed = {**fields, p + "phone": "0987 654 321", p + "version": opened}
    headers = {"HX-Request": "true"} if inline else {}
    resp = a.post(url, data=typed, headers=headers)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice
    assert "Năm sinh Hiện tại: 1991 Bạn nhập: 1990" in notice
    assert "0987 654 321" not in notice  # A's own change
    assert _value(resp, p + "phone") == "0987 654 321"
    if inline:
        assert resp.get_data(as_text=True).lstrip().startswith('<li class="member editing"')
    again = a.post(url, data={**typed, p + "version": _value(resp, p + "version")}, headers=headers)
    assert again.status_code in (200, 302)
    db.session.expire_all()
    saved = db.session.get(Member, m.id)
    assert (saved.phone, saved.birth_year) == ("0987654321", 1990)


def test_a_visit_saved_over_another_s_change_answers_409_with_the_services_now(app, db, tree, team):
    leader, _l = _sign_in(app, "team_leader", tree.commune, team[0], team[1][0])
    officer, officer_user = _sign_in(app, "commune", tree.commune)
    h = household(tree.hamlet)
    members = [team[1][0].id]
    made = leader.post("/visits/new", data=form(h.id, on=date(2024, 6, 1), members=members,
                                                services={"dvc": "guided"}))
    assert made.status_code == 303
    visit_id = int(made.headers["Location"].rsplit("/", 1)[1])
    url = f"/visits/{visit_id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, form(
        h.id, on=date(2024, 6, 1), members=members, services={"dvc": "adopted"}, note="Đã nộp hồ sơ"))
    ).status_code == 303
    typed = form(h.id, on=date(2024, 6, 2), members=members, services={"dvc": "guided", "vneid": "guided"},
                 version=opened)
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{officer_user.full_name} đã sửa lúc" in notice
    assert "02/06/2024" not in notice  # A's own change of the date
    assert "Hiện tại: Đã nộp hồ sơ Bạn nhập: (trống)" in notice
    assert "dịch vụ công trực tuyến Hiện tại: Đã sử dụng Bạn nhập: Đã hướng dẫn" in notice  # the service's result
    assert "VNeID" not in notice  # the leader's own VNeID, which the officer did not touch: not a difference
    page = parse(resp.get_data(as_text=True))
    assert page.find(tag="input", name="visited_on").attrs["value"] == "2024-06-02"
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).note == "Đã nộp hồ sơ"
    again = leader.post(url, data={**typed, "version": _value(resp, "version")})
    assert again.status_code == 303
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert (visit.visited_on, visit.note, len(visit.services)) == (date(2024, 6, 2), "", 2)


@pytest.mark.parametrize("figure, field, saved", [("households", "count", "households"),
                                                  ("adults", "adults", "adults")])
def test_a_hamlet_count_saved_over_another_s_answers_409_with_the_count_now(app, db, tree, figure, field, saved):
    url = f"/units/{tree.hamlet.id}"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, b_user = _sign_in(app, "commune", tree.commune)
    today = today_vn().isoformat()
    name = f"{field}-{saved}"
    opened = version_on(a, url, f"{field}-version")
    assert b.post(f"{url}/{figure}", data=with_version(b, url, {name: "330", f"{field}-effective_on": today},
                                                      f"{field}-version")).status_code == 302
    typed = {name: "325", f"{field}-effective_on": today, f"{field}-version": opened}
    resp = a.post(f"{url}/{figure}", data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice and "Hiện tại: 330 Bạn nhập: 325" in notice
    assert _value(resp, name) == "325"
    assert unit_ops.figure_on(tree.hamlet.id, today_vn(), saved) == 330
    assert a.post(f"{url}/{figure}", data={**typed, f"{field}-version": _value(resp, f"{field}-version")}
                  ).status_code == 302
    assert unit_ops.figure_on(tree.hamlet.id, today_vn(), saved) == 325


def test_the_forms_versions_are_only_on_pages_in_the_user_s_unit(app, db, tree):
    # The version names nothing of the record, and its pages stay scoped like the rest.
    h = household(tree.other_hamlet, "Lê Văn Ba")
    outsider, _o = _sign_in(app, "commune", tree.commune)
    assert outsider.get(f"/households/{h.id}/edit").status_code == 404
    assert outsider.post(f"/households/{h.id}/edit", data={"head_name": "X", "version": "x"}).status_code == 404
    assert outsider.post(f"/units/{tree.other_hamlet.id}/households",
                         data={"count-households": "5", "count-effective_on": "2025-01-01"}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(sa.select(Household.head_name).where(Household.id == h.id)) == "Lê Văn Ba"


def test_a_class_and_a_shift_saved_over_another_s_change_answer_409_with_the_figures_now(app, db, tree, team):
    from app.activities.models import CentreShift, Class
    from tests.test_activities import class_form, shift_form
    team_, members = team
    leader, _l = _sign_in(app, "team_leader", tree.commune, team_, members[0])
    officer, officer_user = _sign_in(app, "commune", tree.commune)
    made = leader.post("/activities/classes/new", data=class_form(db, team_, members, results={"vneid": "10"}))
    assert made.status_code == 303, made.get_data(as_text=True)[:500]
    class_id = db.session.scalar(sa.select(sa.func.max(Class.id)))
    url = f"/activities/classes/{class_id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, class_form(
        db, team_, members, key=db.session.get(Class, class_id).key, results={"vneid": "12"}))).status_code == 303
    typed = class_form(db, team_, members, key=db.session.get(Class, class_id).key, results={"vneid": "10"},
                       place_name="Trường tiểu học", version=opened)
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{officer_user.full_name} đã sửa lúc" in notice and "VNeID mức 2 Hiện tại: 12 Bạn nhập: 10" in notice
    assert "Trường tiểu học" not in notice  # A's own change
    assert _value(resp, "place_name") == "Trường tiểu học"
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Class, class_id).place_name == "Trường tiểu học"

    made = leader.post("/activities/shifts/new", data=shift_form(team_, members, tree.commune, dossiers={"dvc": "9"}))
    assert made.status_code == 303, made.get_data(as_text=True)[:500]
    shift = db.session.scalar(sa.select(CentreShift).order_by(CentreShift.id.desc()).limit(1))
    url = f"/activities/shifts/{shift.id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, shift_form(
        team_, members, tree.commune, key=shift.key, people="15", dossiers={"dvc": "9"}))).status_code == 303
    typed = shift_form(team_, members, tree.commune, key=shift.key, people="14", dossiers={"dvc": "11"})
    resp = leader.post(url, data={**typed, "version": opened})
    assert resp.status_code == 409
    notice = _notice(resp)
    # The officer changed the people helped, the leader the dossiers: only the officer's change is listed.
    assert "Hiện tại: 15 Bạn nhập: 14" in notice and "Bạn nhập: 11" not in notice
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert db.session.get(CentreShift, shift.id).people_helped == 14


def test_a_hamlet_renamed_over_another_s_rename_answers_409_with_the_name_now(app, db, tree):
    url = f"/units/{tree.hamlet.id}/rename"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, b_user = _sign_in(app, "commune", tree.commune)
    opened = version_on(a, url)
    assert b.post(url, data=with_version(b, url, {"name": "Khu vực Một"})).status_code == 302
    typed = {"name": "Khu vực số 1", "effective_on": "", "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice and "Tên Hiện tại: Khu vực Một Bạn nhập: Khu vực số 1" in notice
    assert _value(resp, "name") == "Khu vực số 1"
    assert _name(db, tree.hamlet.id) == "Khu vực Một"
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 302
    assert _name(db, tree.hamlet.id) == "Khu vực số 1"
    # Another commune's hamlet: not found, its name untouched, whatever version is sent.
    assert a.get(f"/units/{tree.other_hamlet.id}/rename").status_code == 404
    assert a.post(f"/units/{tree.other_hamlet.id}/rename", data={"name": "X", "version": opened}).status_code == 404


def test_a_service_saved_over_another_s_change_answers_409_with_the_service_and_target_now(app, db, tree):
    from tests.report_data import Activity
    wallet = Activity(tree).wallet  # 50% by 31/12/2025
    url = f"/services/{wallet.id}/edit"
    a, _a = _sign_in(app, "province", tree.province)
    b, b_user = _sign_in(app, "province", tree.province)
    base = {"name_vi": wallet.name_vi, "name_en": wallet.name_en, "active": "y", "share": "50", "due_on": "2025-12-31"}
    opened = version_on(a, url)
    milestone = _value(a.get(url), "milestone")
    assert b.post(url, data=with_version(b, url, {**base, "milestone": milestone, "share": "60", "active": ""})
                  ).status_code == 303
    typed = {**base, "milestone": milestone, "name_en": "E-wallet (Mobile Money)", "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    # B's changes, the share as a percentage and the box as yes or no; A's own change of the English name is not one.
    assert f"{b_user.full_name} đã sửa lúc" in notice
    assert "Hiện tại: 60% Bạn nhập: 50%" in notice and "Hiện tại: Không Bạn nhập: Có" in notice
    assert "Mobile Money" not in notice
    assert _value(resp, "name_en") == "E-wallet (Mobile Money)"
    db.session.expire_all()
    assert db.session.get(Service, wallet.id).active is False
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Service, wallet.id)
    assert (saved.name_en, saved.active) == ("E-wallet (Mobile Money)", True)
    assert db.session.scalar(sa.select(Target.share).where(Target.service_id == wallet.id)) == Decimal("0.5")
    # Only province staff keep the catalogue: a commune officer's save of it is refused, whatever version it sends.
    other, _o = _sign_in(app, "commune", tree.commune)
    assert other.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 403


def test_a_month_s_dossier_total_saved_over_another_s_answers_409_with_the_total_now(app, db, tree):
    month = today_vn().strftime("%Y-%m")
    url = f"/activities/dossiers?month={month}"
    a, _a = _sign_in(app, "commune", tree.commune)
    b, b_user = _sign_in(app, "commune", tree.commune)
    opened = version_on(a, url)  # no total yet: A opens the month, B records it, A saves another number
    assert b.post(url, data=with_version(b, url, {"month": month, "dossiers": "1.430"})).status_code == 303
    typed = {"month": month, "dossiers": "1500", "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice and "Hiện tại: 1.430 Bạn nhập: 1.500" in notice
    assert _value(resp, "dossiers") == "1500"
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    from app.activities.models import CommuneDossierTotal
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers)) == 1500
    # Another commune's months: not found, whatever version is sent.
    assert a.post(f"/activities/dossiers?commune={tree.other_commune.id}",
                  data={**typed, "commune": tree.other_commune.id}).status_code == 404


def test_an_area_saved_over_another_s_change_answers_409_with_its_communes_now(app, db, tree):
    from app.areas import operations as area_ops
    province = unit_ops.create_unit("Thành phố Cần Thơ", "province", None, "99")
    vi_thanh, vi_thuy, nga_bay = (unit_ops.create_unit(name, "commune", province, code) for name, code in (
        ("Phường Vị Thanh", "91321"), ("Xã Vị Thủy", "91351"), ("Phường Ngã Bảy", "91411")))
    area = area_ops.create_area(province, "Khu vực Vị Thanh")
    db.session.commit()
    url = f"/areas/area/{area.id}"
    a, _a = _sign_in(app, "province", province)
    b, b_user = _sign_in(app, "province", province)
    opened = version_on(a, url)
    assert b.post(url, data=with_version(b, url, {"name": "Khu vực Vị Thanh", "communes": [vi_thanh.id, vi_thuy.id]})
                  ).status_code == 303
    typed = {"name": "Cụm Vị Thanh", "communes": [nga_bay.id], "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    # B's communes; A's new name, which B did not change, is not listed.
    assert f"{b_user.full_name} đã sửa lúc" in notice
    assert "Hiện tại: Phường Vị Thanh, Xã Vị Thủy Bạn nhập: Phường Ngã Bảy" in notice and "Cụm" not in notice
    assert _value(resp, "name") == "Cụm Vị Thanh"
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert [c.id for c in area_ops.province_communes(province) if c.parent_id == area.id] == [nga_bay.id]
    # Staff of another province do not find the area.
    other, _o = _sign_in(app, "province", tree.province)
    assert other.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 404


def test_the_adult_targets_saved_over_another_s_change_answer_409_with_the_targets_now(app, db, tree):
    from app.coverage.models import AdultTarget
    url = "/coverage/adult-targets"
    a, _a = _sign_in(app, "province", tree.province)
    b, b_user = _sign_in(app, "province", tree.province)
    assert b.post(url, data=with_version(b, url, {"named_share": "50", "named_due_on": "2030-12-31"})
                  ).status_code == 303
    opened = version_on(a, url)  # A opens the form on that milestone; B changes its share; A saves another
    milestone = _value(a.get(url), "named_milestone")
    mine = {"named_share": "50", "named_due_on": "2030-12-31", "named_milestone": milestone, "online_milestone": "new"}
    assert b.post(url, data=with_version(b, url, {**mine, "named_share": "80"})).status_code == 303
    typed = {**mine, "named_share": "75", "online_share": "60", "online_due_on": "2030-12-31", "version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    # B's share, as a percentage; A's new online target, which B did not touch, is not listed, nor the same date.
    assert f"{b_user.full_name} đã sửa lúc" in notice and "Hiện tại: 80% Bạn nhập: 75%" in notice
    assert "60%" not in notice and "31/12/2030" not in notice
    assert _value(resp, "named_share") == "75"
    assert db.session.scalar(sa.select(AdultTarget.share)) == Decimal("0.8")
    assert a.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(AdultTarget.share))) == [Decimal("0.6"), Decimal("0.75")]
    # The form is the signed-in staff's own province's: a commune officer is refused.
    officer, _o = _sign_in(app, "commune", tree.commune)
    assert officer.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 403


def test_an_account_bound_over_another_s_change_of_its_unit_answers_409_with_the_unit_now(app, db, tree):
    from app.auth.models import User
    from app.users import operations as user_ops
    officer, _password = user_ops.create_account("can-bo-xa", "commune", tree.commune, "Lê Thị Mai")
    db.session.commit()
    page, url = f"/users/{officer.id}", f"/users/{officer.id}/unit"
    a, _a = _sign_in(app, "province", tree.province)
    b, b_user = _sign_in(app, "province", tree.province)
    opened = version_on(a, page, "bind-version")  # A opens the account, B moves it to Phường III, A to Một Ngàn
    assert b.post(url, data=with_version(b, page, {"bind-unit": tree.sibling_commune.id})).status_code == 303
    typed = {"bind-unit": tree.other_commune.id, "bind-version": opened}
    resp = a.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{b_user.full_name} đã sửa lúc" in notice
    assert ("Chuyển sang Hiện tại: Phường III — Thành phố Vị Thanh "
            "Bạn nhập: Thị trấn Một Ngàn — Huyện Châu Thành A") in notice
    options = parse(resp.get_data(as_text=True)).find(id="bind-unit").find_all("option")
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == [str(tree.other_commune.id)]  # as sent
    db.session.expire_all()
    assert db.session.get(User, officer.id).unit_id == tree.sibling_commune.id
    # Seen, and sent again: A's choice is saved.
    assert a.post(url, data={**typed, "bind-version": _value(resp, "bind-version")}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, officer.id).unit_id == tree.other_commune.id
    # Staff of another province do not find the account, whatever version they send.
    far = unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    db.session.commit()
    other, _o = _sign_in(app, "province", far)
    assert other.get(page).status_code == 404
    assert other.post(url, data={**typed, "bind-version": _value(resp, "bind-version")}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, officer.id).unit_id == tree.other_commune.id


def test_a_visit_class_or_shift_refused_lists_only_the_services_whose_result_was_changed_meanwhile(app, db, tree,
                                                                                                  team):
    # Each time the officer changes one service's result, the leader another's: the notice names the officer's
    # service by its Vietnamese name, not the leader's, which is theirs to save.
    from app.activities.models import CentreShift, Class
    from tests.test_activities import class_form, shift_form
    team_, members = team
    leader, _l = _sign_in(app, "team_leader", tree.commune, team_, members[0])
    officer, officer_user = _sign_in(app, "commune", tree.commune)
    dvc, vneid = "Tài khoản và hồ sơ dịch vụ công trực tuyến", "Định danh điện tử VNeID mức 2"

    h, ids = household(tree.hamlet), [members[0].id]
    made = leader.post("/visits/new", data=form(h.id, on=date(2024, 6, 1), members=ids,
                                                services={"dvc": "guided", "vneid": "guided"}))
    url = made.headers["Location"] + "/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, form(
        h.id, on=date(2024, 6, 1), members=ids, services={"dvc": "adopted", "vneid": "guided"}))).status_code == 303
    typed = form(h.id, on=date(2024, 6, 1), members=ids, services={"dvc": "guided", "vneid": "adopted"},
                 version=opened)
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{dvc} Hiện tại: Đã sử dụng Bạn nhập: Đã hướng dẫn" in notice and vneid not in notice
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303

    made = leader.post("/activities/classes/new", data=class_form(db, team_, members,
                                                                   results={"dvc": "5", "vneid": "10"}))
    assert made.status_code == 303
    klass = db.session.scalar(sa.select(Class).order_by(Class.id.desc()).limit(1))
    url = f"/activities/classes/{klass.id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, class_form(
        db, team_, members, key=klass.key, results={"dvc": "5", "vneid": "12"}))).status_code == 303
    typed = class_form(db, team_, members, key=klass.key, results={"dvc": "7", "vneid": "10"}, version=opened)
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{vneid} Hiện tại: 12 Bạn nhập: 10" in notice and dvc not in notice
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert sorted(r.learners for r in db.session.get(Class, klass.id).results) == [7, 10]

    made = leader.post("/activities/shifts/new", data=shift_form(team_, members, tree.commune,
                                                                  dossiers={"dvc": "9", "vneid": "3"}))
    assert made.status_code == 303
    shift = db.session.scalar(sa.select(CentreShift).order_by(CentreShift.id.desc()).limit(1))
    url = f"/activities/shifts/{shift.id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, shift_form(
        team_, members, tree.commune, key=shift.key, dossiers={"dvc": "9", "vneid": "4"}))).status_code == 303
    typed = {**shift_form(team_, members, tree.commune, key=shift.key, dossiers={"dvc": "11", "vneid": "3"}),
             "version": opened}
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{vneid} Hiện tại: 4 Bạn nhập: 3" in notice and dvc not in notice
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert sorted(d.dossiers for d in db.session.get(CentreShift, shift.id).dossiers) == [3, 11]


@pytest.mark.parametrize("own_change", [False, True])
def test_a_class_saved_over_another_s_change_of_its_named_learners_answers_409_saying_who_differs(app, db, tree,
                                                                                                  team, own_change):
    # The officer adds Lê Thị Hoa and takes out Trần Văn Bình; the leader saves the list as opened, with nothing
    # else changed or with a new place: refused either way, the notice naming the two, not the leader's place.
    from app.activities.models import Class
    from tests.test_activities import class_form
    team_, members = team
    leader, _l = _sign_in(app, "team_leader", tree.commune, team_, members[0])
    officer, officer_user = _sign_in(app, "commune", tree.commune)
    an = ("Nguyễn Văn An", "1960", "", "")
    binh = ("Trần Văn Bình", "1958", "", "0912345678")
    hoa = ("Lê Thị Hoa", "1975", "", "")
    made = leader.post("/activities/classes/new", data=class_form(db, team_, members, learners=[an, binh]))
    assert made.status_code == 303
    klass = db.session.scalar(sa.select(Class).order_by(Class.id.desc()).limit(1))
    url = f"/activities/classes/{klass.id}/edit"
    opened = version_on(leader, url)
    assert officer.post(url, data=with_version(officer, url, class_form(
        db, team_, members, key=klass.key, learners=[an, hoa]))).status_code == 303
    place = {"place_name": "Trường tiểu học"} if own_change else {}
    typed = class_form(db, team_, members, key=klass.key, learners=[an, binh], version=opened, **place)
    resp = leader.post(url, data=typed)
    assert resp.status_code == 409
    notice = _notice(resp)
    assert f"{officer_user.full_name} đã sửa lúc" in notice
    assert ("Học viên có tên Hiện tại: 2 người học; danh sách bạn nhập không có: Lê Thị Hoa (1975) "
            "Bạn nhập: 2 người học; danh sách hiện tại không có: Trần Văn Bình (1958)") in notice
    assert "Trường tiểu học" not in notice  # the leader's own change
    assert _value(resp, "learners-1-name") == "Trần Văn Bình"  # the list as the leader sent it
    db.session.expire_all()
    assert sorted(x.name for x in db.session.get(Class, klass.id).learners) == ["Lê Thị Hoa", "Nguyễn Văn An"]
    # Seen, and sent again: the leader's list is saved.
    assert leader.post(url, data={**typed, "version": _value(resp, "version")}).status_code == 303
    db.session.expire_all()
    assert sorted(x.name for x in db.session.get(Class, klass.id).learners) == ["Nguyễn Văn An", "Trần Văn Bình"]


def test_the_notice_names_a_few_of_many_learners_added_meanwhile_and_counts_the_rest(app, db, tree, team):
    from app.activities.models import Class
    from tests.test_activities import class_form
    team_, members = team
    leader, _l = _sign_in(app, "team_leader", tree.commune, team_, members[0])
    officer, _o = _sign_in(app, "commune", tree.commune)
    assert leader.post("/activities/classes/new", data=class_form(db, team_, members)).status_code == 303
    klass = db.session.scalar(sa.select(Class).order_by(Class.id.desc()).limit(1))
    url = f"/activities/classes/{klass.id}/edit"
    opened = version_on(leader, url)
    seven = [(f"Học viên {n}", "", "", "") for n in range(1, 8)]
    assert officer.post(url, data=with_version(officer, url, class_form(
        db, team_, members, key=klass.key, learners=seven))).status_code == 303
    resp = leader.post(url, data=class_form(db, team_, members, key=klass.key, version=opened))
    assert resp.status_code == 409
    assert ("Học viên có tên Hiện tại: 7 người học; danh sách bạn nhập không có: Học viên 1, Học viên 2, Học viên 3, "
            "Học viên 4, Học viên 5 và 2 người khác Bạn nhập: 0 người học") in _notice(resp)


def test_the_adult_targets_notice_says_which_indicator_each_changed_date_is_of(app, db, tree):
    # B moves both milestones' dates: the two rows of the notice are told apart, each by its indicator.
    url = "/coverage/adult-targets"
    a, _a = _sign_in(app, "province", tree.province)
    b, _b = _sign_in(app, "province", tree.province)
    both = {"named_share": "50", "named_due_on": "2030-12-31", "online_share": "40", "online_due_on": "2030-12-31"}
    assert b.post(url, data=with_version(b, url, both)).status_code == 303
    page = a.get(url)
    opened = {"named_milestone": _value(page, "named_milestone"), "online_milestone": _value(page, "online_milestone"),
              "version": _value(page, "version")}
    assert b.post(url, data=with_version(b, url, {**both, **{k: v for k, v in opened.items() if k != "version"},
                                                  "named_due_on": "2029-12-31", "online_due_on": "2028-12-31"})
                  ).status_code == 303
    resp = a.post(url, data={**both, **opened, "named_share": "55"})
    assert resp.status_code == 409
    notice = _notice(resp)
    assert "Học viên có tên: thời hạn đạt chỉ tiêu Hiện tại: 31/12/2029 Bạn nhập: 31/12/2030" in notice
    assert "Hồ sơ trực tuyến: thời hạn đạt chỉ tiêu Hiện tại: 31/12/2028 Bạn nhập: 31/12/2030" in notice
    labels = [dt.text() for dt in parse(resp.get_data(as_text=True)).find(id="changed-meanwhile").find_all("dt")]
    assert len(labels) == 2 and len(set(labels)) == 2


@pytest.mark.parametrize("changed,said", [
    ({"phone": "0912000111"}, "Trần Văn Bình (1958): số điện thoại đã đổi"),
    ({"hamlet": "hamlet2"}, "Trần Văn Bình (1958): ấp đã đổi"),
    ({"hamlet": "hamlet2", "phone": ""}, "Trần Văn Bình (1958): ấp và số điện thoại đã đổi"),
])
def test_a_learner_whose_hamlet_or_phone_was_changed_meanwhile_is_named_once_as_changed(app, db, tree, team,
                                                                                        changed, said):
    """The officer corrects Trần Văn Bình's phone or hamlet, and adds Lê Thị Hoa; the leader saves the list as opened.
    Bình is the same learner on both sides (same name and year of birth): the notice says what of his changed, once,
    not that the list holds him and the leader's does not, and the leader's does him and the list not."""
    from app.activities.models import Class
    from tests.test_activities import class_form
    team_, members = team
    leader, _l = _sign_in(app, "team_leader", tree.commune, team_, members[0])
    officer, _o = _sign_in(app, "commune", tree.commune)
    an = ("Nguyễn Văn An", "1960", "", "")
    binh = ("Trần Văn Bình", "1958", str(tree.hamlet.id), "0912345678")
    hoa = ("Lê Thị Hoa", "1975", "", "")
    made = leader.post("/activities/classes/new", data=class_form(db, team_, members, learners=[an, binh]))
    assert made.status_code == 303
    klass = db.session.scalar(sa.select(Class).order_by(Class.id.desc()).limit(1))
    url = f"/activities/classes/{klass.id}/edit"
    opened = version_on(leader, url)
    hamlet = str(tree.hamlet2.id) if "hamlet" in changed else binh[2]
    corrected = (binh[0], binh[1], hamlet, changed.get("phone", binh[3]))
    assert officer.post(url, data=with_version(officer, url, class_form(
        db, team_, members, key=klass.key, learners=[an, corrected, hoa]))).status_code == 303
    resp = leader.post(url, data=class_form(db, team_, members, key=klass.key, learners=[an, binh], version=opened))
    assert resp.status_code == 409
    notice = _notice(resp)
    assert (f"Học viên có tên Hiện tại: 3 người học; danh sách bạn nhập không có: Lê Thị Hoa (1975); {said} "
            "Bạn nhập: 2 người học Nội dung bạn nhập vẫn được giữ ở dưới.") in notice, notice
    assert notice.count("Trần Văn Bình") == 1
