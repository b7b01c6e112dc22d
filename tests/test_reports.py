"""Monthly summary: figures, page, printable version, xlsx/CSV exports and the CLI agree."""
import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.reports.exports import neutralise
from app.reports.summary import build_summary
from tests.html_tree import parse
from tests.report_data import Activity

MONTH = "2024-10"


@pytest.fixture
def activity(tree):
    return Activity(tree)


def test_october_figures_of_the_province(tree, activity):
    s = build_summary(tree.province, 2024, 10)
    t = s.total
    assert (t["teams"], t["active_teams"], t["members"]) == (2, 2, 4)
    assert (t["visits"], t["reached_month"]) == (4, 4)
    assert (t["households"], t["reached"]) == (1260, 5)
    wallet, vneid = t["services"]
    assert (wallet["new"], wallet["adopted"], wallet["target"]) == (3, 4, 0.5)
    assert wallet["coverage"] == pytest.approx(4 / 1260)
    assert (vneid["new"], vneid["adopted"], vneid["target"]) == (1, 1, None)
    # Children in Vietnamese name order, as on the coverage page (not by GSO code).
    assert [r["code"] for r in s.children] == ["931", "930"]
    assert [lvl for lvl, _rows in s.levels] == ["district", "commune"]


def test_every_active_service_counts_its_new_adoptions_the_catalogues_first_too(tree, activity, db):
    # The online public services account, first in the default catalogue, made active beside the two:
    # Hộ Năm adopted it in October and Hộ Một in November.
    from datetime import date

    from app.visits.models import Service
    from tests.report_data import visit
    dvc = db.session.scalar(sa.select(Service).where(Service.code == "dvc"))
    dvc.active = True
    visit(activity.households["h5"], date(2024, 10, 20), activity.other_team, {dvc: "adopted"})
    visit(activity.households["h1"], date(2024, 11, 3), activity.team, {dvc: "adopted"})
    db.session.commit()
    october = build_summary(tree.province, 2024, 10).total
    figures = {svc["code"]: (svc["new"], svc["adopted"]) for svc in october["services"]}
    assert figures == {"dvc": (1, 1), "e_wallet": (3, 4), "vneid": (1, 1)}
    hamlet = next(r for r in build_summary(tree.other_commune, 2024, 11).children if r["id"] == tree.other_hamlet.id)
    assert {svc["code"]: (svc["new"], svc["adopted"]) for svc in hamlet["services"]}["dvc"] == (0, 1)
    commune = build_summary(tree.commune, 2024, 11).total
    assert {svc["code"]: (svc["new"], svc["adopted"]) for svc in commune["services"]}["dvc"] == (1, 1)


def test_each_parent_is_the_ratio_of_its_childrens_sums(tree, activity):
    s = build_summary(tree.province, 2024, 10)
    for parent_rows, child_rows in ((([s.total]), s.levels[0][1]), (s.levels[0][1], s.levels[1][1])):
        for parent in parent_rows:
            kids = [r for r in child_rows if r["parent_id"] == parent["id"]] if parent is not s.total else child_rows
            households = sum(k["households"] for k in kids)
            assert parent["households"] == households
            for i, svc in enumerate(parent["services"]):
                adopted = sum(k["services"][i]["adopted"] for k in kids)
                assert svc["adopted"] == adopted
                assert svc["coverage"] == pytest.approx(adopted / households)


def test_commune_report_lists_its_hamlets(tree, activity):
    s = build_summary(tree.commune, 2024, 10)
    assert [lvl for lvl, _rows in s.levels] == ["hamlet"]
    assert {r["name"]: r["reached_month"] for r in s.children} == {"Khu vực 1": 2, "Khu vực 2": 1}
    assert s.total["teams"] == 1 and s.total["members"] == 3



