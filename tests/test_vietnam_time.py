"""Dates and times as people in Vietnam read them (UTC+7), under a controlled clock.

From 17:00 to 24:00 UTC it is already the next day in Vietnam: a server that reckons in UTC would
date the visit form a day early, refuse today's visits as "in the future", count them in the wrong
month and print every time seven hours off. These tests stop the clock in that gap.
"""
from datetime import UTC, date, datetime

import sqlalchemy as sa
import time_machine

from app.audit.models import record
from app.dates import VN
from tests.html_tree import parse
from tests.visits_helpers import form, household, sign_in_as

# 17:30 UTC on 30 November 2026 is 00:30 on 1 December in Vietnam.
HALF_PAST_MIDNIGHT_IN_VN = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
SHOWN_IN_VN, SHOWN_IN_UTC = "00:30 01/12/2026", "17:30 30/11/2026"


def _period_counts(page: str) -> dict[str, int]:
    tabs = parse(page).find(tag="nav", **{"class": "tabs"})
    return {a.attrs["href"].rsplit("=", 1)[1]: int(a.find(tag="strong").text()) for a in tabs.find_all("a")}


def test_half_past_midnight_in_vietnam_is_already_the_first_of_december(app, db, tree, team):
    h = household(tree.hamlet)
    # Signed in at that moment: a session cookie signed later than the clock reads is not valid.
    with time_machine.travel(HALF_PAST_MIDNIGHT_IN_VN, tick=False):
        browser, _leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])
        officer, _user = sign_in_as(app, "commune", tree.commune)
        # The form opens on today's date, and today is the latest date it offers.
        date_input = parse(browser.get("/visits/new").get_data(as_text=True)).find(id="visited_on")
        assert (date_input.attrs["value"], date_input.attrs["max"]) == ("2026-12-01", "2026-12-01")
        # Yesterday's visit and today's are both accepted (today's is not "in the future").
        members = [team[1][0].id]
        for on, service in ((date(2026, 11, 30), "dvc"), (date(2026, 12, 1), "vneid")):
            resp = browser.post("/visits/new", data=form(h.id, on=on, members=members, services={service: "adopted"}))
            assert resp.status_code == 303, (on, resp.status_code)
        # "Today" and "this month" are Vietnam's: today's visit only; the week began on Monday 30/11.
        counts = _period_counts(browser.get("/visits/").get_data(as_text=True))
        assert counts == {"today": 1, "week": 2, "month": 1}
        # Coverage opens on December; the monthly report on the last full month, November.
        page = parse(officer.get(f"/coverage/{tree.commune.id}").get_data(as_text=True))
        assert page.find(id="month").attrs["value"] == "2026-12"
        resp = officer.get("/reports/")
        assert resp.status_code == 302 and resp.headers["Location"].endswith("month=2026-11")
        # December has begun: its report so far opens; January has not.
        assert officer.get(f"/reports/{tree.commune.id}/monthly?month=2026-12").status_code == 200
        resp = officer.get(f"/reports/{tree.commune.id}/monthly?month=2027-01")
        assert resp.status_code == 400 and "Tháng này chưa bắt đầu" in resp.get_data(as_text=True)


def test_times_are_shown_in_vietnam_time(app, db, tree, team):
    from app.api.models import issue_token
    h = household(tree.hamlet, "Trịnh Văn Sáng")
    with time_machine.travel(HALF_PAST_MIDNIGHT_IN_VN, tick=False):
        browser, _leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])
        district, _user = sign_in_as(app, "district", tree.district)
        province, province_user = sign_in_as(app, "province", tree.province)
        assert datetime.now(VN).strftime("%H:%M %d/%m/%Y") == SHOWN_IN_VN
        resp = browser.post("/visits/new", data=form(h.id, on=date(2026, 12, 1), members=[team[1][0].id],
                                                     services={"dvc": "adopted"}))
        assert resp.status_code == 303
        visit_page = browser.get(resp.headers["Location"]).get_data(as_text=True)
        record("update", "team", team[0].id, tree.commune.id, before={"name": team[0].name},
               after={"name": "Tổ CNSCĐ Khu vực Một"}, user=None)
        issue_token(province_user, "Trung tâm điều hành")
        db.session.commit()
        pages = {
            "the visit's page": visit_page,
            "the audit trail": district.get("/audit/").get_data(as_text=True),
            "the team's history": district.get(f"/teams/{team[0].id}").get_data(as_text=True),
            "the API tokens": province.get("/api-tokens/").get_data(as_text=True),
        }
    for name, page in pages.items():
        assert SHOWN_IN_VN in page and SHOWN_IN_UTC not in page, name
    from app.visits.models import Visit
    assert db.session.scalar(sa.select(Visit.created_at)) == HALF_PAST_MIDNIGHT_IN_VN


def test_a_month_is_year_dash_month_from_1900_to_9999():
    from app.dates import parse_month
    assert parse_month("2024-10") == (2024, 10)
    assert parse_month("1900-01") == (1900, 1) and parse_month("9999-12") == (9999, 12)
    assert parse_month("２０２４-10") == (2024, 10)  # digits typed full width read as the same month
    for bad in ("1899-12", "2024-00", "2024-13", "2024-1", "24-10", "2024/10", "", None):
        assert parse_month(bad) is None, bad
