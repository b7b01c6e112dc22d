"""Every page an area officer, a team leader, province staff and a commune officer reach, on a 360×740
touch phone: nothing scrolls sideways (neither the page nor a box in it) and every tap target in the
header, main content and footer is at least 44 × 44 px. A commune officer's pages again at 1280×800: the
same targets, where a link on a line of its own no longer wraps to two lines' height."""
import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import seed_demo, sign_in

MAX_PAGES = 24  # per user, at most PER_KIND of each kind (/units/N): every kind of page, quick enough
PER_KIND = 2
DESKTOP_PAGES = 60  # a commune officer's every kind of page, members' among them, in about 8 s
SKIP = ("/auth/logout", ".xlsx", ".csv", "/export", "/static/")

# Visible links, buttons, fields, summaries and labels; a checkbox or radio button counts through its
# label (the label is what a thumb taps), and visually hidden labels are not targets at all.
SMALL_TARGETS = """() => {
  const out = [];
  const picked = document.querySelectorAll(
    'header a, header button, header summary, main a, main button, main input:not([type=hidden]), ' +
    'main select, main textarea, main summary, main label, footer a, footer button');
  for (const el of picked) {
    if (el.closest('.visually-hidden')) continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (!label) { out.push('unlabelled ' + el.name); continue; }
      box = label.getBoundingClientRect();
    }
    if (box.height < 43.5 || box.width < 43.5) {
      out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.value || '').trim().slice(0, 30)}" ` +
               `${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return out;
}"""

# Boxes whose content is wider than they are (a table scrolling inside its card counts too).
SIDEWAYS = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.scrollWidth - e.clientWidth > 1 && !e.matches('select, textarea, input')
               && !e.closest('.visually-hidden, table.stack thead'))
  .map(e => `${e.tagName.toLowerCase()}.${e.className} +${e.scrollWidth - e.clientWidth}px`)"""

LINKS = """() => [...document.querySelectorAll('header a[href], main a[href]')]
  .filter(a => !a.hasAttribute('download')).map(a => a.href)"""


def _key(url: str) -> str:
    """Pages that differ only in sorting are the same page here."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("sort", "dir")]
    return parts.path + ("?" + urlencode(sorted(query)) if query else "")


def _kind(key: str) -> str:
    """/units/7 and /units/9 are the same kind of page; /units/7?q=x another."""
    path, _sep, query = key.partition("?")
    return re.sub(r"\d+", "N", path) + "?" + ",".join(k for k, _v in parse_qsl(query))


def _crawl(page, base: str, start: str, limit: int = MAX_PAGES) -> dict[str, tuple[int, list[str], list[str]]]:
    seen, queue, found, kinds = set(), [start], {}, Counter()
    while queue and len(found) < limit:
        url = queue.pop(0)
        key = _key(url)
        if key in seen or kinds[_kind(key)] >= PER_KIND:
            continue
        seen.add(key)
        kinds[_kind(key)] += 1
        response = page.goto(url, wait_until="load")
        if response is None or response.status >= 400 or not page.url.startswith(base):
            continue
        found[key] = (page.evaluate("document.documentElement.scrollWidth"), page.evaluate(SMALL_TARGETS),
                      page.evaluate(SIDEWAYS))
        for href in page.evaluate(LINKS):
            href = href.split("#")[0]
            if href.startswith(base) and not any(s in href for s in SKIP) and _key(href) not in seen:
                queue.append(href)
    return found


@pytest.mark.parametrize("username,expected", [
    ("demo-area", ("/coverage/", "/reports/", "/units/", "/teams/", "/audit/", "/households/")),
    ("demo-leader", ("/visits/new", "/visits/", "/coverage/team", "/households/")),
    ("demo-province", ("/coverage/", "/reports/", "/services/", "/users/", "/areas/")),
    ("demo-commune", ("/units/", "/teams/", "/households/", "/activities/")),
])
def test_every_page_a_user_reaches_fits_a_phone_with_44px_targets(app, db, live_server, phone, username,
                                                                  expected):
    seed_demo()
    sign_in(phone, live_server, username, DEMO_PASSWORD)
    found = _crawl(phone, live_server, phone.url)
    for prefix in expected:
        assert any(k.startswith(prefix) for k in found), f"{username} never reached {prefix}: {sorted(found)}"
    too_wide = {k: w for k, (w, _small, _boxes) in found.items() if w > 360}
    sideways = {k: boxes for k, (_w, _small, boxes) in found.items() if boxes}
    small = {k: s for k, (_w, s, _boxes) in found.items() if s}
    assert too_wide == {} and sideways == {} and small == {}, (too_wide, sideways, small)


def test_every_page_a_commune_officer_reaches_on_a_desktop_has_44px_targets(app, db, live_server, desktop):
    """A wide table may scroll inside its own box on a desktop (a column per service); the page itself does not."""
    seed_demo()
    sign_in(desktop, live_server, "demo-commune", DEMO_PASSWORD)
    found = _crawl(desktop, live_server, desktop.url, limit=DESKTOP_PAGES)
    assert any(k.startswith("/teams/members/") for k in found), sorted(found)
    too_wide = {k: w for k, (w, _small, _boxes) in found.items() if w > 1280}
    small = {k: s for k, (_w, s, _boxes) in found.items() if s}
    assert too_wide == {} and small == {}, (too_wide, small)
