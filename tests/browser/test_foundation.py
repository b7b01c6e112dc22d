"""A commune officer on a phone: Vietnamese sign-in, hamlets, active search, language switch."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.units.models import AdminUnit
from tests.browser.conftest import shot, sign_in


def test_demo_commune_officer_on_a_phone(app, db, live_server, phone):
    seed_demo()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{live_server}/auth/login")
    assert phone.locator("h1").inner_text() == "Đăng nhập"
    shot(phone, "login-phone")
    sign_in(phone, live_server, "demo-commune", DEMO_PASSWORD)
    assert phone.locator("h1").inner_text() == "Phường I"
    assert phone.get_by_role("heading", name="Các ấp").is_visible()

    # Add a hamlet, its name typed with diacritics, its count in the Vietnamese way.
    phone.fill("#hamlet-name", "Ấp Tân Long")
    phone.fill("#hamlet-households", "1.851")
    phone.get_by_role("button", name="Thêm ấp").click()
    phone.wait_for_load_state("domcontentloaded")
    assert "Đã thêm ấp Ấp Tân Long." in phone.locator(".flash").inner_text()
    assert phone.locator("#children").get_by_text("Ấp Tân Long").is_visible()
    assert "1.851" in phone.locator("#children").inner_text()
    shot(phone, "commune-phone")

    # Active search without diacritics, through htmx (so the CSP lets htmx run).
    phone.fill("#q", "tan long")
    expect(phone.locator("#children tbody tr")).to_have_count(1)
    assert phone.locator("#children tbody tr").inner_text().startswith("Ấp Tân Long")
    assert "q=tan+long" in phone.url or "q=tan%20long" in phone.url

    # The page fits the phone: nothing wider than the viewport.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # English on request, remembered.
    phone.get_by_role("button", name="EN").click()
    phone.wait_for_load_state("domcontentloaded")
    assert phone.get_by_role("heading", name="Hamlets").is_visible()
    assert errors == []
    hamlet = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Tân Long"))
    assert hamlet is not None


def test_district_page_on_desktop(app, db, live_server, desktop):
    seed_demo()
    sign_in(desktop, live_server, "demo-district", DEMO_PASSWORD)
    assert desktop.locator("h1").inner_text() == "Thành phố Vị Thanh"
    rows = desktop.locator("#children tbody tr")
    assert rows.count() == 9  # the communes of Vị Thanh in the GSO list
    shot(desktop, "district-desktop")