def test_a_quiet_commune_and_a_quiet_hamlet_report_zeros_beside_active_ones(tree, activity, db):
    # Phường III (tree.sibling_commune) has no team, no visit and no adoption: every figure of its row is 0;
    # so has a hamlet of Phường I that no team serves and nobody visited.
    from datetime import date

    from app.units.operations import create_unit, set_household_count
    quiet_hamlet = create_unit("Khu vực 9", "hamlet", tree.commune)
    set_household_count(quiet_hamlet, 150, date(2024, 1, 1))
    db.session.commit()
    hamlets = {r["id"]: r for r in build_summary(tree.commune, 2024, 10).children}
    figures = ("teams", "active_teams", "members", "visits", "reached_month", "reached", "households")
    assert [hamlets[quiet_hamlet.id][k] for k in figures] == [0, 0, 0, 0, 0, 0, 150]
    assert [(svc["new"], svc["adopted"]) for svc in hamlets[quiet_hamlet.id]["services"]] == [(0, 0), (0, 0)]
    assert [hamlets[tree.hamlet.id][k] for k in figures[:5]] == [1, 1, 3, 2, 2]
    s = build_summary(tree.district, 2024, 10)
    rows = {r["id"]: r for r in s.children}
    quiet, active = rows[tree.sibling_commune.id], rows[tree.commune.id]
    assert [quiet[k] for k in ("teams", "active_teams", "members", "visits", "reached_month", "reached")] == [0] * 6
    assert [(svc["new"], svc["adopted"]) for svc in quiet["services"]] == [(0, 0), (0, 0)]
    assert [active[k] for k in ("teams", "active_teams", "members", "visits", "reached_month", "reached")] == \
        [1, 1, 3, 3, 3, 4]
    assert [(svc["new"], svc["adopted"]) for svc in active["services"]] == [(2, 3), (1, 1)]


def test_teams_and_members_count_as_they_stood_on_the_month_s_last_day(tree, activity, db):
    # October 2024 ends on the 31st: a team set up that day counts, one dissolved that day does not; a
    # member who joined that day counts, one who left that day does not.
    from datetime import date

    from app.teams.models import Membership
    from tests.report_data import make_team
    founded = make_team(tree.sibling_commune, [], ["Đỗ Văn Một", "Đỗ Văn Hai", "Đỗ Văn Ba"])
    founded.decision_date = date(2024, 10, 31)
    one, two, three = db.session.query(Membership).filter_by(team_id=founded.id).order_by(Membership.id).all()
    one.joined_on = two.joined_on = three.joined_on = date(2024, 10, 31)
    three.joined_on, three.left_on = date(2024, 10, 1), date(2024, 10, 31)
    dissolved = make_team(tree.sibling_commune, [], ["Đỗ Thị Bốn"])
    dissolved.name, dissolved.name_folded, dissolved.dissolved_on = "Tổ giải thể", "to giai the", date(2024, 10, 31)
    db.session.commit()

    def sibling(month):
        row = next(r for r in build_summary(tree.district, 2024, month).children if r["id"] == tree.sibling_commune.id)
        return row["teams"], row["members"]
    assert sibling(9) == (1, 1)  # only the team dissolved on 31 October, with its member
    assert sibling(10) == (1, 2)  # only the team set up on 31 October, with the two who had not left

def _xlsx_rows(data: bytes, sheet_index: int = 0):
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[sheet_index]
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value in ("Mã", "Code"))
    heads = [c.value for c in ws[header_row]]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=header_row + 1)]
    return wb, ws, header_row, heads, rows


def test_a_team_dissolved_after_its_visits_counts_among_the_months_teams_and_never_fewer_than_the_active(
        tree, activity, db):
    # Thị trấn Một Ngàn's team visits Hộ Năm on 7 October and is dissolved on the 20th: October counts it
    # as a team, active, with no member left at the month's end; in November it is gone.
    from datetime import date
    activity.other_team.dissolved_on = date(2024, 10, 20)
    db.session.commit()

    def row(root, unit, month):
        r = next(r for r in build_summary(root, 2024, month).children if r["id"] == unit.id)
        return r["teams"], r["active_teams"], r["members"]
    assert row(tree.other_district, tree.other_commune, 10) == (1, 1, 0)
    assert row(tree.other_commune, tree.other_hamlet, 10) == (1, 1, 0)
    assert row(tree.other_district, tree.other_commune, 11) == (0, 0, 0)
    assert row(tree.other_commune, tree.other_hamlet, 11) == (0, 0, 0)
    october = build_summary(tree.province, 2024, 10).total
    assert (october["teams"], october["active_teams"]) == (2, 2)


