"""Province staff correct a closed month through the visit screens, with a reason; and reopen it."""
import json
from datetime import date

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.reports.closing import close_month, find_closure
from app.reports.models import MonthClosure
from app.teams.models import Member
from app.visits.models import Visit
from tests.form_versions import with_version
from tests.html_tree import parse
from tests.report_data import Activity
from tests.visits_helpers import form, sign_in_as

MONTH = "2024-10"


def _close(app, tree):
    staff, user = sign_in_as(app, "province", tree.province)
    close_month(tree.province, 2024, 10, user)
    from app.extensions import db
    db.session.commit()
    return staff, user


def _october_visit(activity, name="h2"):
    from app.extensions import db
    return db.session.scalar(sa.select(Visit).where(Visit.household_id == activity.households[name].id,
                                                    Visit.visited_on == date(2024, 10, 15)))


def _members(team):
    from app.extensions import db
    return [m.id for m in db.session.scalars(sa.select(Member).join(Member.memberships)
                                             .where(Member.memberships.any(team_id=team.id)))]


def _events(action):
    from app.extensions import db
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_province_staff_correct_a_closed_months_visit_with_a_reason(app, tree, db):
    activity = Activity(tree)
    staff, user = _close(app, tree)
    v = _october_visit(activity)
    page = staff.get(f"/visits/{v.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "tháng đã khóa sổ" in html and f"/visits/{v.id}/edit" in html
    edit = staff.get(f"/visits/{v.id}/edit").get_data(as_text=True)
    assert 'name="reason"' in edit

    data = form(v.household_id, on=date(2024, 10, 15), members=_members(activity.team),
                services={"e_wallet": "adopted"}, key=v.idempotency_key)
    resp = staff.post(f"/visits/{v.id}/edit", data=with_version(staff, f"/visits/{v.id}/edit", data))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="reason-error"' in html and "Cần nêu lý do điều chỉnh" in html
    db.session.expire_all()
    assert [vs.result for vs in db.session.get(Visit, v.id).services] == ["guided"]

    longest = ("Tổ báo nhầm: hộ đã cài ví; " * 20)[:500]  # a reason holds 500 characters at most
    resp = staff.post(f"/visits/{v.id}/edit", data=with_version(
        staff, f"/visits/{v.id}/edit", {**data, "reason": longest + "a"}))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="reason-error"' in html and "500" in html and longest + "a" in html
    resp = staff.post(f"/visits/{v.id}/edit", data=with_version(
        staff, f"/visits/{v.id}/edit", {**data, "reason": longest}))
    assert resp.status_code == 303
    db.session.expire_all()
    assert [vs.result for vs in db.session.get(Visit, v.id).services] == ["adopted"]
    (event,) = _events("edit_closed_month")
    assert event.user_id == user.id and "Tổ báo nhầm: hộ đã cài ví" in json.loads(event.changes)["reason"]["after"]
    assert json.loads(event.changes)["reason"]["after"] == longest


def test_the_closed_months_report_stays_as_closed_after_a_correction(app, tree, db):
    activity = Activity(tree)
    staff, _user = _close(app, tree)
    url = f"/reports/{tree.province.id}/monthly.csv?month={MONTH}"
    before = staff.get(url).data
    v = _october_visit(activity)
    data = form(v.household_id, on=date(2024, 10, 15), members=_members(activity.team),
                services={"e_wallet": "adopted"}, key=v.idempotency_key, reason="Sửa kết quả")
    assert staff.post(f"/visits/{v.id}/edit", data=with_version(staff, f"/visits/{v.id}/edit", data)).status_code == 303
    assert staff.get(url).data == before


def test_field_users_and_commune_officers_still_cannot_change_a_closed_month(app, tree, db):
    activity = Activity(tree)
    _close(app, tree)
    v = _october_visit(activity)
    officer, _ = sign_in_as(app, "commune", tree.commune)
    data = form(v.household_id, on=date(2024, 10, 15), members=_members(activity.team),
                services={"e_wallet": "adopted"}, key=v.idempotency_key, reason="Tôi muốn sửa")
    resp = officer.post(f"/visits/{v.id}/edit", data=data)
    assert resp.status_code == 409 and "đã khóa sổ" in resp.get_data(as_text=True)
    # Not offered either: the visit's page has no buttons, and an old link to the form says why at once.
    for role, team in (("commune", None), ("team_leader", activity.team)):
        user, _ = sign_in_as(app, role, tree.commune, team=team)
        page = user.get(f"/visits/{v.id}").get_data(as_text=True)
        assert "thuộc tháng đã khóa sổ: chỉ cán bộ tỉnh được điều chỉnh" in page
        assert f"/visits/{v.id}/edit" not in page and f"/visits/{v.id}/delete" not in page
        for action in ("edit", "delete"):
            resp = user.get(f"/visits/{v.id}/{action}")
            assert resp.status_code == 303 and resp.location.endswith(f"/visits/{v.id}")
            assert "đã khóa sổ" in user.get(resp.location).get_data(as_text=True)
    assert officer.post(f"/visits/{v.id}/delete", data={"reason": "x"}).status_code == 409
    assert db.session.get(Visit, v.id) is not None
    # Nor can an open month's visit be moved into the closed one.
    november = db.session.scalar(sa.select(Visit).where(Visit.visited_on == date(2024, 11, 1)))
    moved = form(november.household_id, on=date(2024, 10, 30), members=_members(activity.team),
                 services={"vneid": "adopted"}, key=november.idempotency_key)
    resp = officer.post(f"/visits/{november.id}/edit", data=with_version(officer, f"/visits/{november.id}/edit", moved))
    assert resp.status_code == 409 and "đã khóa sổ" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, november.id).visited_on == date(2024, 11, 1)
    assert _events("edit_closed_month") == []


