"""The quarterly summary: its three months' activity (a household visited in two of them reached once),
coverage and teams at its end, on the page, the printable page, the xlsx and the csv."""
import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import load_workbook

from app.activities.models import CentreShift, ShiftDossier
from app.coverage import activity_months
from app.extensions import db
from app.reports.summary import build_quarter_summary, build_summary
from tests import adult_world
from tests.html_tree import parse
from tests.report_data import Activity, visit

Q4 = "2024-Q4"


@pytest.fixture
def activity(tree):
    a = Activity(tree)
    # December: Hộ Một visited again, as in October. Its third month's visit is one more visit, not one
    # more household reached.
    visit(a.households["h1"], date(2024, 12, 10), a.team, {a.wallet: "guided"})
    db.session.commit()
    return a


def _chosen(page) -> str:
    """The quarter the chooser shows."""
    return next(o.attrs["value"] for o in page.find(id="quarter").find_all("option") if "selected" in o.attrs)


def _figures(row):
    wallet, vneid = row["services"]
    return {"visits": row["visits"], "reached_in_period": row["reached_month"], "teams": row["teams"],
            "active_teams": row["active_teams"], "members": row["members"], "households": row["households"],
            "reached": row["reached"], "new": (wallet["new"], vneid["new"]),
            "adopted": (wallet["adopted"], vneid["adopted"])}


def test_a_quarter_adds_up_its_months_and_counts_each_household_once(tree, activity):
    commune = build_quarter_summary(tree.commune, 2024, 4)
    assert (commune.year, commune.first, commune.month, commune.month_label) == (2024, 10, 12, "2024-Q4")
    # Phường I: Hộ Một in October and December, Hộ Hai in October and November, Hộ Bốn in October.
    assert _figures(commune.total) == {
        "visits": 5, "reached_in_period": 3, "teams": 1, "active_teams": 1, "members": 3, "households": 730,
        "reached": 4, "new": (2, 2), "adopted": (3, 2)}
    hamlets = {r["name"]: (r["visits"], r["reached_month"]) for r in commune.children}
    assert hamlets == {"Khu vực 1": (4, 2), "Khu vực 2": (1, 1)}
    # Its months one at a time reach 3 + 1 + 1 households: the quarter is not their sum.
    months = [build_summary(tree.commune, 2024, m).total for m in (10, 11, 12)]
    assert [m["reached_month"] for m in months] == [3, 1, 1]
    assert sum(m["visits"] for m in months) == 5
    assert sum(m["services"][1]["new"] for m in months) == 2
    # The province: Thị trấn Một Ngàn's team was active too; the September adoption is before the quarter.
    province = build_quarter_summary(tree.province, 2024, 4)
    assert _figures(province.total) == {
        "visits": 6, "reached_in_period": 4, "teams": 2, "active_teams": 2, "members": 4, "households": 1260,
        "reached": 5, "new": (3, 2), "adopted": (4, 2)}
    assert build_quarter_summary(tree.province, 2024, 3).total["services"][0]["new"] == 1  # Hộ Ba, September


