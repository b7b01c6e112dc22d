"""Month closing: who may close, the lock on visit dates, and frozen exports of a closed month."""
import io
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from app.activities import operations as activity_ops
from app.audit.models import AuditEvent
from app.reports.closing import (
    MonthClosedError,
    close_month,
    ensure_visit_date_editable,
    find_closure,
)
from app.reports.models import MonthClosure
from app.visits.models import Visit
from tests.html_tree import parse
from tests.report_data import Activity, forget_signed_in_user, visit

MONTH = "2024-10"


@pytest.fixture
def activity(tree):
    return Activity(tree)


def _numbers(xlsx: bytes) -> list[list]:
    """Every cell below the title block (the title's 'produced on' date may differ)."""
    wb = load_workbook(io.BytesIO(xlsx))
    return [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows(min_row=4)]


def test_province_staff_close_a_month_from_the_page(tree, activity, login_as, client, db):
    user = login_as("province", tree.province)
    # It locks every team's visits of the month: the page first says what the month holds and asks again.
    resp = client.post("/reports/closing", data={"close-month": "10/2024"})
    assert resp.status_code == 200 and db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 0
    question = parse(resp.get_data(as_text=True)).find(id="confirm-closing")
    visits = db.session.scalar(sa.select(sa.func.count(Visit.id)).where(
        Visit.visited_on.between(date(2024, 10, 1), date(2024, 10, 31))))
    assert visits > 0 and " ".join(question.text().split()).startswith(
        f"Khóa sổ tháng 10/2024? Trong tháng 10/2024 tại Tỉnh Hậu Giang có: {visits} lượt hướng dẫn")
    assert question.find(name="close-confirm").attrs["value"] == MONTH
    assert question.find(name="close-month").attrs["value"] == MONTH
    # Confirming another month than the one asked about asks about that one.
    resp = client.post("/reports/closing", data={"close-month": "2024-09", "close-confirm": MONTH})
    assert resp.status_code == 200 and "Khóa sổ tháng 09/2024?" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 0
    resp = client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH})
    assert resp.status_code == 302
    closure = db.session.scalar(sa.select(MonthClosure))
    assert (closure.province_id, closure.year, closure.month, closure.closed_by_id) == (
        tree.province.id, 2024, 10, user.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "close_month"))
    assert event.user_id == user.id and event.unit_id == tree.province.id
    page = client.get("/reports/closing").get_data(as_text=True)
    assert "10/2024" in page
    summary = client.get(f"/reports/{tree.province.id}/monthly?month={MONTH}").get_data(as_text=True)
    assert "Đã khóa sổ" in summary


@pytest.mark.parametrize("month,message", [
    ("2024-13", "tháng/năm, ví dụ 10/2024"), ("", "tháng/năm, ví dụ 10/2024"),
    ("2999-01", "Chỉ có thể khóa sổ tháng sau khi tháng đó đã kết thúc")])
def test_closing_bad_month_is_400_with_message(tree, login_as, client, db, month, message):
    login_as("province", tree.province)
    resp = client.post("/reports/closing", data={"close-month": month})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 0


def test_current_month_and_twice_are_refused(tree, login_as, client, db):
    login_as("province", tree.province)
    today = date.today()
    resp = client.post("/reports/closing", data={"close-month": f"{today.year:04d}-{today.month:02d}"})
    assert resp.status_code == 400 and "đã kết thúc" in resp.get_data(as_text=True)
    assert client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH}).status_code == 302
    resp = client.post("/reports/closing", data={"close-month": MONTH})
    assert resp.status_code == 400 and "đã được khóa sổ" in resp.get_data(as_text=True)  # said before any question
    assert db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 1


def test_only_province_staff_may_close(tree, login_as, client, db):
    login_as("district", tree.district)
    assert client.get("/reports/closing").status_code == 403
    assert client.post("/reports/closing", data={"close-month": MONTH}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(MonthClosure.id))) == 0


def test_visit_dates_open_month_is_editable(tree, db, login_as):
    user = login_as("commune", tree.commune)
    ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), user, "")


