"""A team leader on a phone copies the team's month for the Zalo group."""
from playwright.sync_api import expect

from app.auth.cli import create_user
from tests.browser.conftest import shot, sign_in
from tests.report_data import Activity

PASSWORD = "mat-khau-thu-nghiem"


def test_a_leader_copies_the_team_month_on_a_phone(app, db, tree, live_server, phone):
    activity = Activity(tree)
    leader = create_user("totruong", "team_leader", tree.commune, PASSWORD, full_name="Tổ trưởng")
    leader.team_id = activity.team.id
    db.session.commit()
    page = phone
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_in(page, live_server, "totruong", PASSWORD)
    page.goto(f"{live_server}/coverage/team?month=2024-10")
    box = page.locator("details.share-message")
    copy = box.get_by_role("button", name="Sao chép tin nhắn")
    expect(copy).to_be_hidden()  # folded until asked for
    box.locator("summary").click()
    expect(copy).to_be_visible()
    assert copy.bounding_box()["height"] >= 44
    text = box.locator("textarea").input_value()
    assert text.startswith(f"{activity.team.name}, tháng 10/2024:\n- 3 lượt hướng dẫn tại 3 hộ\n")
    copy.click()
    expect(box.get_by_role("status")).to_have_text("Đã sao chép: dán vào nhóm để gửi.")
    assert page.evaluate("navigator.clipboard.readText()") == text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "team-message-phone")
