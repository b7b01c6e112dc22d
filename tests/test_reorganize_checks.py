"""What the reform's checks ask beyond tests/test_reorganize.py, on the same world and plan: every
problem of a bad plan listed at once by line, the pages' notes on where earlier figures come from
after a real plan, and pre-reform months rolling up through their districts once areas exist."""
import re
from datetime import date

import sqlalchemy as sa
from flask_babel import refresh

from app.api.models import issue_token
from app.auth.models import User
from app.coverage import maps, queries
from app.extensions import db as _db
from app.reports import exports
from app.reports.summary import build_summary
from app.units.models import AdminUnit, Reorganization, unit_for_code
from tests.form_versions import post_opened
from tests.test_reorganize import PLAN, plan_csv, reorganize, upload, world  # noqa: F401 - the world fixture


def _text(resp):
    return re.sub(r" ([.:;])", r"\1", " ".join(resp.get_data(as_text=True).split()))


def test_a_plan_with_several_problems_lists_each_by_line_at_once_and_applies_nothing(
        runner, client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    rows = [("93", "", "92"), ("31318", "", "99999"), ("31321", "", "31321"),
            ("31338", "Ấp Nhơn Xuân", "31342"), ("31338", "Ấp Nhơn Xuân", "31360"), ("31321", "", "31342")]
    path = plan_csv(tmp_path, rows)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2025-07-01,,,31342,nobody\n")
    result = reorganize(runner, path)
    assert result.exit_code != 0 and "nothing applied" in result.output
    for text in ("plan.csv:3: The code 99999 is not in the list in force on 2025-07-01.",
                 "plan.csv:4: Hamlet Khu vực 3 of Phường III, which is split, is not assigned.",
                 "plan.csv:5: Hamlet Ấp Nhơn Thuận of Thị trấn Một Ngàn, which is split, is not assigned.",
                 "plan.csv:6: Hamlet Ấp Nhơn Xuân is already assigned on line 5.",
                 "plan.csv:7: Phường III goes to 31321, 31342: say which hamlets go where",
                 "plan.csv:8: No account is named nobody.",
                 "plan.csv: Phường I (31318) is not in the plan."):
        assert text in result.output
    # On standard error, where a script running the command looks for what went wrong.
    assert "plan.csv:3: The code 99999" in result.stderr and "plan.csv: Phường I" in result.stderr
    assert "plan.csv" not in result.stdout
    # The same plan uploaded: the same problems, each beside its line number, and no way to apply it.
    refresh()  # the command chose English for its output in this application context
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, path)
    text = _text(resp)
    assert resp.status_code == 422
    assert "Có 7 lỗi. Chưa có gì thay đổi." in text
    for line, problem in ((3, "Mã 99999 không có trong danh mục có hiệu lực vào ngày 01/07/2025."),
                          (4, "Thôn, ấp Khu vực 3 của Phường III (xã bị chia tách) chưa được xếp."),
                          (5, "Thôn, ấp Ấp Nhơn Thuận của Thị trấn Một Ngàn (xã bị chia tách) chưa được xếp."),
                          (6, "Thôn, ấp Ấp Nhơn Xuân đã được xếp ở dòng 5."),
                          (7, "Phường III được chuyển vào 31321, 31342"),
                          (8, "Không có tài khoản nào tên nobody.")):
        assert f"Dòng {line}:</strong> {problem}" in text
    assert "<li>Phường I (31318) không có trong phương án.</li>" in text
    assert "/units/reorganize/confirm" not in text
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III"


