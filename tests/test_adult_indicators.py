"""The adult indicators: ratios of sums at every level, per month in Vietnam's calendar, apart from households."""
import re
from datetime import UTC, date, datetime

import sqlalchemy as sa
import time_machine

from app.coverage.adults import adult_month, adult_months
from app.coverage.queries import coverage
from app.visits.models import Service
from tests import adult_world
from tests.adult_world import COMMUNE, PROVINCE
from tests.form_versions import post_opened


def figures(f):
    return dict(adults=f.adults, attendances=f.attendances, named=f.named, working=f.working, online=f.online,
                online_counted=f.online_counted, commune_dossiers=f.commune_dossiers)


def test_the_communes_and_the_provinces_adult_figures_equal_the_hand_summed_values(db, tree):
    adult_world.build(tree)
    commune, province = adult_month(tree.commune, *adult_world.MONTH), adult_month(tree.province, *adult_world.MONTH)
    assert figures(commune) == COMMUNE
    assert figures(province) == PROVINCE
    assert commune.named_share == 5 / 1800 and province.named_share == 7 / 2400
    assert commune.online_share == 15 / 60 and province.online_share == 15 / 60
    hamlet = adult_month(tree.hamlet, *adult_world.MONTH)
    # Khu vực 1: the class held there (30); its 3 named residents (An counted once) and Em, whose
    # hamlet was not given, counted where the class was held.
    assert (hamlet.attendances, hamlet.named, hamlet.adults) == (30, 4, 1000)


def test_named_learners_accumulate_and_attendances_stay_in_their_month(db, tree):
    adult_world.build(tree)
    months = adult_months([tree.commune], [(2026, 2), (2026, 3), (2026, 4)])[tree.commune.id]
    assert [m.attendances for m in months.values()] == [0, 55, 0]
    assert [m.named for m in months.values()] == [0, 5, 5]


def test_a_month_without_a_dossier_total_has_no_online_share_rather_than_zero(db, tree):
    """February: no shift, no total entered: nothing to divide, so no share (the page shows a dash), and
    every count of the month 0 but the adults."""
    adult_world.build(tree)
    february = adult_months([tree.commune, tree.province], [(2026, 2)])
    for unit in (tree.commune, tree.province):
        f = february[unit.id][(2026, 2)]
        assert (f.online, f.online_counted, f.commune_dossiers, f.attendances) == (0, 0, 0, 0), unit.name
        assert f.online_share is None, unit.name
        assert f.adults > 0, unit.name


def test_a_class_does_not_change_the_household_coverage(db, tree, team, leader):
    from tests.visits_helpers import form, household
    home = household(tree.hamlet)
    resp = leader.post("/visits/new", data=form(home.id, on=date(2026, 3, 2), members=[team[1][0].id],
                                                services={"vneid": "adopted"}))
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    before = coverage(tree.commune, date(2026, 3, 31))
    adult_world.build(tree, household_id=home.id)
    after = coverage(tree.commune, date(2026, 3, 31))
    assert (after.total.households, after.total.reached) == (before.total.households, before.total.reached) == (730, 1)
    adopted = {c: f.adopted for c, f in after.total.services.items()}
    assert adopted == {c: f.adopted for c, f in before.total.services.items()}
    assert after.total.services["vneid"].adopted == 1  # the class's 16 VNeID learners are adults, not households


def test_a_class_on_the_1st_at_six_in_the_morning_vietnam_time_counts_in_that_month(app, db, tree, team):
    import re

    from tests.test_activities import class_form
    from tests.visits_helpers import sign_in_as
    # 23:00 UTC on 28 February is 06:00 on 1 March in Vietnam: the leader logs the class on its form,
    # whose date is today's in Vietnam.
    with time_machine.travel(datetime(2026, 2, 28, 23, 0, tzinfo=UTC), tick=False):
        browser = sign_in_as(app, "team_leader", tree.commune, team=team[0], member=team[1][0])[0]
        page = browser.get("/activities/classes/new").get_data(as_text=True)
        held_on = date.fromisoformat(re.search(r'id="held_on"[^>]*value="([^"]+)"', page).group(1))
        resp = browser.post("/activities/classes/new", data=class_form(db, team[0], team[1], on=held_on))
    assert resp.status_code == 303
    assert adult_month(tree.commune, 2026, 3).attendances == 30
    assert adult_month(tree.commune, 2026, 2).attendances == 0


