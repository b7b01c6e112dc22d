"""The visit form on a 360×740 phone: a new household takes the searched name; a refused save shows
its errors where the eye is."""
from playwright.sync_api import expect

from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import seed_demo, sign_in

NAME = "Thạch Thị Sa Rươl"


def test_a_new_household_takes_the_name_searched_for(app, db, live_server, phone):
    seed_demo()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    details = phone.locator("details.new-household")
    expect(details).not_to_have_attribute("open", "")
    with phone.expect_request_finished(lambda r: "/visits/households" in r.url):
        phone.fill("#q", NAME)
    add = phone.locator("button[name=add_new]")
    expect(add).to_contain_text(NAME)
    add.click()
    expect(details).to_have_attribute("open", "")
    expect(phone.locator("#new_name")).to_have_value(NAME)
    expect(phone.locator("#new_name")).to_be_focused()
    expect(phone.locator("#new_name")).to_be_in_viewport()
    expect(phone.locator("#hh-new")).to_be_checked()
    assert phone.url.endswith("/visits/new")  # opened in place: nothing was posted

    # The "new household" choice does the same with what is in the search box.
    phone.goto(f"{live_server}/visits/new")
    phone.fill("#q", "Lâm Văn Út")
    phone.locator("label[for=hh-new]").click()
    expect(phone.locator("details.new-household")).to_have_attribute("open", "")
    expect(phone.locator("#new_name")).to_have_value("Lâm Văn Út")
    hint = phone.locator("#new_name-hint")
    expect(hint).to_have_text("Viết tên có dấu, ví dụ Nguyễn Văn Tết.")
    expect(hint).not_to_have_class("hint warning")

    # Searched without accents (as the box invites), the name is filled in without them: the hint stands out
    # until they are added.
    phone.goto(f"{live_server}/visits/new")
    phone.fill("#q", "lam van ut")
    phone.locator("label[for=hh-new]").click()
    expect(phone.locator("#new_name")).to_have_value("lam van ut")
    expect(hint).to_have_class("hint warning")
    phone.fill("#new_name", "Lâm Văn Út")
    expect(hint).to_have_class("hint")
    assert errors == []


def test_a_refused_save_shows_the_error_summary_in_view(app, db, live_server, phone):
    seed_demo()
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    phone.get_by_role("button", name="Lưu lượt hướng dẫn").click()  # no household, no service
    # The form posts through resend.js, which writes the answer into the page (no navigation to wait for);
    # the summary's links work once its deferred script has run, by the time the page is complete. A click
    # before that follows the bare #anchor (seen once in CI, waiting for "domcontentloaded" only).
    phone.wait_for_function("() => !!document.getElementById('error-summary') && document.readyState === 'complete'",
                            timeout=15000)
    summary = phone.locator("#error-summary")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_count(2)
    # A link in the summary takes the user to the field, focused.
    summary.locator("a[href='#services']").click()
    # The focus moves in the link's click handler: wait for it rather than read it at once (two browsers
    # share CI's cores). A function, not a bare expression: Playwright re-evaluates an expression with
    # eval() when it polls, which the app's Content-Security-Policy refuses (a failure only when slow).
    phone.wait_for_function("() => (document.activeElement && document.activeElement.name || '').startsWith('svc-')",
                            timeout=5000)
    expect(phone.locator("#services-error")).to_be_in_viewport()