def test_province_staff_cannot_edit_open_months_or_other_provinces(app, tree, db):
    from app.units.operations import create_unit
    activity = Activity(tree)
    staff, _user = _close(app, tree)
    november = db.session.scalar(sa.select(Visit).where(Visit.visited_on == date(2024, 11, 1)))
    assert staff.get(f"/visits/{november.id}/edit").status_code == 403
    assert staff.post(f"/visits/{november.id}/delete", data={"reason": "x"}).status_code == 403
    other = create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    db.session.commit()
    stranger, _ = sign_in_as(app, "province", other)
    v = _october_visit(activity)
    assert stranger.get(f"/visits/{v.id}/edit").status_code == 404
    assert stranger.post(f"/visits/{v.id}/delete", data={"reason": "x"}).status_code == 404
    assert stranger.get(f"/visits/new?team={activity.team.id}").status_code == 404
    assert db.session.get(Visit, v.id) is not None


def test_an_administrator_edits_an_open_month_freely_and_gives_a_reason_to_move_a_visit_into_a_closed_one(
        app, tree, db):
    activity = Activity(tree)
    _close(app, tree)
    admin, _user = sign_in_as(app, "admin", tree.province)
    november = db.session.scalar(sa.select(Visit).where(Visit.visited_on == date(2024, 11, 1)))
    assert 'name="reason"' not in admin.get(f"/visits/{november.id}/edit").get_data(as_text=True)
    data = form(november.household_id, on=date(2024, 11, 1), members=_members(activity.team),
                services={"vneid": "guided"}, key=november.idempotency_key)
    assert admin.post(f"/visits/{november.id}/edit", data=with_version(
        admin, f"/visits/{november.id}/edit", data)).status_code == 303
    db.session.expire_all()
    assert [vs.result for vs in db.session.get(Visit, november.id).services] == ["guided"]
    assert _events("edit_closed_month") == []
    # Moved into October, which is closed: the form asks why, beside the reason, and keeps the visit as it was.
    resp = admin.post(f"/visits/{november.id}/edit", data=with_version(
        admin, f"/visits/{november.id}/edit", {**data, "visited_on": "2024-10-30"}))
    assert resp.status_code == 400
    assert 'id="reason-error"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, november.id).visited_on == date(2024, 11, 1)
    resp = admin.post(f"/visits/{november.id}/edit", data=with_version(
        admin, f"/visits/{november.id}/edit", {**data, "visited_on": "2024-10-30",
                                                            "reason": "Tổ ghi nhầm ngày"}))
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Visit, november.id).visited_on == date(2024, 10, 30)
    (event,) = _events("edit_closed_month")
    assert "Tổ ghi nhầm ngày" in event.changes