def test_xlsx_has_sheets_headers_numbers_and_totals(tree, activity, login_as, client):
    login_as("province", tree.province)
    resp = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    wb, ws, header_row, heads, rows = _xlsx_rows(resp.data)
    # Vietnamese interface, Vietnamese sheet names; the adult indicators on sheets of their own, a level each, last.
    assert wb.sheetnames == ["Cấp huyện", "Cấp xã", "Người trưởng thành · Cấp huyện", "Người trưởng thành · Cấp xã"]
    assert "Tháng 10/2024" in ws["A1"].value or "10/2024" in ws["A1"].value
    assert ws.freeze_panes == f"C{header_row + 1}"
    assert heads[:4] == ["Mã", "Đơn vị", "Số tổ", "Số tổ hoạt động trong tháng"]
    by_code = {r[0]: r for r in rows if r[0]}
    col = {h: i for i, h in enumerate(heads)}
    vi_thanh = by_code["930"]
    assert vi_thanh[col["Lượt hướng dẫn trong tháng"]] == 3
    assert isinstance(vi_thanh[col["Số hộ"]], int) and vi_thanh[col["Số hộ"]] == 730
    cov_col = col["Ví điện tử / Mobile Money: tỷ lệ bao phủ"]
    assert vi_thanh[cov_col] == pytest.approx(3 / 730)
    assert ws.cell(header_row + 1, cov_col + 1).number_format == "0.0%"
    total = rows[-1]
    assert total[1] == "Tổng cộng"
    assert total[col["Số hộ"]] == 1260 and total[cov_col] == pytest.approx(4 / 1260)
    _wb, communes, cheader, cheads, crows = _xlsx_rows(resp.data, 1)
    assert cheads[2] == "Thuộc"
    # With the parent's column the figures start one column later, and so do the frozen panes and formats.
    assert communes.freeze_panes == f"D{cheader + 1}"
    first_figures = communes[cheader + 1]
    assert (first_figures[2].number_format, first_figures[3].number_format) == ("General", "#,##0")
    assert [r[0] for r in crows[:-1]] == ["31338", "31318", "31321"]  # under their districts, in name order


def test_csv_has_bom_one_header_and_plain_numbers(tree, activity, login_as, client):
    login_as("province", tree.province, locale="en")
    resp = client.get(f"/reports/{tree.province.id}/monthly.csv?month={MONTH}")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:5] == ["Level", "Code", "Unit", "Belongs to", "Number of teams"]
    body = {r[1]: dict(zip(head, r)) for r in rows[1:]}
    assert body["93"]["Households"] == "1260"
    assert body["93"]["E-wallet / Mobile Money: coverage"] == f"{4 / 1260:.4f}"
    assert body["31318"]["Belongs to"] == "Thành phố Vị Thanh"
    assert body["931"]["Visits in the month"] == "1"


def test_page_xlsx_csv_cli_and_api_agree(tree, activity, login_as, client, runner, tmp_path, db):
    """The same unit and month give the same numbers everywhere."""
    from app.api.models import issue_token
    user = login_as("province", tree.province)
    page = client.get(f"/reports/{tree.province.id}/monthly?month={MONTH}").get_data(as_text=True)
    xlsx = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}").data
    out = tmp_path / "r.xlsx"
    res = runner.invoke(args=["report", "monthly", "--unit", "93", "--month", MONTH, "--format", "xlsx",
                              "--output", str(out)])
    assert res.exit_code == 0, res.output
    outcsv = tmp_path / "r.csv"
    res = runner.invoke(args=["report", "monthly", "--unit", "93", "--month", MONTH, "--format", "csv",
                              "--output", str(outcsv)])
    assert res.exit_code == 0, res.output
    _token, secret = issue_token(user)
    db.session.commit()
    api = client.get(f"/api/v1/coverage?unit=93&month={MONTH}", headers={"Authorization": f"Bearer {secret}"}).json

    for data in (xlsx, out.read_bytes()):
        _wb, _ws, _hr, heads, rows = _xlsx_rows(data)
        col = {h: i for i, h in enumerate(heads)}
        by_code = {r[0] or "total": r for r in rows}
        for child in api["children"]:
            row = by_code[child["unit"]["code"]]
            assert row[col["Số hộ"]] == child["households"]
            assert row[col["Số hộ đã được hướng dẫn (lũy kế)"]] == child["reach"]["households"]
            assert row[col["Ví điện tử / Mobile Money: số hộ sử dụng"]] == child["services"][0]["adopted"]
    crow = {r[1]: r for r in csv.reader(io.StringIO(outcsv.read_bytes().decode("utf-8-sig")))}
    assert crow["93"][:3] == ["Tỉnh", "93", "Tỉnh Hậu Giang"]
    assert api["households"] == 1260 and api["services"][0]["adopted"] == 4
    # The page shows the same figures, formatted for Vietnamese (1.260).
    assert re.search(r'data-unit="93".*?data-key="households">1\.260<', page, re.DOTALL)
    assert re.search(r'data-unit="930".*?data-key="visits">3<', page, re.DOTALL)
    assert re.search(r'data-unit="930".*?data-key="adopted:e_wallet">3<br><small>0,4%', page, re.DOTALL)


