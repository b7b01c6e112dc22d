"""Province staff on desktop and phone: the monthly summary, its printable version, tokens."""
import re
from datetime import date

from playwright.sync_api import expect

from app.auth.cli import create_user
from tests.browser.conftest import menu_link, shot, sign_in
from tests.report_data import Activity

PASSWORD = "mat-khau-thu-nghiem"


def test_monthly_summary_on_desktop_and_phone(app, db, tree, live_server, desktop, phone):
    Activity(tree)
    create_user("tinh", "province", tree.province, PASSWORD, full_name="Cán bộ tỉnh")
    db.session.commit()
    for page, name in ((desktop, "desktop"), (phone, "phone")):
        errors = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, live_server, "tinh", PASSWORD)
        menu_link(page, "Báo cáo")
        page.locator("#month").fill("2024-10")
        page.get_by_role("button", name="Xem").click()
        page.wait_for_load_state("domcontentloaded")
        expect(page.locator("h1")).to_contain_text("Báo cáo tháng: Tỉnh Hậu Giang")
        expect(page.locator('tr[data-unit="93"] td[data-key="households"]').first).to_have_text("1.260")
        shot(page, f"reports-monthly-{name}")
        # The tables scroll inside their cards; the page itself stays within the viewport.
        width = page.viewport_size["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("link", name="Bản in").click()
        page.wait_for_load_state("domcontentloaded")
        expect(page.locator("h1")).to_contain_text("10/2024")
        shot(page, f"reports-print-{name}")
        assert not errors
    desktop.goto(f"{live_server}/api-tokens/")
    desktop.fill("#token-label", "Trung tâm điều hành")
    desktop.get_by_role("button", name="Tạo mã truy cập").click()
    desktop.wait_for_load_state("domcontentloaded")
    expect(desktop.locator("#new-token")).to_have_value(re.compile("^cnscd_"))
    shot(desktop, "api-tokens-desktop")


def test_a_new_token_is_copied_with_one_tap_on_a_phone(app, db, tree, live_server, phone):
    """The new token sits in a read-only box that a tap selects whole, with a Copy button (44 px) that puts
    it on the clipboard; no sideways scroll at 360 px."""
    create_user("tinh", "province", tree.province, PASSWORD, full_name="Cán bộ tỉnh")
    db.session.commit()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_in(phone, live_server, "tinh", PASSWORD)
    phone.goto(f"{live_server}/api-tokens/")
    phone.fill("#token-label", "Trung tâm điều hành")
    phone.get_by_role("button", name="Tạo mã truy cập").click()
    phone.wait_for_load_state("domcontentloaded")
    token = phone.locator("#new-token").input_value()
    assert token.startswith("cnscd_") and len(token) > 30
    shot(phone, "api-token-copy-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("#new-token").tap()
    assert phone.locator("#new-token").evaluate("e => [e.selectionStart, e.selectionEnd]") == [0, len(token)]
    copy = phone.get_by_role("button", name="Sao chép")
    box = copy.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    copy.tap()
    expect(phone.locator("[data-copy-status]")).to_have_text(re.compile("^Đã sao chép"))
    assert phone.evaluate("navigator.clipboard.readText()") == token
    assert errors == []


def test_province_staff_correct_a_closed_month_on_a_phone(app, db, tree, live_server, phone):
    from datetime import date

    import sqlalchemy as sa

    from app.reports.closing import close_month
    from app.visits.models import Visit
    activity = Activity(tree)
    staff = create_user("tinh", "province", tree.province, PASSWORD, full_name="Cán bộ tỉnh")
    close_month(tree.province, 2024, 10, staff)
    db.session.commit()
    v = db.session.scalar(sa.select(Visit).where(Visit.household_id == activity.households["h2"].id,
                                                 Visit.visited_on == date(2024, 10, 15)))
    page = phone
    sign_in(page, live_server, "tinh", PASSWORD)
    page.goto(f"{live_server}/visits/{v.id}")
    expect(page.locator(".notice")).to_contain_text("tháng đã khóa sổ")
    page.get_by_role("link", name="Sửa").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_label("Lý do điều chỉnh")).to_be_visible()
    page.locator("#svc-e_wallet-adopted + label").click()
    page.get_by_label("Nguyễn Văn An").check()  # the seeded visit names nobody
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("#reason-error")).to_contain_text("Cần nêu lý do điều chỉnh")
    shot(page, "closed-month-correction-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Lý do điều chỉnh").fill("Hộ đã cài ví, tổ báo nhầm")
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".results")).to_contain_text("Ví điện tử")
    expect(page.locator(".badge.adopted")).to_have_count(1)
    page.goto(f"{live_server}/reports/closing")
    page.get_by_role("link", name="Mở lại sổ").click()
    page.wait_for_load_state("domcontentloaded")
    shot(page, "reopen-month-phone")
    page.get_by_label("Lý do mở lại sổ").fill("Khóa nhầm tháng")
    page.get_by_role("button", name="Mở lại sổ").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("body")).to_contain_text("Đã mở lại sổ tháng 10/2024")


def test_a_quarter_chosen_on_a_phone(app, db, tree, live_server, phone):
    """From the month's summary to the quarter's, the quarter picked from the list, as on a phone."""
    from tests.report_data import visit
    a = Activity(tree)
    visit(a.households["h1"], date(2024, 12, 10), a.team, {a.wallet: "guided"})  # Hộ Một again in December
    create_user("tinh-quy", "province", tree.province, PASSWORD, full_name="Cán bộ tỉnh")
    db.session.commit()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "tinh-quy", PASSWORD)
    phone.goto(f"{live_server}/reports/{tree.district.id}/monthly?month=2024-10")
    phone.get_by_role("link", name="Theo quý").click()
    phone.wait_for_load_state("domcontentloaded")
    phone.locator("#quarter").select_option(label="Quý IV/2024")
    phone.get_by_role("button", name="Xem").click()
    phone.wait_for_load_state("domcontentloaded")
    expect(phone.locator("h1")).to_contain_text("Báo cáo quý: Thành phố Vị Thanh")
    assert "quarter=2024-Q4" in phone.url
    total = phone.locator("tr.total").first
    # Five visits over October to December, three households: Hộ Một and Hộ Hai each counted once.
    expect(total.locator('td[data-key="visits"]')).to_have_text("5")
    expect(total.locator('td[data-key="reached_month"]')).to_have_text("3")
    assert phone.evaluate("document.documentElement.scrollWidth") <= phone.viewport_size["width"]
    shot(phone, "reports-quarterly-phone")
    phone.get_by_role("link", name="Bản in").click()
    phone.wait_for_load_state("domcontentloaded")
    expect(phone.locator("h1")).to_contain_text("Báo cáo tổng hợp Quý IV/2024: Thành phố Vị Thanh")
    assert not errors