def test_province_staff_delete_a_closed_months_visit_with_a_reason(app, tree, db):
    activity = Activity(tree)
    staff, _user = _close(app, tree)
    vid = _october_visit(activity).id
    page = staff.get(f"/visits/{vid}/delete").get_data(as_text=True)
    assert 'name="reason"' in page
    resp = staff.post(f"/visits/{vid}/delete", data={"reason": "   "})
    assert resp.status_code == 409 and "Cần nêu lý do" in resp.get_data(as_text=True)
    assert db.session.get(Visit, vid) is not None
    resp = staff.post(f"/visits/{vid}/delete", data={"reason": "Nhập trùng hai lần"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(Visit.id).where(Visit.id == vid)) is None
    (event,) = _events("edit_closed_month")
    assert "Nhập trùng hai lần" in event.changes


def test_province_staff_add_a_late_visit_to_a_closed_month(app, tree, db):
    activity = Activity(tree)
    staff, user = _close(app, tree)
    h3 = activity.households["h3"]
    household_page = staff.get(f"/households/{h3.id}").get_data(as_text=True)
    assert f"/visits/new?household={h3.id}&amp;team={activity.team.id}" in household_page
    assert f"team={activity.other_team.id}" not in household_page  # it serves another hamlet
    # Not on a household merged into another (its visits go to the one kept), nor for the team's own leader.
    from app.households.operations import merge_households
    from tests.report_data import household
    twin = household(tree.hamlet, "Hộ Ba")
    merge_households(twin, h3)
    db.session.commit()
    assert "&amp;team=" not in staff.get(f"/households/{twin.id}").get_data(as_text=True)
    leader, _ = sign_in_as(app, "team_leader", tree.commune, team=activity.team)
    led = leader.get(f"/households/{h3.id}")
    assert led.status_code == 200 and "&amp;team=" not in led.get_data(as_text=True)

    page = staff.get(f"/visits/new?household={h3.id}&team={activity.team.id}")
    assert page.status_code == 200 and 'name="reason"' in page.get_data(as_text=True)
    assert f'action="/visits/new?team={activity.team.id}"' in page.get_data(as_text=True)  # sent for that team
    count = db.session.scalar(sa.select(sa.func.count(Visit.id)))
    data = form(h3.id, on=date(2024, 10, 20), members=_members(activity.team)[:1],
                services={"vneid": "adopted"}, team=str(activity.team.id))
    resp = staff.post(f"/visits/new?team={activity.team.id}", data=data)
    assert resp.status_code == 400 and "Cần nêu lý do điều chỉnh" in resp.get_data(as_text=True)
    # An open month is the team's own business.
    resp = staff.post(f"/visits/new?team={activity.team.id}",
                      data={**data, "visited_on": "2024-11-20", "reason": "Bổ sung phiếu muộn"})
    assert resp.status_code == 409 and "đang mở" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == count

    resp = staff.post(f"/visits/new?team={activity.team.id}", data={**data, "reason": "Tổ nộp phiếu muộn"})
    assert resp.status_code == 303
    added = db.session.scalar(sa.select(Visit).where(Visit.visited_on == date(2024, 10, 20)))
    assert added.team_id == activity.team.id and added.author_id == user.id
    assert "Tổ nộp phiếu muộn" in _events("edit_closed_month")[0].changes


def test_a_month_is_reopened_only_for_a_reason_written_in_words(app, tree, db):
    """Two letters, dots or one key held down are no reason for the audit trail: each is refused beside the box,
    kept in it, and the month stays closed; ten characters of words reopen it."""
    staff, _user = _close(app, tree)
    closure_id = find_closure(tree.province, 2024, 10).id
    for typed in ("ok", "  Khóa nhầm  ", "aaaaaaaaaaaa", "1234567890", "..........!!", "hahahahaha hahaha",
                  "test test test", "10/2024 - 15/11"):
        resp = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": typed})
        assert resp.status_code == 400, typed
        page = parse(resp.get_data(as_text=True))
        error = page.find(id="reason-error")
        assert error is not None and "Hãy ghi lý do bằng lời, ít nhất 10 ký tự" in error.text(), typed
        box = page.find(tag="textarea", name="reason")
        assert box.text().strip() == " ".join(typed.split()) and box.attrs.get("aria-invalid") == "true", typed
        db.session.expire_all()
        assert find_closure(tree.province, 2024, 10) is not None, typed
    assert _events("reopen_month") == []
    resp = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "  Tổ 2 nộp phiếu muộn  "})
    assert resp.status_code == 303
    db.session.expire_all()
    assert find_closure(tree.province, 2024, 10) is None
    assert "Tổ 2 nộp phiếu muộn" in _events("reopen_month")[0].changes