def _adult_section(client, unit_id: int, query: str = "month=2026-03"):
    """The adult section as the coverage page loads it when scrolled to (htmx)."""
    return client.get(f"/coverage/{unit_id}/adults?{query}", headers={"HX-Request": "true"})


def test_the_adult_section_lists_the_units_active_in_its_month_when_one_below_was_retired(db, tree, client,
                                                                                         login_as):
    """A commune whose Khu vực 2 was retired on 1 March 2025: its section for June lists Khu vực 1 alone,
    for January both, each with its adults."""
    from app.units import operations as unit_ops
    unit_ops.set_adult_count(tree.hamlet, 1000, date(2024, 1, 1))
    unit_ops.set_adult_count(tree.hamlet2, 700, date(2024, 1, 1))
    unit_ops.retire_unit(tree.hamlet2, date(2025, 3, 1))
    db.session.commit()
    login_as("commune", tree.commune)

    def rows(month):
        resp = _adult_section(client, tree.commune.id, f"month={month}")
        assert resp.status_code == 200, month
        return {name: "1.000" in row or "700" in row
                for row in re.findall(r"<tr[^>]*>(.*?)</tr>", resp.get_data(as_text=True), re.S)
                for name in (tree.hamlet.name, tree.hamlet2.name) if f">{name}<" in row}
    assert rows("2025-06") == {tree.hamlet.name: True}
    assert rows("2025-01") == {tree.hamlet.name: True, tree.hamlet2.name: True}


def test_the_coverage_page_shows_the_adult_section_beside_the_households(db, tree, client, login_as):
    adult_world.build(tree)
    login_as("district", tree.district)
    page = client.get(f"/coverage/{tree.district.id}?month=2026-03").get_data(as_text=True)
    assert 'class="table coverage-table"' in page  # the household table, apart
    # The section below it loads on scroll, for the month shown, with a link for a browser without JavaScript.
    placeholder = page[page.index('id="adults"'):]
    assert f'hx-get="/coverage/{tree.district.id}/adults?month=2026-03"' in placeholder
    assert 'hx-trigger="intersect once"' in placeholder and "adults=1" in placeholder
    resp = _adult_section(client, tree.district.id)
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    without_js = client.get(f"/coverage/{tree.district.id}?month=2026-03&adults=1").get_data(as_text=True)
    for section in (resp.get_data(as_text=True), without_js[without_js.index('id="adults"'):]):
        # Phường I: 1.800 adults, 55 attendances, 5 named (0,3 %), 15 online dossiers (25,0 %).
        row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.S) if "Phường I<" in r)
        assert "1.800" in row and ">55<" in row and "0,3%" in row and "25,0%" in row
        assert ">Lượt người học (tháng)<" in section  # the column headers, translated
    # A bookmark of the section alone opens the page with it; a bad month is said where it would be.
    plain = client.get(f"/coverage/{tree.district.id}/adults?month=2026-03")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("adults=1#adults")
    bad = _adult_section(client, tree.district.id, "month=2026-13")
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)


def test_the_adult_section_is_scoped_as_the_page(db, tree, client, login_as):
    """(Team leaders and members get 403: tests/test_access_matrix.py, as for every route.)"""
    adult_world.build(tree)
    login_as("district", tree.district)
    assert _adult_section(client, tree.other_district.id).status_code == 404
    assert _adult_section(client, tree.province.id).status_code == 404
    assert _adult_section(client, tree.commune.id).status_code == 200


