"""The header is one row for every role: on a 360-px phone the brand and "Menu", which opens every link of the
role's menu as a 44-px target; on a desktop the role's main links in the row, the rest under "More"."""
import pytest

from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import seed_demo, sign_in

ROW = 44  # one tap target's height: the header is that tall when it is one row

# The header's links and buttons a thumb can tap now: visible, with their size.
TARGETS = r"""() => [...document.querySelectorAll('header.top a, header.top button, header.top summary')]
  .filter(e => e.checkVisibility({visibilityProperty: true}) && e.getBoundingClientRect().height > 0)
  .map(e => ({text: e.innerText.replace(/\s+/g, ' ').trim(), href: e.getAttribute('href'),
              w: e.getBoundingClientRect().width, h: e.getBoundingClientRect().height}))"""

# Every page the header's links lead to, visible or not (the same link may stand in the row and in the menu).
ALL_LINKS = "() => [...new Set([...document.querySelectorAll('header.top a[href]')].map(a => a.getAttribute('href')))]"


def _header_height(page) -> float:
    return page.evaluate("document.querySelector('header.top').getBoundingClientRect().height")


@pytest.mark.parametrize("username,first_links", [
    ("demo-leader", ["+ Ghi lượt hướng dẫn", "+ Ghi buổi học", "Lượt hướng dẫn đã ghi"]),
    ("demo-member", ["+ Ghi lượt hướng dẫn", "+ Ghi buổi học", "Lượt hướng dẫn đã ghi"]),
    ("demo-commune", ["Địa bàn", "Tổ CNSCĐ", "Độ phủ"]),
    ("demo-area", ["Độ phủ", "Báo cáo", "Địa bàn", "Tổ CNSCĐ"]),
    ("demo-province", ["Độ phủ", "Báo cáo", "Địa bàn", "Tổ CNSCĐ"]),
    ("demo-admin", ["Độ phủ", "Báo cáo", "Địa bàn", "Tổ CNSCĐ"]),
])
def test_every_role_s_header_is_one_row_on_a_phone_and_on_a_desktop_with_every_link_within_reach(
        app, db, live_server, phone, desktop, username, first_links):
    seed_demo()
    sign_in(phone, live_server, username, DEMO_PASSWORD)
    assert _header_height(phone) <= ROW + 0.5
    closed = phone.evaluate(TARGETS)
    assert [t["text"] for t in closed] == ["Tổ công nghệ số cộng đồng", "Trình đơn"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.locator("header.top details.more > summary").click()
    opened = phone.evaluate(TARGETS)
    links = [t for t in opened if t["href"]]
    # The role's main links first, then the less-used ones: every page the header leads to, each once.
    assert [t["text"] for t in links[1:1 + len(first_links)]] == first_links
    assert sorted(t["href"] for t in links) == sorted(phone.evaluate(ALL_LINKS))
    assert len({t["href"] for t in links}) == len(links)
    small = [t for t in opened if t["w"] < 43.5 or t["h"] < 43.5]
    assert small == [], small
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # Through the menu to the role's first page, and the header is one row there too.
    phone.locator(f'header.top .more-panel a[href="{links[1]["href"]}"]').click()
    phone.wait_for_load_state("domcontentloaded")
    assert _header_height(phone) <= ROW + 0.5

    sign_in(desktop, live_server, username, DEMO_PASSWORD)
    assert _header_height(desktop) <= ROW + 0.5
    row = [t["text"] for t in desktop.evaluate(TARGETS)]
    assert row == ["Tổ công nghệ số cộng đồng", *first_links, "Thêm"]
