"""Province staff preview and apply a reorganization plan from a phone (360×740)."""
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.test_reorganize import PLAN, plan_csv, world  # noqa: F401  (the fixture)


def test_province_staff_preview_and_apply_a_plan_on_a_phone(app, db, world, live_server, phone, tmp_path):  # noqa: F811
    page = phone
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "staff-93", "matkhau-dai-du-12")
    page.goto(f"{live_server}/units/{world.province}")
    page.get_by_role("link", name="Sắp xếp đơn vị hành chính của tỉnh").click()
    page.wait_for_load_state("domcontentloaded")
    page.set_input_files("#file", str(plan_csv(tmp_path, PLAN)))
    page.get_by_role("button", name="Xem trước").click()
    page.wait_for_load_state("domcontentloaded")
    changes = page.locator("#preview")
    expect(changes).to_contain_text("Sáp nhập thành Phường Vị Thanh (31321): Phường I (31318), Phường III (31321).")
    expect(changes).to_contain_text("Chia tách: Thị trấn Một Ngàn (31338)")
    expect(changes).to_contain_text("Tài khoản xa-31338 bị vô hiệu hóa")
    apply = page.get_by_role("button", name="Áp dụng phương án sắp xếp")
    box = apply.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "reorganize-preview-phone")
    apply.click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("h1")).to_contain_text("hiệu lực từ 01/07/2025")
    expect(page.locator("ul.plan-teams")).to_contain_text("Tổ Phường I chuyển từ Phường I về Phường Vị Thanh")
    shot(page, "reorganize-done-phone")
    assert not errors