def test_after_a_real_plan_pages_say_where_earlier_figures_come_from_and_a_code_names_its_month_s_unit(
        runner, client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    refresh()  # the command chose English for its output in this application context
    login_as("province", unit_for_code("92"))
    vi_thanh = _text(client.get(f"/coverage/{unit_for_code('31321').id}?month=2025-05"))
    assert "Trước 07/2025: Phường I, III của Thành phố Vị Thanh." in vi_thanh
    assert "Số liệu các tháng trước đó là số liệu của các thôn, ấp thuộc đơn vị hiện nay." in vi_thanh
    assert "Được chia cho nhiều đơn vị" not in vi_thanh  # two communes went into it whole
    province = _text(client.get(f"/coverage/{unit_for_code('92').id}?month=2025-05"))
    assert "Trước 07/2025: Tỉnh Hậu Giang." in province and "Được chia cho nhiều đơn vị" not in province
    # Which household count a commune's figure uses: its hamlets' counts in effect then.
    assert "tổng số hộ có hiệu lực khi đó của các thôn, ấp thuộc đơn vị hiện nay" in vi_thanh
    assert "880" in vi_thanh  # Khu vực 1, 2 and 3: 320 + 410 + 150, carried over with their hamlets
    tan_hoa = _text(client.get(f"/coverage/{unit_for_code('31342').id}?month=2025-05"))
    assert "Trước 07/2025: Thị trấn Một Ngàn của Huyện Châu Thành A." in tan_hoa
    assert "Được chia cho nhiều đơn vị: Thị trấn Một Ngàn." in tan_hoa

    # The API: a code that matched two units names the one of the month asked.
    staff = _db.session.scalar(sa.select(User).where(User.username == "staff-93"))
    _token, secret = issue_token(staff, label="Trung tâm điều hành")
    _db.session.commit()

    def get(query):
        return client.get(f"/api/v1/coverage?{query}", headers={"Authorization": f"Bearer {secret}"})

    # 31321 matched Phường III in March and Phường Vị Thanh since July: today's map takes today's.
    today = get("unit=31321&month=2025-03&map=today")
    assert today.status_code == 200 and today.json["unit"]["name"] == "Phường Vị Thanh"
    assert get("unit=31321&month=2025-03").json["unit"]["name"] == "Phường III"
    # Phường I's code ended with the reform: no unit bears it today, whatever the month.
    assert get("unit=31318&month=2025-03&map=today").status_code == 404
    assert get("unit=31318&month=2025-03").json["unit"]["name"] == "Phường I"


def _household_rows(summary) -> list[list[str]]:
    """The CSV's rows below its header from the code on (the level's name follows the locale), cut after
    the household columns (the adults' columns follow them)."""
    width = 4 + len(exports.columns(summary))
    return [line.split(",")[1:width] for line in exports.write_csv(summary).decode("utf-8-sig").splitlines()[1:]]


def test_pre_reform_months_still_roll_up_through_their_districts_once_the_new_province_has_areas(
        runner, client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    may_before = _household_rows(build_summary(_db.session.get(AdminUnit, world.province), 2025, 5))
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    refresh()  # the command chose English for its output in this application context
    new_province, vi_thanh = unit_for_code("92"), unit_for_code("31321")
    login_as("province", new_province)
    assert client.post(f"/areas/{new_province.id}", data={"name": "Khu vực Vị Thanh"}).status_code == 303
    area = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "area"))
    assert post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh",
                                                      "communes": [vi_thanh.id]}).status_code == 303
    _db.session.expire_all()
    old_province = _db.session.get(AdminUnit, world.province)
    # As the map was: the old province's districts and communes, with the figures they had.
    then = maps.coverage_then(old_province, date(2025, 5, 31)).table
    assert [r.unit.name for r in then.rows] == ["Huyện Châu Thành A", "Thành phố Vị Thanh"]
    assert [r.households for r in then.rows] == [530 + 200, 320 + 410 + 150]
    assert _household_rows(build_summary(old_province, 2025, 5, as_then=True)) == may_before
    page = _text(client.get(f"/reports/{world.province}/monthly?month=2025-05"))
    assert "Huyện Châu Thành A" in page and "Thành phố Vị Thanh" in page
    # Today's map: the area holds Phường Vị Thanh's hamlets for the same month.
    area = _db.session.get(AdminUnit, area.id)
    today = queries.coverage(area, date(2025, 5, 31))
    assert [r.unit.name for r in today.rows] == ["Phường Vị Thanh"] and today.total.households == 880
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_plan_dated_in_year_one_is_told_its_date_is_not_one_not_a_500(
        runner, client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    # 0001-01-01 parses as a date; the day before it does not exist (the fuzz run found the 500).
    path = plan_csv(tmp_path, PLAN, day="0001-01-01")
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, path)
    text = _text(resp)
    assert resp.status_code == 422
    # Said once for the five lines that have it, with the plan's own problem of having no date.
    assert ("Dòng 2, 3, 4, 5, 6 (5 dòng):</strong> Ngày có hiệu lực không hợp lệ (dùng 2025-07-01 hoặc 01/07/2025)."
            in text)
    assert "Phương án không có ngày có hiệu lực." in text
    result = reorganize(runner, path)
    assert result.exit_code != 0 and "nothing applied" in result.output
    assert unit_for_code("31321").name == "Phường III"


