"""One-stop-centre shifts and the communes' dossier totals across the 2025 reform: counted per commune, not
per hamlet, so on today's map a new commune's months before the reform are those of the old communes it
took in whole, and of a split commune on its main successor only; as the map was, the old communes' own.
Nothing stored moves: a closed month's exports stay the same bytes, and no province total counts twice."""
import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities import operations as activity_ops
from app.activities.models import CommuneDossierTotal
from app.auth.cli import create_user
from app.coverage import adults
from app.extensions import db as _db
from app.reports import closing, exports
from app.reports.summary import build_summary
from app.teams.models import Team
from app.units import operations as units
from app.units.models import AdminUnit, unit_for_code
from tests.adult_world import service
from tests.test_reorganize import plan_csv, reorganize
from tests.visits_helpers import make_team

MAY, MARCH = (2025, 5), (2025, 3)
# Phường I and III merge into Phường Vị Thanh (31321); Thị trấn Một Ngàn is split: two of its three hamlets
# go to Xã Tân Hòa (its main successor), one to Xã Thạnh Xuân.
PLAN = [("93", "", "92"), ("31318", "", "31321"), ("31321", "", "31321"),
        ("31338", "Ấp Nhơn Xuân", "31342"), ("31338", "Ấp Nhơn Lộc", "31342"), ("31338", "Ấp Nhơn Thuận", "31360")]


def _shift(commune, team, on: date, dossiers: int):
    activity_ops.create_shift(activity_ops.ShiftData(
        commune_id=commune.id, team_id=team.id, held_on=on, people_helped=dossiers + 3,
        dossiers={service("dvc").id: dossiers}), uuid.uuid4().hex)


@pytest.fixture
def reformed(db, tree, runner, tmp_path):
    """Shifts and dossier totals on the old communes in March (closed) and May 2025, then the plan applied."""
    for name, commune, n in (("Khu vực 3", tree.sibling_commune, 150), ("Ấp Nhơn Lộc", tree.other_commune, 90),
                             ("Ấp Nhơn Thuận", tree.other_commune, 200)):
        units.set_household_count(units.create_unit(name, "hamlet", commune), n, date(2024, 1, 1))
    team_i, _m = make_team(tree.commune, [tree.hamlet], name="Tổ Phường I")
    team_iii, _m = make_team(tree.sibling_commune, [], name="Tổ Phường III")
    team_split, _m = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ Một Ngàn")
    _shift(tree.commune, team_i, date(2025, 3, 10), 5)
    _shift(tree.commune, team_i, date(2025, 5, 6), 7)
    _shift(tree.sibling_commune, team_iii, date(2025, 5, 12), 4)
    _shift(tree.other_commune, team_split, date(2025, 5, 15), 6)
    for commune, month, n in ((tree.commune, 202503, 50), (tree.commune, 202505, 100),
                              (tree.sibling_commune, 202505, 40), (tree.other_commune, 202505, 30)):
        activity_ops.set_dossier_total(commune, month, n)
    staff = create_user("staff-93", "province", tree.province, "matkhau-dai-du-12")
    _db.session.flush()
    closing.close_month(tree.province, 2025, 3, staff)
    _db.session.commit()
    old = {name: getattr(tree, name).id for name in ("province", "commune", "sibling_commune", "other_commune")}
    march = build_summary(_db.session.get(AdminUnit, old["province"]), *MARCH)
    files = (exports.write_csv(march), exports.write_xlsx(march))
    new = apply_plan(runner, tmp_path)
    # After the reform the new commune's own shift: never in a month before it.
    _shift(new["31321"], _db.session.scalar(sa.select(Team).where(Team.name == "Tổ Phường I")), date(2025, 9, 3), 3)
    _db.session.commit()
    return type("Reformed", (), {"old": old, "files": files, "province": new["92"], "vi_thanh": new["31321"],
                                 "tan_hoa": new["31342"], "thanh_xuan": new["31360"]})


def apply_plan(runner, tmp_path) -> dict[str, AdminUnit]:
    """PLAN applied with `flask units reorganize`: the new province and its three communes, by code."""
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    return {code: unit_for_code(code) for code in ("92", "31321", "31342", "31360")}


def _today(unit, month=MAY):
    return adults.adult_months([unit], [month])[unit.id][month]


def _then(unit, month=MAY):
    return adults.adult_months_then([unit], [month])[unit.id][month]


def _online(f) -> tuple[int, int, int]:
    return f.online, f.online_counted, f.commune_dossiers