def test_the_quarter_page_names_the_quarter_and_links_its_units_to_their_quarters(tree, activity, login_as, client):
    login_as("province", tree.province)
    resp = client.get(f"/reports/{tree.district.id}/quarterly?quarter={Q4}")
    assert resp.status_code == 200
    page = parse(resp.get_data(as_text=True))
    text = " ".join(page.text().split())
    assert "Báo cáo quý: Thành phố Vị Thanh" in text
    assert "Hoạt động trong quý" in text and "Tỷ lệ bao phủ đến cuối quý" in text
    assert "Hoạt động trong tháng" not in text
    total = next(tr for tr in page.find_all("tr", **{"class": "total"}))
    cells = {td.attrs["data-key"]: td.text() for td in total.find_all("td")}
    assert (cells["visits"], cells["reached_month"], cells["active_teams"]) == ("5", "3", "1")
    assert _chosen(page) == Q4
    links = [a.attrs["href"] for a in page.find_all("a")]
    assert f"/reports/{tree.commune.id}/quarterly?quarter={Q4}" in links  # a unit's own quarter
    assert f"/reports/{tree.district.id}/quarterly.xlsx?quarter={Q4}" in links
    assert f"/reports/{tree.province.id}/quarterly?quarter={Q4}" in links  # the crumbs keep the quarter
    # The two kinds of summary link to each other, keeping the time asked: the quarter's last month, the
    # month's quarter.
    assert f"/reports/{tree.district.id}/monthly?month=2024-12" in links
    month_page = parse(client.get(f"/reports/{tree.district.id}/monthly?month=2024-11").get_data(as_text=True))
    assert f"/reports/{tree.district.id}/quarterly?quarter={Q4}" in [a.attrs["href"] for a in month_page.find_all("a")]
    # A quarter that has ended says it is counted from today's records; a lower-case q is understood.
    assert "Tính từ dữ liệu hiện có" in text and "Quý chưa kết thúc" not in text
    assert client.get(f"/reports/{tree.district.id}/quarterly?quarter=2024-q4").status_code == 200


def test_the_printable_page_the_xlsx_and_the_csv_hold_the_quarter(tree, activity, login_as, client):
    login_as("province", tree.province)
    printed = client.get(f"/reports/{tree.province.id}/quarterly/print?quarter={Q4}").get_data(as_text=True)
    assert "<h1>Báo cáo tổng hợp Quý IV/2024: Tỉnh Hậu Giang</h1>" in printed
    resp = client.get(f"/reports/{tree.province.id}/quarterly.xlsx?quarter={Q4}")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].endswith("bao-cao-93-2024-q4.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    assert "Quý IV/2024" in ws["A1"].value
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
    heads = [c.value for c in ws[header]]
    assert heads[:6] == ["Mã", "Đơn vị", "Số tổ", "Số tổ hoạt động trong quý", "Số thành viên",
                         "Lượt hướng dẫn trong quý"]
    col = {h: i for i, h in enumerate(heads)}
    rows = {r[0] or r[1]: r for r in ws.iter_rows(min_row=header + 1, values_only=True)}
    vi_thanh, total = rows["930"], rows["Tổng cộng"]
    assert vi_thanh[col["Lượt hướng dẫn trong quý"]] == 5 and vi_thanh[col["Số hộ được hướng dẫn trong quý"]] == 3
    assert total[col["Định danh điện tử VNeID mức 2: số hộ mới sử dụng trong quý"]] == 2
    raw = client.get(f"/reports/{tree.province.id}/quarterly.csv?quarter={Q4}").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(raw)))
    heads = next(r for r in lines if r[:2] == ["Cấp", "Mã"])
    vi_thanh = next(r for r in lines if r[1] == "930")
    assert vi_thanh[heads.index("Số hộ được hướng dẫn trong quý")] == "3"


@pytest.mark.parametrize("quarter,message", [
    ("2024-Q5", "YYYY-Qn"), ("2024-10", "YYYY-Qn"), ("abc", "YYYY-Qn"), ("", "YYYY-Qn"), ("0000-Q1", "YYYY-Qn"),
    ("1899-Q4", "YYYY-Qn"),
    ("2999-Q1", "Quý này chưa bắt đầu")])
def test_a_bad_quarter_is_a_400_with_its_message_beside_the_field(tree, login_as, client, quarter, message):
    login_as("province", tree.province)
    for suffix in ("", ".xlsx", ".csv", "/print"):
        resp = client.get(f"/reports/{tree.province.id}/quarterly{suffix}?quarter={quarter}")
        assert resp.status_code == 400
        field = parse(resp.get_data(as_text=True)).find(**{"class": "field has-error"})
        assert message in field.find(id="quarter-error").text()
        if quarter:  # what was asked stays chosen
            assert _chosen(field) == quarter