def test_closed_month_refuses_commune_and_reasonless_province_staff(tree, activity, db, login_as):
    staff = login_as("province", tree.province)
    close_month(tree.province, 2024, 10, staff)
    db.session.commit()
    forget_signed_in_user()
    officer = login_as("commune", tree.commune)
    with pytest.raises(MonthClosedError, match="10/2024"):
        ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), officer, "mistake")
    with pytest.raises(MonthClosedError, match="Give a reason"):
        ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), staff, "   ")
    with force_locale("vi"), pytest.raises(MonthClosedError, match="Cần nêu lý do"):
        ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), staff, "")
    # Other months stay open.
    ensure_visit_date_editable(tree.hamlet, date(2024, 11, 1), officer, "")
    ensure_visit_date_editable(tree.hamlet, date(2024, 9, 30), officer, "")


def test_province_staff_with_a_reason_may_edit_and_it_is_audited(tree, activity, db, login_as):
    staff = login_as("province", tree.province)
    close_month(tree.province, 2024, 10, staff)
    db.session.commit()
    ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), staff, "Sửa ngày nhập nhầm")
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "edit_closed_month"))
    assert event.user_id == staff.id and event.unit_id == tree.hamlet.id
    assert "Sửa ngày nhập nhầm" in event.changes


def test_another_provinces_staff_cannot_edit(tree, activity, db, login_as):
    from app.units.operations import create_unit
    staff = login_as("province", tree.province)
    close_month(tree.province, 2024, 10, staff)
    other = create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    db.session.commit()
    forget_signed_in_user()
    stranger = login_as("province", other)
    with pytest.raises(MonthClosedError):
        ensure_visit_date_editable(tree.hamlet, date(2024, 10, 5), stranger, "lý do")


def test_closed_months_export_is_unchanged_after_an_attempted_edit(tree, activity, login_as, client, db):
    staff = login_as("province", tree.province)
    before_close = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}").data
    assert client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH}).status_code == 302
    closed = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}").data
    assert _numbers(closed) == _numbers(before_close)
    # The line under the title: the day it was produced, as people write it, and whether the month is closed.
    from app.dates import today_vn
    produced = [load_workbook(io.BytesIO(x)).worksheets[0]["A2"].value for x in (before_close, closed)]
    assert produced[0] == f"Ngày lập: {today_vn():%d/%m/%Y}"
    assert produced[1].startswith("Ngày lập: ")
    assert produced[1].endswith(" · Tháng đã khóa sổ; số liệu tại thời điểm khóa sổ")
    csv_closed = client.get(f"/reports/{tree.province.id}/monthly.csv?month={MONTH}").data

    from app.auth.cli import create_user
    officer = create_user("can-bo-xa", "commune", tree.commune, "mat-khau-thu-nghiem")
    db.session.commit()
    with pytest.raises(MonthClosedError):
        ensure_visit_date_editable(tree.hamlet, date(2024, 10, 20), officer, "")
    # Even if the data changes behind the lock (a later override, a household count), the closed
    # month's report does not move.
    h = activity.households["h2"]
    visit(h, date(2024, 10, 20), activity.team, {activity.wallet: "adopted"})
    from app.units.operations import set_household_count
    set_household_count(tree.hamlet, 999, date(2024, 10, 1))
    db.session.commit()
    again = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}").data
    assert _numbers(again) == _numbers(closed)
    assert client.get(f"/reports/{tree.province.id}/monthly.csv?month={MONTH}").data == csv_closed
    # The district's report of the closed month comes from the same snapshot.
    district = client.get(f"/reports/{tree.district.id}/monthly.xlsx?month={MONTH}").data
    assert any(r[0] == "31318" and 320 + 410 in r for r in _numbers(district))
    # An open month sees the change.
    assert find_closure(tree.province, 2024, 11) is None
    nov = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month=2024-11").data
    assert _numbers(nov) != _numbers(closed)
    # A closed month's file is the same bytes whenever it is downloaded (a checksum or a diff stays quiet):
    # later the same day, and after Vietnam's next midnight.
    from datetime import datetime, time, timedelta

    import time_machine

    from app.dates import VN, now_vn
    now = now_vn()
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0), tzinfo=VN)
    # Halfway to midnight is later the same day whenever the test runs (never before the sign-in: a moment
    # before it, 23:30 when run at 23:45, is a session from the future).
    for moment in (now + (midnight - now) / 2, midnight + timedelta(minutes=30)):
        with time_machine.travel(moment):
            later = client.get(f"/reports/{tree.province.id}/monthly.xlsx?month={MONTH}")
            assert later.status_code == 200 and later.data == again, moment
            assert client.get(f"/reports/{tree.province.id}/monthly.csv?month={MONTH}").data == csv_closed, moment
    assert staff.id