def test_province_staff_set_an_adult_target_and_the_coverage_page_shows_it(app, db, tree, client, login_as):
    login_as("province", tree.province)
    page = client.get("/coverage/adult-targets")
    assert page.status_code == 200 and 'name="named_share"' in page.get_data(as_text=True)
    # Sent with nothing typed: said so beside the first share, not "saved".
    resp = post_opened(client, "/coverage/adult-targets", {"named_share": "", "named_due_on": "", "online_share": "",
                                                         "online_due_on": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Hãy nhập tỷ lệ và ngày cho ít nhất một chỉ số." in html
    assert "Đã lưu chỉ tiêu" not in html
    resp = post_opened(client, "/coverage/adult-targets", {"named_share": "80", "named_due_on": "2026-12-31",
                                                         "online_share": "", "online_due_on": ""})
    assert resp.status_code == 303
    assert "80%" in _adult_section(client, tree.province.id).get_data(as_text=True)
    # A share without its date is refused beside the field, and nothing changes.
    resp = post_opened(client, "/coverage/adult-targets", {"online_share": "80", "online_due_on": ""})
    assert resp.status_code == 400 and 'value="80"' in resp.get_data(as_text=True)
    # An administrator bound to a commune has no province to set them for.
    from tests.visits_helpers import sign_in_as
    commune_admin, _user = sign_in_as(app, "admin", tree.commune)
    assert commune_admin.get("/coverage/adult-targets").status_code == 403
    # Opened again, the form holds the target saved.
    again = client.get("/coverage/adult-targets").get_data(as_text=True)
    assert 'value="80"' in again and 'value="2026-12-31"' in again
    from app.coverage.adults import adult_targets
    assert set(adult_targets(tree.province.id)) == {"named_share"}


def test_the_reports_xlsx_csv_page_and_the_api_agree_on_the_adult_figures(db, tree, client, login_as):
    import csv
    import io
    import re

    from openpyxl import load_workbook

    from app.api.models import issue_token
    adult_world.build(tree)
    user = login_as("province", tree.province)
    _token, secret = issue_token(user)
    db.session.commit()
    api = client.get("/api/v1/coverage?unit=930&month=2026-03", headers={"Authorization": f"Bearer {secret}"}).json
    by_code = {c["unit"]["code"]: c["adults"] for c in api["children"]}
    phuong_i = by_code["31318"]
    assert (phuong_i["adults"], phuong_i["attendances"], phuong_i["named"]["learners"]) == (1800, 55, 5)
    assert phuong_i["online_dossiers"]["share"] == 0.25
    working = {w["code"]: w["learners"] for w in phuong_i["working"]}
    assert working["vneid"] == 16 and len(working) == len(api["services"])
    assert sorted(working.values())[0] == 0  # a service no learner came away with reads 0, not missing
    assert api["adults"]["adults"] == 1800 and by_code["31321"]["adults"] == 0

    wb = load_workbook(io.BytesIO(client.get(f"/reports/{tree.district.id}/monthly.xlsx?month=2026-03").data))
    ws = wb["Người trưởng thành · Cấp xã"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
    heads = [c.value for c in ws[header]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=header + 1, values_only=True)}
    col = {h: i for i, h in enumerate(heads)}
    raw = client.get(f"/reports/{tree.district.id}/monthly.csv?month=2026-03").data.decode("utf-8-sig")
    csv_rows = {r[1]: r for r in csv.reader(io.StringIO(raw))}
    csv_col = {h: i for i, h in enumerate(csv_rows["Mã"])}
    for code, a in by_code.items():
        x, c = rows[code], csv_rows[code]
        for head, value in (("Người trưởng thành", a["adults"]), ("Lượt người học trong tháng", a["attendances"]),
                            ("Học viên có tên (lũy kế)", a["named"]["learners"]),
                            ("Hồ sơ trực tuyến được hỗ trợ trong tháng", a["online_dossiers"]["dossiers"])):
            assert x[col[head]] == value and int(c[csv_col[head]]) == value, (code, head)
        assert x[col["Hồ sơ trực tuyến: tỷ lệ trên tổng hồ sơ của các xã"]] == a["online_dossiers"]["share"]
    # Each figure shows as what it is: a share as a percentage, a count as a whole number, on every row down
    # to the total; the code and unit columns stay frozen on the left.
    assert ws.freeze_panes == f"C{header + 1}"
    shares = [h for h in heads[2:] if "tỷ lệ" in h or "chỉ tiêu" in h]
    assert len(shares) == 4
    for row in ws.iter_rows(min_row=header + 1):
        assert row[0].value or row[1].value == "Tổng cộng"
        for cell, head in zip(row[2:], heads[2:]):
            assert cell.number_format == ("0.0%" if head in shares else "#,##0"), (row[1].value, head)
    # A service no learner came away with reads 0, as in the API.
    nobody = next(c for c, n in working.items() if n == 0)
    service = db.session.scalar(sa.select(Service).where(Service.code == nobody))
    learned = f"{service.name_vi}: số học viên sử dụng được trong tháng"
    assert rows["31318"][col[learned]] == 0
    assert rows["31318"][col["Định danh điện tử VNeID mức 2: số học viên sử dụng được trong tháng"]] == 16
    page = client.get(f"/reports/{tree.district.id}/monthly?month=2026-03").get_data(as_text=True)
    adults_part = page[page.index("report-adults"):]
    assert re.search(r'data-unit="31318".*?data-key="adults">1\.800<', adults_part, re.DOTALL)
    assert re.search(r'data-unit="31318".*?data-key="attendances">55<', adults_part, re.DOTALL)
    assert re.search(r'data-unit="31318".*?data-key="online">15<br><small>25,0%', adults_part, re.DOTALL)
    assert re.search(r'data-unit="31318".*?data-key="working:vneid">16<', adults_part, re.DOTALL)
    # The household columns of the CSV are where they were: the adult ones come after them.
    assert list(csv_col)[:4] == ["Cấp", "Mã", "Đơn vị", "Thuộc"]
    assert csv_col["Người trưởng thành"] > csv_col["Số hộ"]


def _sheet(ws) -> tuple[list[dict], dict]:
    """A report sheet read as a reader sees it: its rows under the header (Mã, Đơn vị, …), and the total last."""
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
    heads = [c.value for c in ws[header]]
    rows = [dict(zip(heads, (c.value for c in row))) for row in ws.iter_rows(min_row=header + 1)]
    assert rows[-1]["Đơn vị"] == "Tổng cộng"
    return rows[:-1], rows[-1]


def test_every_adult_sheet_of_the_xlsx_adds_up_to_its_total_and_counts_nobody_twice(db, tree, client, login_as):
    """The adult indicators come a sheet per level, as the household figures do: a reader summing a count column
    of any sheet gets its total (no level listed above another on one sheet, so nobody counted twice); a commune's
    classes held in no hamlet and its shifts are a row of their own under its hamlets."""
    import io

    from openpyxl import load_workbook
    adult_world.build(tree)
    login_as("province", tree.province)
    vneid = "Định danh điện tử VNeID mức 2: số học viên sử dụng được trong tháng"
    counts = ["Người trưởng thành", "Lượt người học trong tháng", "Học viên có tên (lũy kế)",
              "Hồ sơ trực tuyến được hỗ trợ trong tháng", vneid]
    wb = load_workbook(io.BytesIO(client.get(f"/reports/{tree.province.id}/monthly.xlsx?month=2026-03").data))
    assert wb.sheetnames == ["Cấp huyện", "Cấp xã", "Người trưởng thành · Cấp huyện", "Người trưởng thành · Cấp xã"]
    districts, total = _sheet(wb["Người trưởng thành · Cấp huyện"])
    communes, commune_total = _sheet(wb["Người trưởng thành · Cấp xã"])
    assert [r["Mã"] for r in districts] == ["931", "930"] and [r["Mã"] for r in communes] == ["31338", "31318", "31321"]
    for rows, last in ((districts, total), (communes, commune_total)):
        for head in counts:
            assert sum(r[head] for r in rows) == last[head], head
    assert (total["Người trưởng thành"], total["Lượt người học trong tháng"], total["Học viên có tên (lũy kế)"]) \
        == (2400, 75, 7)

    # Phường I's hamlets: its class at the cultural house (25 attendances, 4 with VNeID working) and its shift's 15
    # online dossiers belong to no hamlet, and say so in a row of their own, so the sheet adds up all the same.
    wb = load_workbook(io.BytesIO(client.get(f"/reports/{tree.commune.id}/monthly.xlsx?month=2026-03").data))
    assert wb.sheetnames == ["Các ấp", "Người trưởng thành · Các ấp"]
    hamlets, total = _sheet(wb["Người trưởng thành · Các ấp"])
    assert [r["Đơn vị"] for r in hamlets] == ["Khu vực 1", "Khu vực 2",
                                              "Buổi học, ca trực và người học của xã không thuộc thôn, ấp nào"]
    rest = hamlets[-1]
    assert [rest[head] for head in counts] == [0, 25, 0, 15, 4]
    assert rest["Học viên có tên: tỷ lệ trên số người trưởng thành"] is None
    for head in counts:
        assert sum(r[head] for r in hamlets) == total[head], head
    assert (total["Người trưởng thành"], total["Lượt người học trong tháng"], total["Học viên có tên (lũy kế)"],
            total["Hồ sơ trực tuyến được hỗ trợ trong tháng"]) == (1800, 55, 5, 15)


def test_each_level_of_the_csv_adds_up_to_the_unit_in_its_first_line(db, tree, client, login_as):
    """The CSV is one table, every row with its level (Cấp): the rows of one level add up to the unit's own line,
    a commune's classes and shifts in no hamlet a line of the hamlets' level with its adult figures alone."""
    import csv
    import io
    adult_world.build(tree)
    login_as("province", tree.province)
    counts = ["Người trưởng thành", "Lượt người học trong tháng", "Học viên có tên (lũy kế)",
              "Hồ sơ trực tuyến được hỗ trợ trong tháng", "Số hộ", "Lượt hướng dẫn trong tháng"]
    for unit, levels in ((tree.province, ["Huyện", "Xã"]), (tree.commune, ["Ấp"])):
        raw = client.get(f"/reports/{unit.id}/monthly.csv?month=2026-03").data.decode("utf-8-sig")
        lines = list(csv.DictReader(io.StringIO(raw)))
        first = lines[0]
        assert first["Đơn vị"] == unit.name and {r["Cấp"] for r in lines[1:]} == set(levels)
        for level in levels:
            rows = [r for r in lines if r["Cấp"] == level]
            for head in counts:
                assert sum(int(r[head] or 0) for r in rows) == int(first[head]), (level, head)
    rest = lines[-1]
    assert rest["Đơn vị"] == "Buổi học, ca trực và người học của xã không thuộc thôn, ấp nào"
    heads = ("Mã", "Số hộ", "Lượt người học trong tháng", "Hồ sơ trực tuyến được hỗ trợ trong tháng")
    assert [rest[h] for h in heads] == ["", "", "25", "15"]


def test_a_month_closed_before_the_adult_figures_keeps_its_snapshot(db, tree, client, login_as):
    import json

    from app.reports.models import MonthClosure
    from app.reports.summary import compute_figures
    adult_world.build(tree)
    user = login_as("province", tree.province)
    old = compute_figures(tree.province, 2026, 3, full=True)
    old.pop("adult_targets")
    for f in old["figures"].values():
        f.pop("adults")
    db.session.add(MonthClosure(province_id=tree.province.id, year=2026, month=3, closed_by_id=user.id,
                                snapshot=json.dumps(old)))
    db.session.commit()
    page = client.get(f"/reports/{tree.province.id}/monthly?month=2026-03").get_data(as_text=True)
    assert "report-adults" not in page  # no figures made up for a month frozen without them
    raw = client.get(f"/reports/{tree.province.id}/monthly.csv?month=2026-03").data.decode("utf-8-sig")
    assert "Người trưởng thành" not in raw.splitlines()[0]


def test_the_province_seeds_classes_and_shifts_satisfy_the_schema_and_give_figures(db, tree, team):
    import random

    from app.demo.province import Loader, seed_adults
    from app.visits.models import Service
    loader = Loader()
    hamlets = [(tree.hamlet.id, tree.commune), (tree.hamlet2.id, tree.commune)]
    code_to_id = {c: i for i, c in db.session.execute(sa.select(Service.id, Service.code))}
    counts = seed_adults(loader, random.Random(1), tree.province, hamlets, {tree.hamlet.id: 320, tree.hamlet2.id: 410},
                         [(tree.hamlet.id, tree.commune.id)], team[0].id, code_to_id,
                         date(2026, 1, 1), date(2026, 3, 31), datetime(2026, 4, 1, tzinfo=UTC))
    db.session.commit()
    assert counts["classes"] == 3 * 20  # about 20 classes per commune per month
    march = adult_month(tree.commune, 2026, 3)
    assert 20 * 20 <= march.attendances <= 20 * 200
    # Named learners come from a pool of 400 people per commune: distinct people, fewer than the attendances.
    assert 0 < march.named <= 400 < march.attendances
    assert march.adults > 730 * 2 and march.online > 0 and sum(march.working.values()) > 0


IN_NO_HAMLET = "Buổi học, ca trực và người học của xã không thuộc thôn, ấp nào"


def _adult_tables(html: str) -> dict[str, dict[str, int | None]]:
    """The report page's adult tables as a reader sees them: each row's name (the total: Tổng cộng) and its counts
    by column key (adults, attendances, named, online, working:CODE); "–" reads None. Every cell carries its
    label, which the phone's cards show beside the figure."""
    from tests.html_tree import parse
    part = parse(html).find(id="part-adults")
    rows: dict[str, dict[str, int | None]] = {}
    for tr in part.find_all("tr"):
        th = tr.find(tag="th", scope="row")
        if th is None:
            continue
        cells = rows.setdefault(th.text().strip(), {})
        for td in tr.find_all("td"):
            assert td.attrs.get("data-label"), (th.text(), td.attrs)
            first = td.children[0].strip() if td.children and isinstance(td.children[0], str) else ""
            cells[td.attrs["data-key"]] = None if first == "–" else int(first.replace(".", ""))
    return rows


def _adds_up(rows: dict[str, dict[str, int | None]], keys) -> None:
    total = rows["Tổng cộng"]
    for key in keys:
        assert sum(r[key] for name, r in rows.items() if name != "Tổng cộng") == total[key], key


def test_the_report_page_and_printable_page_show_the_commune_s_classes_and_shifts_in_no_hamlet_as_a_row(
        db, tree, client, login_as):
    """As in the xlsx and the csv, the adult tables of a commune's page (cards on a phone, a table on a desktop: the
    same rows) and of its printable page list its class at the cultural house, its shift's online dossiers and
    their learners in a row of their own under its hamlets, so every column adds up to the total."""
    adult_world.build(tree)
    login_as("province", tree.province)
    keys = ("adults", "attendances", "named", "online", "working:vneid", "working:e_wallet")
    for url in (f"/reports/{tree.commune.id}/monthly?month=2026-03",
                f"/reports/{tree.commune.id}/monthly/print?month=2026-03"):
        page = client.get(url)
        assert page.status_code == 200, url
        rows = _adult_tables(page.get_data(as_text=True))
        assert list(rows) == ["Khu vực 1", "Khu vực 2", IN_NO_HAMLET, "Tổng cộng"], url
        rest = rows[IN_NO_HAMLET]
        assert (rest["adults"], rest["attendances"], rest["named"], rest["online"], rest["working:vneid"]) \
            == (0, 25, 0, 15, 4)
        assert (rows["Tổng cộng"]["attendances"], rows["Tổng cộng"]["named"]) == (55, 5)
        _adds_up(rows, keys)
        # The household tables add up without it: no such row there.
        assert IN_NO_HAMLET not in page.get_data(as_text=True).split('id="part-adults"')[0]
    # The province's page lists its districts, which hold every class and shift: no such row.
    rows = _adult_tables(client.get(f"/reports/{tree.province.id}/monthly?month=2026-03").get_data(as_text=True))
    assert IN_NO_HAMLET not in rows and len(rows) == 3
    _adds_up(rows, keys)


def test_a_learner_counted_in_two_hamlets_never_makes_the_row_in_no_hamlet_negative(db, tree, client, login_as):
    """A learner with no home hamlet at classes held in two hamlets counts in each hamlet and once in the commune:
    the commune's learners in no hamlet are those counted in none (here the one at the cultural house alone), not
    the total less the hamlets (which came to one less than none); the page says why the hamlets' column adds up to
    more than the total, and the xlsx and the csv give the same row."""
    import csv
    import io

    from openpyxl import load_workbook
    adult_world.build(tree)  # Võ Văn Em, no home given, at the class held in Khu vực 1
    adult_world.add_class(tree.commune, date(2026, 3, 25), 10, (0, 10, 0), hamlet=tree.hamlet2,
                          named=[("Võ Văn Em", 2008, None, None)])
    db.session.commit()
    login_as("commune", tree.commune)
    url = f"/reports/{tree.commune.id}/monthly?month=2026-03"
    html = client.get(url).get_data(as_text=True)
    rows = _adult_tables(html)
    assert (rows["Khu vực 1"]["named"], rows["Khu vực 2"]["named"], rows["Tổng cộng"]["named"]) == (4, 2, 5)
    assert rows[IN_NO_HAMLET]["named"] == 0
    assert "Học viên có tên của các ấp cộng lại nhiều hơn của xã 1 người" in html
    _adds_up(rows, ("adults", "attendances", "online", "working:vneid"))

    # Someone at a class held in no hamlet, their home not given: counted in no hamlet, and so in the row.
    adult_world.add_class(tree.commune, date(2026, 3, 28), 8, (0, 8, 0), named=[("Mai Văn Tư", 1975, None, None)])
    db.session.commit()
    rows = _adult_tables(client.get(url).get_data(as_text=True))
    assert (rows[IN_NO_HAMLET]["named"], rows["Tổng cộng"]["named"]) == (1, 6)
    assert (rows[IN_NO_HAMLET]["attendances"], rows["Tổng cộng"]["attendances"]) == (25 + 8, 55 + 10 + 8)
    _adds_up(rows, ("adults", "attendances", "online", "working:vneid"))

    wb = load_workbook(io.BytesIO(client.get(f"/reports/{tree.commune.id}/monthly.xlsx?month=2026-03").data))
    hamlets, _total = _sheet(wb["Người trưởng thành · Các ấp"])
    assert hamlets[-1]["Đơn vị"] == IN_NO_HAMLET and hamlets[-1]["Học viên có tên (lũy kế)"] == 1
    raw = client.get(f"/reports/{tree.commune.id}/monthly.csv?month=2026-03").data.decode("utf-8-sig")
    line = next(r for r in csv.DictReader(io.StringIO(raw)) if r["Đơn vị"] == IN_NO_HAMLET)
    assert line["Học viên có tên (lũy kế)"] == "1"
    # The same in the month after, the named learners standing: still none below zero.
    rows = _adult_tables(client.get(f"/reports/{tree.commune.id}/monthly?month=2026-04").get_data(as_text=True))
    assert rows[IN_NO_HAMLET]["named"] == 1 and rows[IN_NO_HAMLET]["attendances"] == 0