def test_the_quarter_asked_by_default_is_the_last_one_ended(tree, login_as, client):
    with time_machine.travel(datetime(2026, 12, 5, 3, 0, tzinfo=UTC), tick=False):
        login_as("province", tree.province)
        page = parse(client.get(f"/reports/{tree.province.id}/quarterly").get_data(as_text=True))
        assert _chosen(page) == "2026-Q3"
        # The chooser offers the quarter under way and those before it back to 2022, newest first.
        options = [o.attrs["value"] for o in page.find(id="quarter").find_all("option")]
        assert options[:3] == ["2026-Q4", "2026-Q3", "2026-Q2"] and options[-1] == "2022-Q1" and len(options) == 20
        # One from before, asked for in the address, is reported and shown chosen.
        older = parse(client.get(f"/reports/{tree.province.id}/quarterly?quarter=2021-Q4").get_data(as_text=True))
        assert _chosen(older) == "2021-Q4" and "Quý IV/2021" in older.text()
        typed = parse(client.get(f"/reports/{tree.province.id}/quarterly?quarter=2026-q2").get_data(as_text=True))
        assert _chosen(typed) == "2026-Q2"  # typed in lower case, chosen in the list as it is written there
        assert client.get(f"/reports/{tree.province.id}/quarterly?quarter=1900-Q1").status_code == 200  # the earliest
        current = client.get(f"/reports/{tree.province.id}/quarterly?quarter=2026-Q4").get_data(as_text=True)
        assert "Quý chưa kết thúc" in current
    # On the quarter's last day in Vietnam it is not over yet; from the next day it is.
    for now, over in ((datetime(2026, 12, 31, 16, 0, tzinfo=UTC), False),
                      (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), True)):
        with time_machine.travel(now, tick=False):
            login_as("province", tree.province)
            text = client.get(f"/reports/{tree.province.id}/quarterly?quarter=2026-Q4").get_data(as_text=True)
            assert ("Quý chưa kết thúc" not in text) == over, now
    with time_machine.travel(datetime(2026, 11, 5, 3, 0, tzinfo=UTC), tick=False):
        login_as("province", tree.province)
        current = client.get(f"/reports/{tree.province.id}/quarterly?quarter=2026-Q4").get_data(as_text=True)
        # The quarter under way links to this month, not to December, which has not begun.
        months = re.findall(rf'href="/reports/{tree.province.id}/monthly\?month=([\d-]+)"', current)
        assert months == ["2026-11"]
    with time_machine.travel(datetime(2027, 2, 1, 3, 0, tzinfo=UTC), tick=False):
        login_as("province", tree.province)
        page = parse(client.get(f"/reports/{tree.province.id}/quarterly").get_data(as_text=True))
        assert _chosen(page) == "2026-Q4"


def test_units_outside_scope_have_no_quarter(tree, activity, login_as, client):
    login_as("district", tree.district)
    for suffix in ("", ".xlsx", ".csv", "/print"):
        assert client.get(f"/reports/{tree.other_district.id}/quarterly{suffix}?quarter={Q4}").status_code == 404
        assert client.get(f"/reports/{tree.province.id}/quarterly{suffix}?quarter={Q4}").status_code == 404
    assert client.get(f"/reports/{tree.commune.id}/quarterly?quarter={Q4}").status_code == 200