def test_the_closing_page_offers_last_month_the_one_usually_closed(tree, login_as, client):
    from datetime import UTC, datetime

    import time_machine

    from tests.html_tree import parse
    # In January, last month is December of the year before.
    for now, expected in ((datetime(2027, 1, 10, 3, 0, tzinfo=UTC), "2026-12"),
                          (datetime(2026, 12, 5, 3, 0, tzinfo=UTC), "2026-11")):
        with time_machine.travel(now, tick=False):
            login_as("province", tree.province)
            resp = client.get("/reports/closing")
            assert resp.status_code == 200
            assert parse(resp.get_data(as_text=True)).find(id="close-month").attrs["value"] == expected
            report = client.get("/reports/")  # the summary opens on the same month
            assert report.headers["Location"].endswith(f"month={expected}")


def test_a_communes_report_of_a_closed_month_comes_whole_from_the_snapshot(tree, activity, login_as, client, db):
    from tests.html_tree import parse
    login_as("province", tree.province)
    assert client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH}).status_code == 302
    # A visit slipped in behind the lock does not show: the commune's page, hamlets and all, is the snapshot's.
    visit(activity.households["h3"], date(2024, 10, 25), activity.team, {activity.wallet: "guided"})
    db.session.commit()
    page = parse(client.get(f"/reports/{tree.commune.id}/monthly?month={MONTH}").get_data(as_text=True))
    assert "Đã khóa sổ" in page.text()
    activity_table = next(page.find_all("table"))
    visits = {tr.find(tag="th").text(): tr.find(**{"data-key": "visits"}).text()
              for tr in activity_table.find(tag="tbody").find_all("tr")}
    assert visits == {"Khu vực 1": "2", "Khu vực 2": "1", "Tổng cộng": "3"}


def test_only_the_provinces_own_report_offers_to_close_a_month_and_never_on_its_last_day(tree, login_as, client):
    from datetime import UTC, datetime

    import time_machine
    login_as("province", tree.province)
    assert "/reports/closing" in client.get(f"/reports/{tree.province.id}/monthly?month={MONTH}").get_data(as_text=True)
    assert "/reports/closing" not in client.get(f"/reports/{tree.district.id}/monthly?month={MONTH}").get_data(
        as_text=True)
    # 23:30 on 31 October in Vietnam: October has not ended; half an hour later it has.
    for now, status in ((datetime(2024, 10, 31, 16, 30, tzinfo=UTC), 400),
                        (datetime(2024, 10, 31, 17, 30, tzinfo=UTC), 302)):
        with time_machine.travel(now, tick=False):
            login_as("province", tree.province)
            resp = client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH})
            assert resp.status_code == status, now


def test_the_closing_question_names_the_classes_and_shifts_it_locks_with_the_visits(tree, activity, login_as,
                                                                                    client, db):
    """Closing a month locks its classes and one-stop-centre shifts as well as its visits: the question says all
    three, each with its count in the province (a class of November is not counted)."""
    for key, commune, on in (("c1", tree.commune, date(2024, 10, 3)), ("c2", tree.other_commune, date(2024, 10, 30)),
                             ("c3", tree.commune, date(2024, 11, 2))):
        activity_ops.create_class(activity_ops.ClassData(
            commune_id=commune.id, held_on=on, place_hamlet_id=None, place_name="Nhà văn hóa", learners_total=10,
            age_15_17=0, age_18_59=10, age_60_plus=0), key.ljust(32, "0"))
    activity_ops.create_shift(activity_ops.ShiftData(commune_id=tree.commune.id, team_id=activity.team.id,
                                                     held_on=date(2024, 10, 9), people_helped=12), "s1".ljust(32, "0"))
    db.session.commit()
    login_as("province", tree.province)
    resp = client.post("/reports/closing", data={"close-month": MONTH})
    question = parse(resp.get_data(as_text=True)).find(id="confirm-closing")
    held = [" ".join(li.text().split()) for li in question.find(id="closing-holds").find_all("li")]
    assert held == ["4 lượt hướng dẫn", "2 buổi học", "1 ca trực"]
    assert "không thể thêm, sửa hay xóa lượt hướng dẫn, buổi học và ca trực của tháng này" in " ".join(
        question.text().split())