def test_on_today_s_map_a_merged_commune_s_months_before_the_reform_add_up_its_old_communes(reformed):
    assert _online(_today(reformed.vi_thanh)) == (7 + 4, 7 + 4, 100 + 40)
    assert _today(reformed.vi_thanh).online_share == pytest.approx(11 / 140)
    assert _online(_today(reformed.vi_thanh, MARCH)) == (5, 5, 50)
    # The month of its own shift is its own only.
    assert _online(_today(reformed.vi_thanh, (2025, 9))) == (3, 0, 0)


def test_a_split_commune_s_shifts_and_dossiers_count_once_on_its_main_successor_on_today_s_map(reformed):
    assert _online(_today(reformed.tan_hoa)) == (6, 6, 30)
    assert _online(_today(reformed.thanh_xuan)) == (0, 0, 0)


def test_the_province_totals_are_the_same_on_both_maps_and_nothing_counts_twice(reformed):
    old_province = _db.session.get(AdminUnit, reformed.old["province"])
    then = _then(old_province)
    assert _online(then) == (17, 17, 170)
    assert _online(_today(reformed.province)) == _online(then)
    assert _online(_then(reformed.province)) == _online(then)
    # Its communes on today's map add up to the province's total.
    communes = (reformed.vi_thanh, reformed.tan_hoa, reformed.thanh_xuan)
    figures = adults.adult_months(list(communes), [MAY])
    assert tuple(map(sum, zip(*(_online(figures[c.id][MAY]) for c in communes), strict=True))) == (17, 17, 170)


def test_as_the_map_was_a_new_commune_stands_for_its_old_communes_and_they_keep_their_own(reformed):
    assert _online(_then(reformed.vi_thanh)) == (11, 11, 140)
    # A split commune stands whole for each of its parts as the map was, as the coverage page says.
    assert _online(_then(reformed.thanh_xuan)) == (6, 6, 30)
    assert _online(_then(_db.session.get(AdminUnit, reformed.old["commune"]))) == (7, 7, 100)
    assert _online(_then(_db.session.get(AdminUnit, reformed.old["other_commune"]))) == (6, 6, 30)


def test_the_closed_month_s_exports_are_the_same_bytes_and_an_open_month_s_report_counts_the_old_communes(
        reformed):
    old_province = _db.session.get(AdminUnit, reformed.old["province"])
    march = build_summary(old_province, *MARCH)
    assert march.closed_at is not None
    assert (exports.write_csv(march), exports.write_xlsx(march)) == reformed.files
    # May on today's units: the province and each new commune with the figures above.
    may = build_summary(reformed.province, *MAY)
    assert (may.total["adults"]["online"], may.total["adults"]["commune_dossiers"]) == (17, 170)
    rows = {r["name"]: (r["adults"]["online"], r["adults"]["commune_dossiers"]) for r in may.children}
    assert rows == {"Phường Vị Thanh": (11, 140), "Xã Tân Hòa": (6, 30), "Xã Thạnh Xuân": (0, 0)}
    # ...and as the map was: the old province's, the same total.
    then = build_summary(reformed.province, *MAY, as_then=True)
    assert (then.total["adults"]["online"], then.total["adults"]["commune_dossiers"]) == (17, 170)


def _csv(client, unit, month: str, **args) -> dict[str, dict[str, str]]:
    """The monthly CSV download: each row's cells by header, by the unit's name."""
    import csv
    import io
    resp = client.get(f"/reports/{unit.id}/monthly.csv", query_string={"month": month, **args})
    assert resp.status_code == 200, resp.status_code
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    return {r["Đơn vị"]: r for r in rows}


def test_the_monthly_exports_of_a_month_before_the_reform_on_both_maps(reformed, client, login_as):
    login_as("province", reformed.province)
    online, dossiers = "Hồ sơ trực tuyến được hỗ trợ trong tháng", "Tổng hồ sơ của các xã trong tháng"
    today = _csv(client, reformed.province, "2025-05")
    assert {name: (r[online], r[dossiers]) for name, r in today.items()} == {
        "Thành phố Cần Thơ": ("17", "170"), "Phường Vị Thanh": ("11", "140"), "Xã Tân Hòa": ("6", "30"),
        "Xã Thạnh Xuân": ("0", "0")}
    # As the map was, the report is the old province's (the new one did not exist then), read by its heirs' staff.
    then = _csv(client, _db.session.get(AdminUnit, reformed.old["province"]), "2025-05")
    assert (then["Tỉnh Hậu Giang"][online], then["Tỉnh Hậu Giang"][dossiers]) == ("17", "170")
    assert (then["Phường I"][online], then["Thị trấn Một Ngàn"][online]) == ("7", "6")
    login_as("commune", reformed.vi_thanh)
    assert _csv(client, reformed.vi_thanh, "2025-05")["Phường Vị Thanh"][online] == "11"