def test_a_quarters_adults_stand_at_its_end_and_its_classes_and_shifts_add_up(db, tree, login_as, client):
    adult_world.build(tree)  # March 2026: Phường I 55 attendances, 5 named learners, 15 online dossiers
    # February: one more class of 10 with a new named learner; January: a shift of 7 dossiers, no total entered.
    adult_world.add_class(tree.commune, date(2026, 2, 7), 10, (0, 8, 2), hamlet=tree.hamlet,
                          named=[("Đặng Thị Yến", 1980, tree.hamlet, None)], results={"vneid": 3})
    shift = CentreShift(key=uuid.uuid4().hex, commune_id=tree.commune.id, held_on=date(2026, 1, 20), people_helped=7)
    db.session.add(shift)
    db.session.flush()
    db.session.add(ShiftDossier(shift_id=shift.id, service_id=adult_world.service("dvc").id, dossiers=7))
    db.session.flush()
    db.session.refresh(shift)
    activity_months.ShiftChange().done(shift)
    # April is the next quarter's.
    adult_world.add_class(tree.commune, date(2026, 4, 2), 40, (0, 30, 10), hamlet=tree.hamlet)
    db.session.commit()
    a = build_quarter_summary(tree.district, 2026, 1).levels[0][1]
    phuong_i = next(r for r in a if r["code"] == "31318")["adults"]
    assert (phuong_i["adults"], phuong_i["attendances"], phuong_i["named"]) == (1800, 65, 6)
    assert phuong_i["working"]["vneid"] == 19
    # The share of online dossiers counts only the months whose total the commune entered (March).
    assert (phuong_i["online"], phuong_i["online_counted"], phuong_i["commune_dossiers"]) == (22, 15, 60)
    assert phuong_i["named_share"] == pytest.approx(6 / 1800)
    login_as("province", tree.province)
    page = client.get(f"/reports/{tree.district.id}/quarterly?quarter=2026-Q1").get_data(as_text=True)
    adults_part = page[page.index("report-adults"):]
    assert "Lượt người học (quý)" in adults_part
    assert re.search(r'data-unit="31318".*?data-key="attendances">65<', adults_part, re.DOTALL)