def test_formula_like_names_come_out_as_text(tree, activity, login_as, client, db):
    evil = '=HYPERLINK("http://x","y")'
    tree.sibling_commune.set_name(evil)
    activity.wallet.name_vi = "+Ví"
    db.session.commit()
    login_as("province", tree.province)
    xlsx = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}")
    wb = load_workbook(io.BytesIO(xlsx.data))
    communes = wb.worksheets[1]
    cells = [c for row in communes.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.value == "'" + evil and c.data_type == "s" for c in cells)
    assert any(c.value == "'+Ví: tỷ lệ bao phủ" for c in communes[4])
    text = client.get(f"/reports/{tree.province.id}/monthly.csv?month={MONTH}").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and '\n"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    page = client.get(f"/reports/{tree.province.id}/monthly?month={MONTH}")
    assert page.status_code == 200


@pytest.mark.parametrize("value", ["=1+1", "+84", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_formula_starts(value):
    assert neutralise(value) == "'" + value
    assert neutralise("Ấp 1") == "Ấp 1" and neutralise(12) == 12


def test_printable_version_has_title_month_and_date(tree, activity, login_as, client):
    login_as("district", tree.district)
    resp = client.get(f"/reports/{tree.district.id}/monthly/print?month={MONTH}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "report-print.css" in html and "Thành phố Vị Thanh" in html and "10/2024" in html
    assert "Ngày lập" in html


def test_a_month_written_as_people_write_it_is_the_same_month(tree, activity, login_as, client):
    """'10/2024', as the page itself shows months, is October 2024: the same summary and downloads."""
    login_as("province", tree.province)
    written = client.get(f"/reports/{tree.province.id}/monthly?month=10/2024")
    plain = client.get(f"/reports/{tree.province.id}/monthly?month={MONTH}")
    assert written.status_code == 200
    def main(resp):
        return resp.get_data(as_text=True).split("<main")[1].split("</main>")[0]

    assert main(written) == main(plain)
    page = parse(written.get_data(as_text=True))
    assert page.find(id="month").attrs["value"] == MONTH
    assert client.get(f"/reports/{tree.province.id}/monthly.csv?month=10/2024").data == client.get(
        f"/reports/{tree.province.id}/monthly.csv?month={MONTH}").data
    # Its parts, to go straight to one on a phone, each leading to its table.
    parts = page.find(**{"class": "report-parts"})
    for link in parts.find_all("a"):
        assert page.find(id=link.attrs["href"][1:]).tag == "section"
    assert [a.text() for a in parts.find_all("a")][:3] == [
        "Hoạt động trong tháng", "Số hộ mới sử dụng trong tháng", "Tỷ lệ bao phủ đến cuối tháng"]


@pytest.mark.parametrize("month,message", [
    ("2024-13", "tháng/năm, ví dụ 10/2024"), ("abc", "tháng/năm, ví dụ 10/2024"), ("2999-01", "chưa bắt đầu"),
    ("", "tháng/năm, ví dụ 10/2024")])
def test_bad_month_is_a_400_with_a_message(tree, login_as, client, month, message):
    login_as("province", tree.province)
    for suffix in ("", ".xlsx", ".csv", "/print"):
        resp = client.get(f"/reports/{tree.province.id}/monthly{suffix}?month={month}")
        assert resp.status_code == 400
        html = resp.get_data(as_text=True)
        assert message in html and f'value="{month}"' in html


def test_units_outside_scope_are_not_found(tree, activity, login_as, client):
    login_as("district", tree.district)
    for suffix in ("", ".xlsx", ".csv", "/print"):
        assert client.get(f"/reports/{tree.other_district.id}/monthly{suffix}?month={MONTH}").status_code == 404
        assert client.get(f"/reports/{tree.province.id}/monthly{suffix}?month={MONTH}").status_code == 404
    assert client.get(f"/reports/{tree.commune.id}/monthly?month={MONTH}").status_code == 200


def test_field_users_cannot_open_reports(tree, login_as, client):
    login_as("team_member", tree.commune)
    assert client.get(f"/reports/{tree.commune.id}/monthly?month={MONTH}").status_code == 403


def test_cli_errors_are_clear(tree, runner, tmp_path):
    out = str(tmp_path / "x.xlsx")
    res = runner.invoke(args=["report", "monthly", "--unit", "99999", "--month", MONTH, "--output", out])
    assert res.exit_code != 0 and "no unit" in res.output
    # A month written either way is read (10/2024 as the pages take it); anything else is refused.
    res = runner.invoke(args=["report", "monthly", "--unit", "93", "--month", "2024/10", "--output", out])
    assert res.exit_code != 0 and "YYYY-MM" in res.output
    # Each option a report needs, left out, is named (a usage error, exit 2), nothing written.
    whole = {"monthly": ["--month", MONTH], "quarterly": ["--quarter", "2024-Q4"]}
    for command, period in whole.items():
        args = [*period, "--unit", "93", "--output", out]
        for at in range(0, len(args), 2):
            res = runner.invoke(args=["report", command, *args[:at], *args[at + 2:]])
            assert res.exit_code == 2 and f"Missing option '{args[at]}'" in res.output, (command, res.output)
    assert not (tmp_path / "x.xlsx").exists()
    # A scheduled job whose folder is gone gets one line saying so, not a traceback.
    missing = tmp_path / "gone" / "x.xlsx"
    res = runner.invoke(args=["report", "monthly", "--unit", "93", "--month", MONTH, "--output", str(missing)])
    assert res.exit_code == 1 and res.exception is not None and isinstance(res.exception, SystemExit)
    assert f"could not write {missing}: No such file or directory" in res.output


def test_cli_english_headers(tree, activity, runner, tmp_path):
    out = tmp_path / "en.xlsx"
    res = runner.invoke(args=["report", "monthly", "--unit", "930", "--month", MONTH, "--locale", "en",
                              "--output", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Communes", "Adults · Communes"]
    assert re.fullmatch(r"Produced on [A-Z][a-z]{2} \d{1,2}, \d{4}", wb.worksheets[0]["A2"].value)  # Dec 5, 2026
    assert [c.value for c in wb.worksheets[0][4]][:3] == ["Code", "Unit", "Number of teams"]


def test_nav_shows_reports_for_staff(tree, login_as, client):
    login_as("district", tree.district)
    html = client.get(f"/units/{tree.district.id}").get_data(as_text=True)
    assert "/reports/" in html and "Báo cáo" in html


def test_a_unit_retired_by_the_months_end_leaves_that_months_report_on_todays_map(tree, activity, db):
    # Phường I ended on 31 October: on today's map October's report no longer has it (nor its visits);
    # September's, when it still stood, does.
    from datetime import date

    from app.units import operations as unit_ops
    unit_ops.retire_unit(tree.commune, date(2024, 10, 31))
    db.session.commit()
    october = build_summary(tree.district, 2024, 10)
    assert [r["code"] for r in october.children] == ["31321"] and october.total["visits"] == 0
    assert build_summary(tree.province, 2024, 10).total["visits"] == 1  # Thị trấn Một Ngàn's
    september = build_summary(tree.district, 2024, 9)
    assert [r["code"] for r in september.children] == ["31318", "31321"] and september.total["visits"] == 1


def test_sheet_names_are_ones_excel_opens_and_never_repeat():
    """Excel refuses a workbook whose sheet name is over 31 characters, holds []:*?/\\ or repeats one."""
    from app.reports.exports import _sheet_name
    used = set()
    long = "Cấp xã: Phường Vị Thanh [mới]/2025?* và các xã sáp nhập"
    first = _sheet_name(long, used)
    assert len(first) == 31 and not set("[]:*?/\\") & set(first) and first.startswith("Cấp xã  Phường Vị Thanh  mới ")
    again = [_sheet_name(long, used) for _ in range(2)]
    assert again == [first[:28] + " 2", first[:28] + " 3"]
    assert _sheet_name("", used) == "Sheet" and _sheet_name("", used) == "Sheet 2"


@pytest.mark.parametrize("today, month, quarter", [
    ("2027-01-15", "2026-12", "2026-Q4"), ("2027-02-01", "2027-01", "2026-Q4"), ("2027-03-31", "2027-02", "2026-Q4"),
    ("2027-04-01", "2027-03", "2027-Q1"), ("2027-12-31", "2027-11", "2027-Q3")])
def test_a_report_opens_on_the_last_whole_month_and_quarter_in_vietnam(client, login_as, tree, monkeypatch, today,
                                                                       month, quarter):
    """Staff open the report on the month (and quarter) that has ended, across the turn of the year."""
    from datetime import date

    from app.reports import views
    monkeypatch.setattr(views, "today_vn", lambda: date.fromisoformat(today))
    login_as("province", tree.province)
    page = client.get(f"/reports/{tree.province.id}/monthly").get_data(as_text=True)
    assert re.search(rf'name="month"[^>]*value="{month}"', page), page
    assert views.previous_quarter() == quarter  # the quarter's list is built from the real day: asked directly
