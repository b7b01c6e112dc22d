"""A commune reorganized twice: Phường I went into Phường Vị Thanh on 2025-07-01, and a later plan put that commune
and Xã Tân Hòa into a new Phường Vị Thanh from 2026-01-01 (a plan ends every commune it names and makes it again).
The commune holding Phường I's hamlets now is its heir through the first Vị Thanh: its officer reads Phường I's
pages, classes and shifts, its figures count Phường I's, and the map as it was before either plan stays as it was."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities import operations as activity_ops
from app.activities.models import CentreShift, Class
from app.extensions import db as _db
from app.reports import exports
from app.reports.summary import build_summary
from app.units import operations as units
from app.units.models import AdminUnit, unit_for_code
from tests.test_reform_classes import _class, _classes
from tests.test_reform_shifts import _csv, _online, _shift, _text, _today, apply_plan
from tests.test_reorganize import plan_csv, reorganize
from tests.visits_helpers import make_team

MAY = (2025, 5)
# Cần Thơ again: Xã Tân Hòa (Thị trấn Một Ngàn's main successor) joins Phường Vị Thanh; Xã Thạnh Xuân carries on.
SECOND = [("92", "", "92"), ("31321", "", "31321"), ("31342", "", "31321"), ("31360", "", "31360")]


@pytest.fixture
def twice(db, tree, runner, tmp_path):
    """May 2025 on the old map: a shift, a class and a dossier total of Phường I, a shift of Thị trấn Một Ngàn (split
    by the first plan), totals of the three communes; then both plans, through `flask units reorganize`."""
    for name, commune in (("Khu vực 3", tree.sibling_commune), ("Ấp Nhơn Lộc", tree.other_commune),
                          ("Ấp Nhơn Thuận", tree.other_commune)):
        units.set_household_count(units.create_unit(name, "hamlet", commune), 100, date(2024, 1, 1))
    team_i, _m = make_team(tree.commune, [tree.hamlet], name="Tổ Phường I")
    team_split, _m = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ Một Ngàn")
    _shift(tree.commune, team_i, date(2025, 5, 6), 7)
    _shift(tree.other_commune, team_split, date(2025, 5, 15), 6)
    _class(tree.commune, team_i, date(2025, 5, 8), 30, [("Nguyễn Văn An", 1970, tree.hamlet)], tree.hamlet, 12)
    for commune, n in ((tree.commune, 100), (tree.sibling_commune, 40), (tree.other_commune, 30)):
        activity_ops.set_dossier_total(commune, 202505, n)
    _db.session.commit()
    old = {name: getattr(tree, name).id for name in ("province", "commune", "other_commune")}
    first_vi_thanh = apply_plan(runner, tmp_path)["31321"].id
    may = exports.write_csv(build_summary(_db.session.get(AdminUnit, old["province"]), *MAY))
    result = reorganize(runner, plan_csv(tmp_path, SECOND, name="second.csv", day="2026-01-01"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    vi_thanh = unit_for_code("31321")
    assert vi_thanh.valid_from == date(2026, 1, 1) and vi_thanh.id != first_vi_thanh
    return type("Twice", (), {
        "old": old, "may_csv": may, "vi_thanh": vi_thanh, "first_vi_thanh": first_vi_thanh,
        "thanh_xuan": unit_for_code("31360"), "province": unit_for_code("92"),
        "shift": _db.session.scalar(sa.select(CentreShift.id).where(CentreShift.commune_id == old["commune"])),
        "split_shift": _db.session.scalar(sa.select(CentreShift.id).where(
            CentreShift.commune_id == old["other_commune"])),
        "klass": _db.session.scalar(sa.select(Class.id).where(Class.commune_id == old["commune"]))})


def _entry(listed: str, href: str) -> str:
    """The list item of the entry linking to href."""
    return next(li for li in re.findall(r"<li[^>]*>.*?</li>", listed) if f'href="{href}"' in li)


def test_the_officer_of_the_commune_holding_a_twice_reorganized_commune_reads_its_pages_classes_and_shifts(
        twice, app, client, login_as):
    login_as("commune", twice.vi_thanh)
    assert client.get(f"/coverage/{twice.old['commune']}?month=2025-05").status_code == 200
    # Its classes and dossiers of May 2025 as the map was: 30 learners; the shift's 7 dossiers of the month's 100.
    adults = _text(client.get(f"/coverage/{twice.old['commune']}/adults?month=2025-05",
                              headers={"HX-Request": "true"}))
    total = re.search(r'<tr class="total"><th scope="row">Tổng: Phường I</th>(.*?)</tr>', adults).group(1)
    assert re.findall(r">([^<>]*)</td>", total) == ["0", "30", "1", "–", "7", "7,0%"]
    shifts = _text(client.get("/activities/?kind=shift"))
    assert "06/05/2025 · 7 hồ sơ trực tuyến · Phường I" in _entry(shifts, f"/activities/shifts/{twice.shift}")
    shown = client.get(f"/activities/shifts/{twice.shift}")
    assert shown.status_code == 200
    assert ("Tổ chức tại Phường I, đơn vị đã kết thúc từ 01/07/2025 theo phương án sắp xếp: giữ nguyên như đã ghi, "
            "chỉ để xem.") in _text(shown)
    assert f"/activities/classes/{twice.klass}" in _text(client.get("/activities/?kind=class"))
    assert client.get(f"/activities/classes/{twice.klass}").status_code == 200
    # Thị trấn Một Ngàn was split in 2025: its other part went on into Xã Thạnh Xuân, so it is the province's.
    assert f"/activities/shifts/{twice.split_shift}" not in shifts
    assert client.get(f"/activities/shifts/{twice.split_shift}").status_code == 404
    staff = app.test_client()
    login_as("province", twice.province, http=staff)
    assert staff.get(f"/activities/shifts/{twice.split_shift}").status_code == 200
    # Another commune of the province reads none of Phường I's.
    other = app.test_client()
    login_as("commune", twice.thanh_xuan, http=other)
    for url in (f"/coverage/{twice.old['commune']}?month=2025-05", f"/activities/shifts/{twice.shift}",
                f"/activities/classes/{twice.klass}", f"/activities/shifts/{twice.split_shift}"):
        assert other.get(url).status_code == 404, url
    assert f"/activities/shifts/{twice.shift}" not in _text(other.get("/activities/?kind=shift"))


def test_on_today_s_map_the_commune_counts_what_the_communes_it_took_in_through_both_plans_did(
        twice, client, login_as):
    # Phường I's and Phường III's totals and Phường I's shift through the first Vị Thanh; Thị trấn Một Ngàn's shift
    # and total through Xã Tân Hòa, its main successor.
    assert _online(_today(twice.vi_thanh, MAY)) == (7 + 6, 7 + 6, 100 + 40 + 30)
    assert _classes(_today(twice.vi_thanh, MAY)) == (30, 1, 12)
    assert _online(_today(twice.thanh_xuan, MAY)) == (0, 0, 0)
    assert _online(_today(twice.province, MAY)) == (13, 13, 170)
    login_as("commune", twice.vi_thanh)
    online, dossiers = "Hồ sơ trực tuyến được hỗ trợ trong tháng", "Tổng hồ sơ của các xã trong tháng"
    row = _csv(client, twice.vi_thanh, "2025-05")["Phường Vị Thanh"]
    assert (row[online], row[dossiers]) == ("13", "170")


def test_the_map_as_it_was_before_the_first_plan_stays_the_same_after_the_second(twice, client, login_as):
    province = _db.session.get(AdminUnit, twice.old["province"])
    assert exports.write_csv(build_summary(province, *MAY)) == twice.may_csv
    assert build_summary(_db.session.get(AdminUnit, twice.old["commune"]), *MAY).total["households"] == 320 + 410
    # Phường I's page of May 2025 (as the map was, an ended unit's default) holds its two hamlets, read by the staff
    # of the province today.
    login_as("province", twice.province)
    page = client.get(f"/coverage/{twice.old['commune']}?month=2025-05")
    assert page.status_code == 200
    cards = re.findall(r'<ul class="unit-cards">(.*?)</ul>', _text(page))[0]
    assert [(name, n) for name, n in re.findall(r">([^<>]+)</a>.*?/ ([\d.]+) ·", cards)] == [
        ("Khu vực 1", "320"), ("Khu vực 2", "410")]
    assert "Tổng: Phường I" in cards and "0 hộ / 730" in cards


def _links(page: str) -> list[str]:
    """The units an ended unit's page links to, where its hamlets are: their ids."""
    return re.findall(r'href="/coverage/(\d+)\?', re.search(r'<p class="unit-links">(.*?)</p>', page).group(1))