def test_the_cli_writes_the_quarter_the_page_shows(tree, activity, runner, tmp_path):
    out = tmp_path / "q4.csv"
    res = runner.invoke(args=["report", "quarterly", "--unit", "930", "--quarter", Q4, "--format", "csv",
                              "--locale", "en", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "2024-Q4" in res.output
    lines = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    heads = next(r for r in lines if r[:2] == ["Level", "Code"])
    phuong_i = next(r for r in lines if r[1] == "31318")
    col = {h: i for i, h in enumerate(heads)}
    assert (phuong_i[col["Visits in the quarter"]], phuong_i[col["Households reached in the quarter"]]) == ("5", "3")
    for bad, message in (("2024-Q5", "YYYY-Qn"), ("2999-Q1", "Quý này chưa bắt đầu")):
        res = runner.invoke(args=["report", "quarterly", "--unit", "930", "--quarter", bad, "--output", str(out)])
        assert res.exit_code != 0 and message in res.output
    res = runner.invoke(args=["report", "quarterly", "--unit", "99999", "--quarter", Q4, "--output", str(out)])
    assert res.exit_code != 0 and "no unit" in res.output


@pytest.mark.parametrize("last_evening,period,this_one,next_one,message", [
    # 17:30 UTC on 30 September is 00:30 on 1 October in Vietnam: the fourth quarter has begun there.
    (datetime(2026, 9, 30, 16, 30, tzinfo=UTC), "quarterly?quarter", "2026-Q4", "2027-Q1", "Quý này chưa bắt đầu"),
    # 17:30 UTC on 30 November is 00:30 on 1 December: December's report (so far) opens there.
    (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "monthly?month", "2026-12", "2027-01", "chưa bắt đầu"),
])
def test_a_period_opens_on_its_first_day_in_vietnam_time(tree, login_as, client, last_evening, period, this_one,
                                                          next_one, message):
    with time_machine.travel(last_evening + timedelta(hours=1), tick=False):
        login_as("province", tree.province)
        assert client.get(f"/reports/{tree.province.id}/{period}={this_one}").status_code == 200
        resp = client.get(f"/reports/{tree.province.id}/{period}={next_one}")
        assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    with time_machine.travel(last_evening, tick=False):  # 23:30 on the last day
        login_as("province", tree.province)
        assert client.get(f"/reports/{tree.province.id}/{period}={this_one}").status_code == 400


def test_the_map_asked_is_kept_in_the_links_and_an_unknown_one_is_dropped(tree, activity, login_as, client):
    login_as("province", tree.province)
    district = f"/reports/{tree.district.id}"
    for path in (f"{district}/quarterly?quarter={Q4}", f"{district}/monthly?month=2024-10"):
        then = [a.attrs["href"] for a in parse(client.get(path + "&map=then").get_data(as_text=True)).find_all("a")]
        assert any(".xlsx?" in h and h.endswith("&map=then") for h in then), then
        odd = [a.attrs["href"] for a in parse(client.get(path + "&map=sideways").get_data(as_text=True)).find_all("a")]
        assert not any("sideways" in h for h in odd)
        assert any(".xlsx?" in h and "map=" not in h for h in odd)


def test_a_household_first_visited_in_the_quarters_last_month_counts_and_a_merged_one_once(tree, activity):
    from app.households.operations import merge_households
    a = activity
    # Hộ Ba, visited in September, again in December: reached in the quarter, not in October.
    visit(a.households["h3"], date(2024, 12, 5), a.team, {a.wallet: "guided"})
    db.session.commit()
    assert build_quarter_summary(tree.commune, 2024, 4).total["reached_month"] == 4
    assert [build_summary(tree.commune, 2024, m).total["reached_month"] for m in (10, 11, 12)] == [3, 1, 2]
    # Hộ Hai turns out to be Hộ Một: one household reached, not two.
    merge_households(a.households["h2"], a.households["h1"])
    db.session.commit()
    assert build_quarter_summary(tree.commune, 2024, 4).total["reached_month"] == 3


def test_a_team_that_logged_nothing_in_the_month_is_counted_but_not_active(tree, activity):
    # November: Phường I's team visited Hộ Hai; Thị trấn Một Ngàn's team logged nothing.
    november = build_summary(tree.other_district, 2024, 11)
    row = next(r for r in november.children if r["name"] == tree.other_commune.name)
    assert (row["teams"], row["active_teams"], row["members"], row["visits"]) == (1, 0, 1, 0)
    province = build_summary(tree.province, 2024, 11).total
    assert (province["teams"], province["active_teams"]) == (2, 1)
    # Its hamlet, served by the idle team: one team, none active.
    hamlet = next(r for r in build_summary(tree.other_commune, 2024, 11).children
                  if r["name"] == tree.other_hamlet.name)
    assert (hamlet["teams"], hamlet["active_teams"], hamlet["members"]) == (1, 0, 1)
    # Its last member leaves at October's end: in November it is a team of no members, not of one.
    from app.teams.models import Membership
    for m in db.session.scalars(sa.select(Membership).where(Membership.team_id == _a_team_of(tree.other_commune))):
        m.left_on = m.left_on or date(2024, 10, 31)
    db.session.commit()
    row = next(r for r in build_summary(tree.other_district, 2024, 11).children if r["name"] == tree.other_commune.name)
    assert (row["teams"], row["members"]) == (1, 0)
    hamlet = next(r for r in build_summary(tree.other_commune, 2024, 11).children
                  if r["name"] == tree.other_hamlet.name)
    assert (hamlet["teams"], hamlet["members"]) == (1, 0)


def _a_team_of(commune) -> int:
    from app.teams.models import Team
    return db.session.scalar(sa.select(Team.id).where(Team.commune_id == commune.id))


def test_a_hamlet_served_by_two_teams_counts_both_and_their_members_once_each(tree, activity):
    # A second team serves Ấp Nhơn Xuân beside Thị trấn Một Ngàn's own: the hamlet counts two teams, the
    # active one of them (it visited in October) and the members of both; Khu vực 1 keeps its one team.
    from tests.report_data import make_team
    second = make_team(tree.other_commune, [tree.other_hamlet], ["Huỳnh Văn Sáu", "Lý Thị Bảy"])
    second.name, second.name_folded = "Tổ hai", "to hai"
    db.session.commit()
    rows = {r["id"]: r for r in build_summary(tree.other_commune, 2024, 10).children}
    assert (rows[tree.other_hamlet.id]["teams"], rows[tree.other_hamlet.id]["active_teams"],
            rows[tree.other_hamlet.id]["members"]) == (2, 1, 3)
    rows = {r["id"]: r for r in build_summary(tree.commune, 2024, 10).children}
    assert (rows[tree.hamlet.id]["teams"], rows[tree.hamlet.id]["members"]) == (1, 3)
    assert build_summary(tree.province, 2024, 10).total["teams"] == 3