def _text(resp) -> str:
    return " ".join(resp.get_data(as_text=True).split())


def test_the_new_commune_s_page_says_where_its_shifts_and_dossiers_before_the_reform_come_from(
        reformed, client, login_as):
    login_as("commune", reformed.vi_thanh)
    page = _text(client.get(f"/coverage/{reformed.vi_thanh.id}?month=2025-05&adults=1&trend=1"))
    section = page[page.index('id="adults"'):]
    total = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", section) if "Tổng: Phường Vị Thanh" in r)
    assert ">11<" in total and "7,9" in total  # 11 of 140 dossiers
    assert ("Lớp học, người học, ca trực tại Trung tâm phục vụ hành chính công và tổng số hồ sơ được tính theo xã: "
            "các tháng trước 07/2025 là của Phường I, Phường III.") in section
    trend = page[page.index("adult-trend"):]
    may_row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", trend) if "05/2025" in r)
    assert ">11<" in may_row
    # As the map was: the old communes stand for it, and the note about today's map is not said.
    then = _text(client.get(f"/coverage/{reformed.vi_thanh.id}/adults?month=2025-05&map=then",
                            headers={"HX-Request": "true"}))
    assert "tính theo xã" not in then and ">11<" in then


def test_the_split_commune_s_other_part_says_where_its_figures_went_and_cannot_read_that_commune(
        reformed, app, client, login_as):
    login_as("commune", reformed.thanh_xuan)
    section = _text(client.get(f"/coverage/{reformed.thanh_xuan.id}/adults?month=2025-05",
                               headers={"HX-Request": "true"}))
    assert ("Lớp học, người học, ca trực và hồ sơ của Thị trấn Một Ngàn (được chia cho nhiều đơn vị) được tính ở "
            "Xã Tân Hòa, đơn vị kế thừa chính.") in section
    assert client.get(f"/coverage/{reformed.tan_hoa.id}?month=2025-05").status_code == 404
    main = app.test_client()
    login_as("commune", reformed.tan_hoa, http=main)
    section = _text(main.get(f"/coverage/{reformed.tan_hoa.id}/adults?month=2025-05",
                               headers={"HX-Request": "true"}))
    assert ("Thị trấn Một Ngàn được chia cho nhiều đơn vị: lớp học, người học, ca trực và hồ sơ được tính trọn ở "
            "đây, đơn vị kế thừa chính.") in section


def test_a_new_commune_cannot_enter_a_dossier_total_for_a_month_before_it_existed(reformed, client, login_as):
    login_as("commune", reformed.vi_thanh)
    page = _text(client.get("/activities/dossiers"))
    assert "các tháng trước 07/2025 là của Phường I, Phường III" in page
    # Its table is of the last twelve months, its own: the months before are on its coverage page's trend.
    link = re.search(r'<a href="([^"]+)">Các tháng trước 07/2025 trên trang độ phủ</a>', page).group(1)
    trend = _text(client.get(link.replace("&amp;", "&")))
    trend = trend[trend.index("adult-trend"):]
    assert ">11<" in next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", trend) if "05/2025" in r)
    resp = client.post("/activities/dossiers", data={"month": "05/2025", "dossiers": "120"})
    assert resp.status_code == 400
    text = _text(resp)
    assert ("Phường Vị Thanh có từ ngày 01/07/2025: hồ sơ của các tháng trước đó là của các xã cũ đã hợp thành, "
            "đã được tính.") in text
    # Beside the month, the form keeping what was typed.
    month = re.search(r'<input[^>]*id="month"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in month and 'value="2025-05"' in month and 'value="120"' in text
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(CommuneDossierTotal).where(
        CommuneDossierTotal.commune_id == reformed.vi_thanh.id)) == 0
    # Its own months are entered as before.
    assert client.post("/activities/dossiers", data={"month": "07/2025", "dossiers": "120"}).status_code == 303


