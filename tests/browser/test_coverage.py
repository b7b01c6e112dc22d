"""A district officer's coverage page on a phone and on a desktop: SVG trend, table, htmx drill-down."""
from datetime import date

from playwright.sync_api import expect

from app.auth.cli import create_user
from app.extensions import db as _db
from tests.browser.conftest import menu_link, shot, sign_in
from tests.test_coverage import households, make_services, visit


def _district_with_visits(tree):
    wallet, vneid = make_services()
    from app.visits.models import Target
    _db.session.add(Target(service_id=wallet.id, province_id=tree.province.id, share=0.5, due_on=date(2025, 12, 31)))
    for i, h in enumerate(households(tree.hamlet, 200)):
        visit(h, date(2024, 1 + i % 6, 10), adopted=[wallet] if i % 3 else [], guided=[vneid])
    for i, h in enumerate(households(tree.hamlet2, 300)[:120]):
        visit(h, date(2024, 2 + i % 5, 12), adopted=[wallet, vneid])
    create_user("cb-huyen", "district", tree.district, "mat-khau-huyen-2024", full_name="Lê Văn Phúc")
    _db.session.commit()


def test_district_coverage_on_a_phone(app, db, tree, live_server, phone):
    _district_with_visits(tree)
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "cb-huyen", "mat-khau-huyen-2024")
    menu_link(phone, "Độ phủ")
    phone.goto(f"{live_server}/coverage/{tree.district.id}?month=2024-06")
    expect(phone.locator("h1")).to_have_text("Độ phủ: Thành phố Vị Thanh")
    # A phone shows one service at a time, a card per unit against the target; the wide table waits
    # for a wide screen.
    expect(phone.locator("table.coverage-table")).to_be_hidden()
    cards = phone.locator(".unit-cards li")
    expect(cards.first).to_contain_text("Phường I")
    expect(phone.locator(".target-line")).to_contain_text("50%")
    phone.select_option("#service", "vneid")  # htmx swaps the content on change
    expect(phone.locator(".target-line")).to_contain_text("chưa đặt chỉ tiêu")
    assert "service=vneid" in phone.url
    # The trend comes when scrolled to (htmx "revealed"): scroll down, then wait for the charts.
    # (Scrolling the page, not the placeholder: htmx may be swapping the placeholder out already.)
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(phone.locator("svg.trend").first).to_be_visible()
    expect(phone.locator("table.trend-table")).to_be_attached()
    assert phone.locator("svg.trend polyline").count() >= 2
    # Nothing scrolls sideways, not even inside a box.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # (A stacked table's header row is clipped to nothing for screen readers: not a box anyone scrolls.)
    widest = ("Math.max(...[...document.querySelectorAll('main *')]"
              ".filter(e => !e.closest('.visually-hidden, table.stack thead'))"
              ".map(e => e.scrollWidth - e.clientWidth))")
    assert phone.evaluate(widest) <= 1

    # Drill down with htmx, a 44-px card link: the URL follows, and back returns to the district.
    link = phone.locator(".unit-cards").get_by_role("link", name="Phường I", exact=True)
    assert link.bounding_box()["height"] >= 44
    link.click()
    expect(phone.locator("h1")).to_have_text("Độ phủ: Phường I")
    # It opens at its top, as a page does (the tap came from below the fold: the trend had been scrolled to).
    phone.wait_for_function("() => window.scrollY === 0", timeout=5000)
    expect(phone.locator("h1")).to_be_focused()  # where a screen reader starts reading, as on a new page
    assert f"/coverage/{tree.commune.id}" in phone.url and "month=2024-06" in phone.url
    assert "service=vneid" in phone.url
    phone.go_back()
    expect(phone.locator("h1")).to_have_text("Độ phủ: Thành phố Vị Thanh")
    assert errors == []
    # Screenshots last: Playwright's full-page capture itself trips the CSP on a phone viewport.
    shot(phone, "coverage-district-phone")
    phone.goto(f"{live_server}/coverage/{tree.commune.id}?month=2024-06")
    shot(phone, "coverage-commune-phone")


def test_district_coverage_on_a_desktop(app, db, tree, live_server, desktop):
    _district_with_visits(tree)
    sign_in(desktop, live_server, "cb-huyen", "mat-khau-huyen-2024")
    desktop.goto(f"{live_server}/coverage/{tree.district.id}?month=2024-06")
    expect(desktop.locator("table.coverage-table")).to_be_visible()
    # Scrolled down as a reader does: the adult section loads and grows, then the trend below it.
    desktop.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(desktop.locator("table.adult-table")).to_be_attached()
    desktop.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(desktop.locator("svg.trend").first).to_be_visible()
    expect(desktop.locator("table.trend-table")).to_be_attached()
    shot(desktop, "coverage-district-desktop")
    desktop.goto(f"{live_server}/coverage/{tree.district.id}?month=2031-01")
    expect(desktop.locator("#month-error")).to_contain_text("chưa bắt đầu")
