"""The API after a real reorganization (`flask units reorganize`, tests/test_reorganize.py's plan):
a code names the unit that bore it in the month asked (and a unit that ended mid-month, its summary page)."""
import pytest

from app.api.models import issue_token
from app.auth.models import User
from app.extensions import db as _db
from app.units.models import AdminUnit
from tests.report_data import forget_signed_in_user
from tests.test_reorganize import PLAN, plan_csv, reorganize, world  # noqa: F401 - the world fixture


@pytest.fixture
def secret(world, runner, tmp_path):  # noqa: F811 - the fixture imported above
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    staff = _db.session.scalar(_db.select(User).where(User.username == "staff-93"))  # moved to Cần Thơ
    _token, value = issue_token(staff, label="Trung tâm điều hành")
    _db.session.commit()
    return value


def _get(client, secret, query):
    return client.get(f"/api/v1/coverage?{query}", headers={"Authorization": f"Bearer {secret}"})


def _adopted(body):
    return sum(s["adopted"] for s in body["services"])


def test_an_old_code_answers_for_an_old_month_and_the_reused_code_for_a_new_month(client, secret):
    # 31318 (Phường I) ended with the reform: March is its month; September has no bearer of it.
    old = _get(client, secret, "unit=31318&month=2025-03")
    assert old.status_code == 200 and old.json["unit"]["name"] == "Phường I"
    assert [c["unit"]["name"] for c in old.json["children"]] == ["Khu vực 1", "Khu vực 2"]
    assert old.json["households"] == 320 + 410
    assert _get(client, secret, "unit=31318&month=2025-09").status_code == 404
    # 31321 was Phường III until June and is Phường Vị Thanh (I and III merged) from July.
    before = _get(client, secret, "unit=31321&month=2025-05").json
    after = _get(client, secret, "unit=31321&month=2025-07").json
    assert before["unit"]["name"] == "Phường III" and before["households"] == 150
    assert after["unit"]["name"] == "Phường Vị Thanh" and after["households"] == 320 + 410 + 150
    # Today's Phường Vị Thanh in May: the figures of the hamlets it holds now, the two old communes' sum.
    today = _get(client, secret, "unit=31321&month=2025-05&map=today").json
    phuong_1 = _get(client, secret, "unit=31318&month=2025-05").json
    assert today["unit"]["name"] == "Phường Vị Thanh"
    # ... its rows the three hamlets it holds now; Phường III's in May, as the map was, its one.
    assert [c["unit"]["name"] for c in today["children"]] == ["Khu vực 1", "Khu vực 2", "Khu vực 3"]
    assert [c["unit"]["name"] for c in before["children"]] == ["Khu vực 3"]
    assert (today["households"], _adopted(today)) == (phuong_1["households"] + before["households"],
                                                      _adopted(phuong_1) + _adopted(before))
    # The old province (93) in May, as the map was; the new one (92) did not exist yet.
    assert _get(client, secret, "unit=93&month=2025-05").json["households"] == 1610
    assert _get(client, secret, "unit=92&month=2025-05").status_code == 404
    assert _get(client, secret, "unit=92&month=2025-09").json["households"] == 1610


def test_a_code_retired_on_the_first_answers_for_the_month_before_only(client, secret):
    # Phường I's last day was 30 June 2025: June is its last month, July none of its own.
    june = _get(client, secret, "unit=31318&month=2025-06")
    assert june.status_code == 200 and june.json["unit"]["name"] == "Phường I"
    july = _get(client, secret, "unit=31318&month=2025-07")
    assert july.status_code == 404
    assert july.json["error"]["message"] == (  # in the token owner's language
        "Không có đơn vị nào mang mã này trong địa bàn của bạn vào tháng đó.")
    assert _get(client, secret, "unit=92&month=2025-06").status_code == 404


def test_a_code_handed_over_mid_month_names_the_bearer_at_the_month_end(world, runner, tmp_path, client,  # noqa: F811
                                                                        login_as):
    # The same plan, effective on 15 July: in July 31321 was Phường III, then Phường Vị Thanh.
    result = reorganize(runner, plan_csv(tmp_path, PLAN, day="2025-07-15"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    staff = _db.session.scalar(_db.select(User).where(User.username == "staff-93"))
    _token, value = issue_token(staff, label="Trung tâm điều hành")
    _db.session.commit()
    assert _get(client, value, "unit=31321&month=2025-07").json["unit"]["name"] == "Phường Vị Thanh"
    assert _get(client, value, "unit=31321&month=2025-06").json["unit"]["name"] == "Phường III"
    # Phường I bore 31318 until 14 July, and nothing at July's end, when July is counted: June was its
    # last month, and the answer says so.
    assert _get(client, value, "unit=31318&month=2025-06").json["unit"]["name"] == "Phường I"
    july = _get(client, value, "unit=31318&month=2025-07")
    assert july.status_code == 404
    assert july.json["error"]["message"] == (  # in the token owner's language
        "Phường I kết thúc ngày 14/07/2025. Số liệu của một tháng tính đến cuối tháng, nên tháng cuối cùng của "
        "đơn vị là 2025-06.")
    # Its summary page for July says the same, and links to June's.
    phuong_1 = _db.session.scalar(_db.select(AdminUnit).where(AdminUnit.code == "31318"))
    forget_signed_in_user()
    login_as("province", _db.session.scalar(_db.select(AdminUnit).where(AdminUnit.code == "92")))
    page = client.get(f"/reports/{phuong_1.id}/monthly?month=2025-07")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ("Phường I kết thúc ngày 14/07/2025. Số liệu của một kỳ tính đến cuối kỳ, nên tháng cuối cùng của "
            "đơn vị là 06/2025.") in html
    assert f'href="/reports/{phuong_1.id}/monthly?month=2025-06' in html