def test_an_ended_commune_s_page_links_to_where_its_hamlets_are_now_and_says_where_they_went_first(
        twice, client, login_as):
    login_as("province", twice.province)
    page = _text(client.get(f"/coverage/{twice.old['commune']}?month=2025-05"))
    assert ("Kết thúc từ 01/07/2025; các thôn, ấp chuyển về Phường Vị Thanh, nay đã được sắp xếp lại; hiện thuộc:"
            in page)
    assert _links(page) == [str(twice.vi_thanh.id)]
    # A month it no longer stood in says the same.
    page = _text(client.get(f"/coverage/{twice.old['commune']}?month=2026-02"))
    assert ("Phường I không tồn tại vào 02/2026. Từ 01/07/2025 các thôn, ấp của đơn vị chuyển về Phường Vị Thanh, nay "
            "đã được sắp xếp lại; hiện thuộc:") in page
    assert _links(page) == [str(twice.vi_thanh.id)]
    # Thị trấn Một Ngàn was split between Xã Tân Hòa, which the second plan put into Phường Vị Thanh, and Xã Thạnh Xuân,
    # made again by it.
    page = _text(client.get(f"/coverage/{twice.old['other_commune']}?month=2025-05"))
    assert ("Kết thúc từ 01/07/2025; các thôn, ấp chuyển về Xã Tân Hòa, Xã Thạnh Xuân, nay đã được sắp xếp lại; hiện "
            "thuộc:") in page
    assert _links(page) == [str(twice.vi_thanh.id), str(twice.thanh_xuan.id)]
    # The first Phường Vị Thanh, ended by the second plan: where its hamlets went is where they are.
    page = _text(client.get(f"/coverage/{twice.first_vi_thanh}?month=2025-09"))
    assert "Kết thúc từ 01/01/2026; các thôn, ấp chuyển về:" in page
    assert _links(page) == [str(twice.vi_thanh.id)]