def test_reopening_a_month_needs_a_reason_and_lets_teams_edit_again(app, tree, db):
    activity = Activity(tree)
    staff, user = _close(app, tree)
    closure_id = find_closure(tree.province, 2024, 10).id
    assert f"/reports/closing/{closure_id}/reopen" in staff.get("/reports/closing").get_data(as_text=True)
    assert staff.get(f"/reports/closing/{closure_id}/reopen").status_code == 200
    resp = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": ""})
    assert resp.status_code == 400 and "Cần nêu lý do mở lại" in resp.get_data(as_text=True)
    assert find_closure(tree.province, 2024, 10) is not None

    district, _ = sign_in_as(app, "district", tree.district)
    assert district.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "x"}).status_code == 403
    officer, _ = sign_in_as(app, "commune", tree.commune)
    assert officer.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "x"}).status_code == 403
    db.session.expire_all()
    assert find_closure(tree.province, 2024, 10) is not None

    # A reason is at most 500 characters: a longer one is kept in the box with the message beside it.
    too_long = "Khóa nhầm tháng, " + "đ" * 484
    resp = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": too_long})
    assert resp.status_code == 400 and too_long in resp.get_data(as_text=True)
    assert "500" in resp.get_data(as_text=True) and find_closure(tree.province, 2024, 10) is not None
    resp = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "Khóa nhầm tháng"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 0
    (event,) = _events("reopen_month")
    assert event.user_id == user.id and "Khóa nhầm tháng" in event.changes
    v = _october_visit(activity)
    data = form(v.household_id, on=date(2024, 10, 15), members=_members(activity.team),
                services={"e_wallet": "adopted"}, key=v.idempotency_key)
    assert officer.post(f"/visits/{v.id}/edit", data=with_version(
        officer, f"/visits/{v.id}/edit", data)).status_code == 303
    # The form sent again (a double tap, the back button): the month is open already, and the page says so.
    again = staff.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "Khóa nhầm tháng"})
    assert again.status_code == 303 and again.headers["Location"].endswith("/reports/closing")
    assert "Tháng 10/2024 đã được mở lại." in staff.get(again.headers["Location"]).get_data(as_text=True)
    assert len(_events("reopen_month")) == 1
    # Anyone else finds nothing there.
    other, _ = sign_in_as(app, "province", tree.province)
    assert other.post(f"/reports/closing/{closure_id}/reopen", data={"reason": "again"}).status_code == 404


def test_a_closed_months_correction_is_refused_a_reason_of_one_word_and_the_words_stay(app, tree, db):
    """"Bổ sung" is no reason for the audit trail, on the edit, the late visit and the delete alike: each is
    refused with the reopening's message beside the reason box, which keeps what was typed; nothing changes."""
    activity = Activity(tree)
    staff, _user = _close(app, tree)
    v = _october_visit(activity)
    data = form(v.household_id, on=date(2024, 10, 15), members=_members(activity.team),
                services={"e_wallet": "adopted"}, key=v.idempotency_key)
    late = form(activity.households["h3"].id, on=date(2024, 10, 20), members=_members(activity.team)[:1],
                services={"vneid": "adopted"}, team=str(activity.team.id))
    count = db.session.scalar(sa.select(sa.func.count(Visit.id)))
    for url, sent in ((f"/visits/{v.id}/edit", data), (f"/visits/new?team={activity.team.id}", late),
                      (f"/visits/{v.id}/delete", {})):
        resp = staff.post(url, data={**sent, "reason": "Bổ sung"})
        assert resp.status_code in (400, 409), url
        page = parse(resp.get_data(as_text=True))
        error = page.find(id="reason-error")
        assert error is not None and "Hãy ghi lý do bằng lời, ít nhất 10 ký tự" in error.text(), url
        assert page.find(tag="textarea", name="reason").text().strip() == "Bổ sung", url
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == count
    assert [vs.result for vs in db.session.get(Visit, v.id).services] == ["guided"]
    assert _events("edit_closed_month") == []
