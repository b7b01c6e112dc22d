"""An admin on a phone creates, disables and re-enables a commune officer; the audit trail says so in words."""
from playwright.sync_api import expect

from app.auth.cli import create_user
from tests.browser.conftest import shot, sign_in
from tests.conftest import PASSWORD


def _small_targets(page, selector: str) -> list[str]:
    """The visible elements matching `selector` shorter than 44 px (a fingertip's width)."""
    return page.eval_on_selector_all(selector, """els => els
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map(e => e.outerHTML.slice(0, 80))""")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= 360")


def test_an_admin_creates_disables_and_re_enables_a_commune_officer_on_a_phone(app, db, tree, live_server, phone):
    create_user("quan-tri", "admin", tree.province, PASSWORD, full_name="Quản trị viên")
    db.session.commit()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "quan-tri", PASSWORD)

    phone.locator("details.more > summary").click()  # less-used links sit in the "More" list
    phone.get_by_role("link", name="Tài khoản", exact=True).click()
    expect(phone.locator("h1")).to_have_text("Tài khoản")
    phone.get_by_role("link", name="Tạo tài khoản").click()
    phone.fill("#full_name", "Võ Thị Hồng")
    phone.fill("#username", "vo.thi.hong")
    phone.select_option("#role", "commune")
    # The unit picker follows the role: communes only, each with its district.
    expect(phone.locator("#unit option", has_text="Phường I — Thành phố Vị Thanh")).to_have_count(1)
    expect(phone.locator("#unit option", has_text="Khu vực 1")).to_have_count(0)
    phone.select_option("#unit", label="Phường I — Thành phố Vị Thanh")
    assert _small_targets(phone, "main button, main input, main select, main a.button") == []
    assert _fits(phone)
    shot(phone, "account-new-phone")
    phone.get_by_role("button", name="Tạo tài khoản").click()
    expect(phone.locator("h1")).to_have_text("Đã tạo tài khoản")
    expect(phone.locator("#account-username")).to_have_text("vo.thi.hong")
    assert len(phone.locator("#account-password").inner_text()) >= 10

    phone.get_by_role("link", name="Xong").click()
    expect(phone.locator("#account-state")).to_contain_text("Đang hoạt động")
    phone.get_by_role("button", name="Khóa tài khoản").click()
    expect(phone.locator("#account-state")).to_contain_text("Đã khóa")
    phone.get_by_role("button", name="Mở lại tài khoản").click()
    expect(phone.locator("#account-state")).to_contain_text("Đang hoạt động")
    assert _small_targets(phone, "main button") == []
    assert _fits(phone)
    shot(phone, "account-show-phone")

    phone.locator("details.more > summary").click()
    phone.get_by_role("link", name="Nhật ký", exact=True).click()
    sentences = phone.locator(".event-sentence")
    expect(sentences.nth(0)).to_have_text("Đã mở lại tài khoản Võ Thị Hồng (vo.thi.hong)")
    expect(sentences.nth(1)).to_have_text("Đã khóa tài khoản Võ Thị Hồng (vo.thi.hong)")
    expect(sentences.nth(2)).to_have_text("Đã tạo tài khoản Võ Thị Hồng (vo.thi.hong)")
    expect(phone.locator(".events li").first).to_contain_text("quan-tri")
    assert "set_households" not in phone.content() and "hamlet" not in phone.locator(".events").inner_text()
    assert _fits(phone)
    shot(phone, "audit-words-phone")
    assert errors == []
