"""Every month field and `month=` parameter takes a month as the reports do (10/2024 or 2024-10) and refuses
anything else with one message and the same hint."""
import re

import pytest
import sqlalchemy as sa

from app.activities.models import CommuneDossierTotal
from app.api.models import issue_token
from app.dates import parse_month
from tests.report_data import Activity
from tests.visits_helpers import sign_in_as

MESSAGE = "Nhập tháng theo dạng tháng/năm, ví dụ 10/2024."
HINT = "Ví dụ 10/2024"


@pytest.mark.parametrize("typed, month", [("2024-10", (2024, 10)), ("10/2024", (2024, 10)), ("3/2025", (2025, 3)),
                                          (" 03/2025 ", (2025, 3))])
def test_a_month_is_read_either_way(typed, month):
    assert parse_month(typed) == month


@pytest.mark.parametrize("typed", ["13/2024", "2024-13", "2024/10", "10-2024", "١٠/٢٠٢٤", "10/24", ""])
def test_anything_else_is_not_a_month(typed):
    assert parse_month(typed) is None


def test_coverage_pages_and_their_sections_take_the_month_as_the_reports_do(tree, client, login_as):
    Activity(tree)
    login_as("province", tree.province)
    for path in (f"/coverage/{tree.province.id}", f"/coverage/{tree.district.id}"):
        written = client.get(f"{path}?month=10/2024")
        assert written.status_code == 200
        text = written.get_data(as_text=True)
        assert "cuối tháng 10/2024" in text and HINT in text
        same = client.get(f"{path}?month=2024-10").get_data(as_text=True)
        # The same page, its links carrying the month as it was asked.
        assert re.sub(r"month=[^&\"]*", "", text) == re.sub(r"month=[^&\"]*", "", same)
        refused = client.get(f"{path}?month=tháng mười")
        assert refused.status_code == 400
        assert MESSAGE in refused.get_data(as_text=True) and HINT in refused.get_data(as_text=True)
    # The sections the page loads as it is scrolled to (trend, adults): the same month, the same message.
    for section in ("trend", "adults"):
        url = f"/coverage/{tree.district.id}/{section}"
        assert client.get(f"{url}?month=10/2024", headers={"HX-Request": "true"}).status_code == 200
        refused = client.get(f"{url}?month=2024/10", headers={"HX-Request": "true"})
        assert refused.status_code == 400 and MESSAGE in refused.get_data(as_text=True)


def test_the_team_page_takes_the_month_as_the_reports_do(app, tree):
    activity = Activity(tree)
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    written = browser.get("/coverage/team?month=10/2024")
    assert written.status_code == 200 and "cuối tháng 10/2024" in written.get_data(as_text=True)
    refused = browser.get("/coverage/team?month=10.2024")
    assert refused.status_code == 400
    assert MESSAGE in refused.get_data(as_text=True) and HINT in refused.get_data(as_text=True)


def test_the_communes_dossier_total_takes_the_month_as_the_reports_do(app, db, tree):
    officer = sign_in_as(app, "commune", tree.commune)[0]
    assert HINT in officer.get("/activities/dossiers").get_data(as_text=True)
    assert officer.post("/activities/dossiers", data={"month": "3/2024", "dossiers": "40"}).status_code == 303
    assert db.session.scalar(sa.select(CommuneDossierTotal.dossiers).where(CommuneDossierTotal.month == 202403)) == 40
    refused = officer.post("/activities/dossiers", data={"month": "tháng 3", "dossiers": "40"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert MESSAGE in page and 'value="tháng 3"' in page


def test_the_api_reads_mm_yyyy_as_yyyy_mm(tree, db, client, login_as):
    Activity(tree)
    user = login_as("province", tree.province, username="ttdh-month")
    _token, secret = issue_token(user, label="test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    written = client.get("/api/v1/coverage?unit=93&month=10/2024", headers=headers)
    assert written.status_code == 200 and written.json == client.get(
        "/api/v1/coverage?unit=93&month=2024-10", headers=headers).json
    refused = client.get("/api/v1/coverage?unit=93&month=2024/10", headers=headers)
    assert refused.status_code == 400
    assert refused.json["error"]["message"] == "Nhập tháng theo dạng YYYY-MM (hoặc MM/YYYY), ví dụ 2024-10."