def test_a_line_without_its_date_or_an_account_sent_to_a_unit_of_the_wrong_level_is_refused(
        runner, world, tmp_path):  # noqa: F811 - the fixture imported above
    path = plan_csv(tmp_path, PLAN)
    with open(path, "a", encoding="utf-8") as fh:
        # line 7: a commune officer sent to the new province; line 8: a hamlet line with no date.
        fh.write("2025-07-01,,,92,xa-31338\n,31338,Ấp Nhơn Xuân,31342,\n")
    result = reorganize(runner, path)
    assert result.exit_code != 0 and "nothing applied" in result.output
    assert "plan.csv:7: xa-31338's role needs a unit of another level." in result.output
    assert "plan.csv:8: The effective date is missing." in result.output
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    # The province's staff account may go to the new province.
    path = plan_csv(tmp_path, PLAN)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2025-07-01,,,92,staff-93\n")
    assert reorganize(runner, path).exit_code == 0
    _db.session.remove()
    staff = _db.session.scalar(sa.select(User).where(User.username == "staff-93"))
    assert staff.unit_id == unit_for_code("92").id and staff.is_enabled


def test_a_plan_s_account_line_answers_alike_for_an_account_of_another_province_and_for_none(
        client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    """Province staff may not learn which usernames exist in other provinces from a plan's account lines: an
    account outside the plan's provinces is as unknown as one that does not exist."""
    from app.auth.cli import create_user
    from app.units import operations as unit_ops
    elsewhere = unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    create_user("xa-soc-trang", "commune", unit_ops.create_unit("Phường 1", "commune", elsewhere, "31507"),
                "matkhau-dai-du-12")
    create_user("tinh-soc-trang", "province", elsewhere, "matkhau-dai-du-12")
    _db.session.commit()
    login_as("province", _db.session.get(AdminUnit, world.province))
    path = plan_csv(tmp_path, PLAN)
    with open(path, "a", encoding="utf-8") as fh:
        # Lines 7 to 10: a commune account and a province account of Sóc Trăng, one that exists nowhere, and one
        # of the plan's province (known, and rebound).
        fh.write("2025-07-01,,,31342,xa-soc-trang\n2025-07-01,,,92,tinh-soc-trang\n"
                 "2025-07-01,,,31342,nobody\n2025-07-01,,,31342,xa-31338\n")
    resp = upload(client, path)
    text = _text(resp)
    assert resp.status_code == 422
    for line, username in ((7, "xa-soc-trang"), (8, "tinh-soc-trang"), (9, "nobody")):
        assert f"Dòng {line}:</strong> Không có tài khoản nào tên {username}." in text
    assert "Dòng 10:" not in text
    assert "Có 3 lỗi. Chưa có gì thay đổi." in text
    assert "/units/reorganize/confirm" not in text


def test_the_preview_names_an_account_line_s_account_by_the_person_and_the_username(
        client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    """An account line refused in the preview names the account as everywhere else: "Full name (username)"."""
    officer = _db.session.scalar(sa.select(User).where(User.username == "xa-31338"))
    officer.full_name = "Lê Văn Tám"
    _db.session.commit()
    path = plan_csv(tmp_path, PLAN)
    with open(path, "a", encoding="utf-8") as fh:
        # line 7: a commune officer sent to the new province; lines 8 and 9: the province's staff account twice.
        fh.write("2025-07-01,,,92,xa-31338\n2025-07-01,,,92,staff-93\n2025-07-01,,,92,staff-93\n")
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, path)
    text = _text(resp)
    assert resp.status_code == 422
    assert "Vai trò của Lê Văn Tám (xa-31338) cần một đơn vị ở cấp khác." in text
    staff = _db.session.scalar(sa.select(User).where(User.username == "staff-93")).shown_name
    assert f"{staff} đã có ở dòng 8." in text
