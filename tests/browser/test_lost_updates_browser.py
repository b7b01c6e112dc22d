"""The visit form on a 360×740 phone, saved over a change made since it was opened: the answer, written into the
page by its script (resend.js), shows what the visit holds now, keeps what was typed, and saves when sent again."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.demo.seed import DEMO_PASSWORD
from app.extensions import db as _db
from app.visits.models import Visit
from tests.browser.conftest import script_errors, seed_demo, shot, sign_in


def test_a_visit_saved_over_an_officer_s_change_shows_it_and_saves_when_sent_again(app, db, live_server, phone,
                                                                                    desktop):
    seed_demo()
    team_id = _db.session.scalar(sa.select(User.team_id).where(User.username == "demo-leader"))
    visit_id = _db.session.scalar(sa.select(sa.func.max(Visit.id)).where(Visit.team_id == team_id))
    url = f"{live_server}/visits/{visit_id}/edit"
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.goto(url)  # the leader opens the visit on a phone...
    sign_in(desktop, live_server, "demo-commune", DEMO_PASSWORD)
    desktop.goto(url)  # ...and the commune officer corrects it meanwhile
    desktop.fill("textarea[name=note]", "Cán bộ xã: hộ đã tự nộp hồ sơ")
    desktop.locator("button[name=save]").click()
    desktop.wait_for_url(f"**/visits/{visit_id}")

    phone.fill("textarea[name=note]", "Chị Lan tự cài VNeID")
    phone.locator("button[name=save]").click()
    phone.wait_for_function(
        "() => !!document.getElementById('changed-meanwhile') && document.readyState === 'complete'", timeout=15000)
    notice = phone.locator("#changed-meanwhile")
    expect(notice).to_contain_text("Người khác đã sửa mục này sau khi bạn mở biểu mẫu.")
    expect(notice).to_contain_text("Hiện tại: Cán bộ xã: hộ đã tự nộp hồ sơ")
    expect(notice).to_contain_text("Bạn nhập: Chị Lan tự cài VNeID")
    expect(phone.locator("textarea[name=note]")).to_have_value("Chị Lan tự cài VNeID")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.locator("button[name=save]").bounding_box()["height"] >= 44
    shot(phone, "visit-changed-meanwhile-360")

    phone.locator("button[name=save]").click()  # seen: saved over it
    phone.wait_for_function("() => location.pathname.endsWith('/visits/" + str(visit_id) + "')", timeout=15000)
    _db.session.expire_all()
    assert _db.session.get(Visit, visit_id).note == "Chị Lan tự cài VNeID"
    # The browser's own line for the 409 it was answered is no script error.
    assert [e for e in errors if "status of 409" not in e] == []