def test_a_split_commune_s_main_successor_is_the_one_that_took_its_code_else_most_of_its_hamlets():
    from app.units.history import main_successor
    assert main_successor([(1, "31342", 2), (2, "31338", 1)], "31338") == 2
    assert main_successor([(1, "31360", 1), (2, "31342", 2)], "31338") == 2
    assert main_successor([(1, "31360", 1), (2, "31342", 1)], "31338") == 2  # a tie: the first by code


def _shift_ids(commune_id: int) -> list[int]:
    from app.activities.models import CentreShift
    return list(_db.session.scalars(sa.select(CentreShift.id).where(CentreShift.commune_id == commune_id)
                                    .order_by(CentreShift.held_on)))


def test_a_merged_commune_s_shifts_are_listed_to_the_commune_that_took_it_in_and_a_split_one_s_to_no_part(
        reformed, app, client, login_as):
    march, may = _shift_ids(reformed.old["commune"])
    split = _shift_ids(reformed.old["other_commune"])[0]
    login_as("commune", reformed.vi_thanh)
    listed = _text(client.get("/activities/?kind=shift"))
    for shift_id in (march, may):
        assert f"/activities/shifts/{shift_id}" in listed
    # Each says the commune it was held in.
    entry = listed[listed.index(f"/activities/shifts/{may}"):]
    assert "06/05/2025 · 7 hồ sơ trực tuyến · Phường I" in entry[:entry.index("</li>")]
    assert f"/activities/shifts/{split}" not in listed
    shown = client.get(f"/activities/shifts/{may}")
    assert shown.status_code == 200 and "Phường I" in _text(shown)
    # Read, not changed: the old commune's shift is no longer the officer's to correct.
    assert f"/activities/shifts/{may}/edit" not in _text(shown)
    assert client.get(f"/activities/shifts/{may}/edit").status_code in (403, 404)
    assert client.get(f"/activities/shifts/{split}").status_code == 404
    # Thị trấn Một Ngàn went to two communes: neither part reads its shifts (its figures count on Xã Tân Hòa).
    for part in (reformed.tan_hoa, reformed.thanh_xuan):
        other = app.test_client()
        login_as("commune", part, http=other)
        assert other.get(f"/activities/shifts/{split}").status_code == 404
        assert other.get(f"/activities/shifts/{may}").status_code == 404
    # The province's staff hold every part.
    staff = app.test_client()
    login_as("province", reformed.province, http=staff)
    assert staff.get(f"/activities/shifts/{split}").status_code == 200


def test_the_api_gives_a_new_commune_s_month_before_the_reform_on_today_s_map_and_the_old_one_s_as_it_was(
        reformed, client, login_as):
    from app.api.models import issue_token
    user = login_as("province", reformed.province, username="ttdh-shifts")
    _token, secret = issue_token(user, label="test")
    _db.session.commit()

    def online(query):
        resp = client.get(f"/api/v1/coverage?{query}", headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 200, resp.json
        d = resp.json["adults"]["online_dossiers"]
        return resp.json["unit"]["name"], d["dossiers"], d["commune_dossiers"]

    assert online("unit=31321&month=2025-05&map=today") == ("Phường Vị Thanh", 11, 140)
    assert online("unit=31321&month=2025-05") == ("Phường III", 4, 40)
    assert online("unit=31342&month=2025-05&map=today") == ("Xã Tân Hòa", 6, 30)
    assert online("unit=92&month=2025-05&map=today") == ("Thành phố Cần Thơ", 17, 170)


def test_a_total_corrected_later_on_an_old_commune_shows_at_once_on_the_commune_that_took_it_in(reformed):
    assert _online(_today(reformed.vi_thanh)) == (11, 11, 140)
    activity_ops.set_dossier_total(_db.session.get(AdminUnit, reformed.old["commune"]), 202505, 120)
    _db.session.commit()
    assert _online(_today(reformed.vi_thanh)) == (11, 11, 160)
    assert _online(_today(reformed.province)) == (17, 17, 190)


def test_an_ended_commune_takes_no_dossier_total_for_a_month_from_its_end_which_would_count_on_its_heir(
        reformed, client, login_as):
    """The mirror of the rule above: a total entered on an old commune for a month after the reform would count on
    the commune that took it in, beside that commune's own (only an admin can still open an ended commune's page)."""
    old_i = reformed.old["commune"]
    login_as("admin", reformed.province)
    assert _online(_today(reformed.vi_thanh, (2025, 9))) == (3, 0, 0)
    for month in ("09/2025", "07/2025"):
        resp = client.post(f"/activities/dossiers?commune={old_i}", data={"month": month, "dossiers": "50"})
        assert resp.status_code == 400
        text = _text(resp)
        assert ("Phường I không còn từ ngày 01/07/2025: hồ sơ từ tháng đó trở đi là của các xã mới mà đơn vị "
                "này nhập vào.") in text
        assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="month"[^>]*>', text).group(0)
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(CommuneDossierTotal).where(
        CommuneDossierTotal.commune_id == old_i, CommuneDossierTotal.month >= 202507)) == 0
    assert _online(_today(reformed.vi_thanh, (2025, 9))) == (3, 0, 0)
    # Its own months are still entered there, by an admin: a month's total comes once the month is over, so its last
    # one before the reform comes after it, and the commune that took it in holds no month from before it existed.
    assert client.post(f"/activities/dossiers?commune={old_i}",
                       data={"month": "06/2025", "dossiers": "80"}).status_code == 303


