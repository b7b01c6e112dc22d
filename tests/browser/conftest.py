"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the app on a live port.

Without the browser these tests skip, unless REQUIRE_BROWSER=1 (CI), when they fail.
"""
import os
import threading
import time
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from app.demo import seed
from tests import snapshots

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a sandbox with no network but loopback (see the machine notes in README).
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def seed_demo() -> dict[str, int]:
    """The demo every journey starts from: `flask demo seed`'s world, built once per test process and put back
    for each test after (tests/snapshots.py)."""
    return snapshots.world("demo", seed.seed_demo)


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    """A 360×740 phone viewport, Vietnamese."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                   device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def desktop(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    """Keep a screenshot when SCREENSHOTS names a folder (used when reviewing pages by eye)."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def script_errors(page) -> list[str]:
    """The page's console errors as they come, but for the browser's own line for a request made
    without signal ("net::ERR_INTERNET_DISCONNECTED"): the offline tests make those on purpose."""
    errors = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "ERR_INTERNET_DISCONNECTED" not in m.text else None)
    return errors


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_load_state("domcontentloaded")



def menu_link(page, name: str) -> None:
    """Tap a link of the header's menu, as a user does: on a phone the role's links sit behind "Menu", so it is
    opened first; from 52rem they stand in the header's row."""
    header = page.locator("header.top")
    if not header.locator("nav.top-nav").is_visible():
        header.locator("details.more > summary").click()
    header.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state("domcontentloaded")


def wait_until(page, predicate: str, timeout: float = 15.0) -> None:
    """Wait until an async page function resolves truthy. Playwright's wait_for_function takes the promise
    an async predicate returns for a truthy value and returns at once (microsoft/playwright#29132): a
    test that waited so for the phone to keep the team's list went offline before it was kept, now and
    then, in CI. page.evaluate awaits the promise; this asks again until it is true."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:.0f} s: {predicate}")
        page.wait_for_timeout(100)

@contextmanager
def htmx_settles(page, selector: str):
    """Run the block (a click that makes htmx swap new content into `selector`), then wait until
    htmx has settled it: swapped-in content is wired up (its hx- attributes processed) only then,
    so a test typing into a swapped-in field any earlier would go unheard."""
    page.evaluate("""(selector) => {
        window.__htmxSettled = false;
        const done = (e) => {
            if (e.target.matches && e.target.matches(selector)) {
                window.__htmxSettled = true;
                document.removeEventListener('htmx:afterSettle', done);
            }
        };
        document.addEventListener('htmx:afterSettle', done);
    }""", selector)
    yield
    page.wait_for_function("() => window.__htmxSettled === true")
