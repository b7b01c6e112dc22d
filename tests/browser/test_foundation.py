"""A commune officer on a phone: Vietnamese sign-in, hamlets, active search, language switch."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.demo.seed import DEMO_PASSWORD
from app.units.models import AdminUnit
from tests.browser.conftest import seed_demo, shot, sign_in


def test_demo_commune_officer_on_a_phone(app, db, live_server, phone):
    seed_demo()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{live_server}/auth/login")
    assert phone.locator("h1").inner_text() == "Đăng nhập"
    shot(phone, "login-phone")
    sign_in(phone, live_server, "demo-commune", DEMO_PASSWORD)
    # Phường I was merged into Phường Vị Thanh by the demo's reorganization on 1 July 2025.
    assert phone.locator("h1").inner_text() == "Phường Vị Thanh"
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
    phone.locator("details.more summary").click()  # the language sits in the "More" menu
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state("domcontentloaded")
    assert phone.get_by_role("heading", name="Hamlets").is_visible()
    assert errors == []
    hamlet = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Tân Long"))
    assert hamlet is not None


def test_a_hamlet_count_far_from_the_others_is_asked_about_where_the_officer_is_looking(app, db, live_server, phone):
    """The add form sits at the foot of the commune's long page: asked about 99.999 households, the page opens at
    the question, not at its top; tapped again, the hamlet is added and the page opens at the message."""
    seed_demo()
    sign_in(phone, live_server, "demo-commune", DEMO_PASSWORD)
    phone.fill("#hamlet-name", "Ấp Thử")
    phone.fill("#hamlet-households", "99999")
    phone.get_by_role("button", name="Thêm ấp").click()
    phone.wait_for_load_state("domcontentloaded")
    question = phone.locator("#hamlet-households-error")
    expect(question).to_contain_text("99.999 hộ khác xa các ấp khác của xã")
    expect(question).to_be_in_viewport()
    assert phone.input_value("#hamlet-name") == "Ấp Thử" and phone.input_value("#hamlet-households") == "99999"
    phone.get_by_role("button", name="Thêm ấp").click()
    phone.wait_for_load_state("domcontentloaded")
    expect(phone.locator(".flash")).to_contain_text("Đã thêm ấp Ấp Thử.")
    expect(phone.locator(".flash")).to_be_in_viewport()


def test_area_page_on_desktop(app, db, live_server, desktop):
    seed_demo()
    sign_in(desktop, live_server, "demo-area", DEMO_PASSWORD)
    assert desktop.locator("h1").inner_text() == "Khu vực Vị Thanh"
    rows = desktop.locator("#children tbody tr")
    assert rows.count() == 3  # the new communes that took in the 9 of the former Thành phố Vị Thanh
    shot(desktop, "district-desktop")


def test_search_after_the_session_expired_goes_to_sign_in_and_back(app, db, tree, live_server, phone):
    """On a phone left open overnight: typing in the household search must not show the sign-in
    form inside the results; the page goes to sign in, then comes back to the list."""
    from app.auth.cli import create_user
    from tests.conftest import PASSWORD
    create_user("can-bo-xa", "commune", tree.commune, PASSWORD, full_name="Cán bộ xã")
    db.session.commit()
    sign_in(phone, live_server, "can-bo-xa", PASSWORD)
    phone.goto(f"{live_server}/households/")
    phone.context.clear_cookies()  # the session is gone
    phone.locator("input[type=search]").first.fill("nguyen")
    expect(phone).to_have_url(re.compile(r"/auth/login\?next="))
    expect(phone.locator("#households")).to_have_count(0)
    phone.fill("#username", "can-bo-xa")
    phone.fill("#password", PASSWORD)
    phone.click("button.primary")
    expect(phone).to_have_url(re.compile(r"/households/"))