def test_an_ended_commune_s_shifts_are_kept_to_read_by_an_admin_too(reformed, client, login_as):
    """An ended commune's shifts are the history of the communes that took it in: no one corrects them, an admin no
    more than its team or the officer of the commune that took it in (as no one changes a closed month's). A shift
    held after the reform is logged by its team, whose commune it now is."""
    from app.activities.models import CentreShift
    from app.teams.models import Membership
    _march, may = _shift_ids(reformed.old["commune"])
    shift = _db.session.get(CentreShift, may)
    data = {"key": shift.key, "held_on": "2025-05-06", "commune": str(shift.commune_id), "note": "",
            "members": [str(_db.session.scalar(sa.select(Membership.member_id).where(
                Membership.team_id == shift.team_id)))], "people_helped": "10", "dos-dvc": "70", "save": "1"}
    login_as("admin", reformed.province)
    shown = _text(client.get(f"/activities/shifts/{may}"))
    assert ("Tổ chức tại Phường I, đơn vị đã kết thúc từ 01/07/2025 theo phương án sắp xếp: giữ nguyên như đã ghi, "
            "chỉ để xem.") in shown
    assert f"/activities/shifts/{may}/edit" not in shown and f"/activities/shifts/{may}/delete" not in shown
    listed = _text(client.get("/activities/?kind=shift"))
    entry = listed[listed.index(f"/activities/shifts/{may}"):]
    assert f"/activities/shifts/{may}/edit" not in entry[:entry.index("</li>")]
    assert client.get(f"/activities/shifts/{may}/edit").status_code == 403
    assert client.post(f"/activities/shifts/{may}/edit", data=data).status_code == 403
    assert client.post(f"/activities/shifts/{may}/delete", data={}).status_code == 403
    _db.session.expire_all()
    assert _db.session.get(CentreShift, may).dossiers_total == 7
    assert _online(_today(reformed.vi_thanh)) == (7 + 4, 7 + 4, 100 + 40)


def test_a_new_commune_s_shift_cannot_be_moved_to_a_day_before_the_commune_existed(reformed, client, login_as):
    """Corrected to a day before the plan's, it would be a shift of a commune that did not exist: the team held it in
    its old commune, where a shift logged with that date goes (tests/test_reform_classes.py)."""
    from app.activities.models import CentreShift
    from app.teams.models import Membership
    from tests.form_versions import with_version
    shift = _db.session.scalar(sa.select(CentreShift).where(CentreShift.commune_id == reformed.vi_thanh.id))
    url = f"/activities/shifts/{shift.id}/edit"
    data = {"key": shift.key, "held_on": "2025-06-10", "commune": str(shift.commune_id), "note": "",
            "members": [str(_db.session.scalar(sa.select(Membership.member_id).where(
                Membership.team_id == shift.team_id)))], "people_helped": "6", "dos-dvc": "3", "save": "1"}
    login_as("commune", reformed.vi_thanh)
    data = with_version(client, url, data)
    resp = client.post(url, data=data)
    assert resp.status_code == 400
    text = _text(resp)
    assert ("Phường Vị Thanh có từ ngày 01/07/2025: lớp học, ca trực trước ngày đó là của xã, phường mà tổ thuộc về "
            "khi ấy. Hãy xóa bản ghi này và ghi lại với đúng ngày.") in text
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="held_on"[^>]*>', text).group(0)
    _db.session.expire_all()
    assert _db.session.get(CentreShift, shift.id).held_on == date(2025, 9, 3)
    assert client.post(url, data=data | {"held_on": "2025-07-01"}).status_code == 303
