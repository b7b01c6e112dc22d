"""A team member on a 360×740 phone without signal: visits kept on the phone, sent exactly once."""
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from app.auth.models import User
from app.demo.seed import DEMO_PASSWORD
from app.households import privacy
from app.households.models import Household
from app.visits.models import Visit
from tests.browser.conftest import script_errors, seed_demo, sign_in, wait_until

NEW_NAME = "Danh Thị Sa Phol"

OUTBOX = """() => new Promise((done) => {
  const req = indexedDB.open('cnscd', 1);
  req.onsuccess = () => { const r = req.result.transaction('outbox').objectStore('outbox').getAll();
    r.onsuccess = () => { req.result.close(); done(r.result); }; };
})"""
KEPT_TEAM = """new Promise((done) => {
  const req = indexedDB.open('cnscd', 1);
  req.onsuccess = () => { const r = req.result.transaction('team').objectStore('team').get('team');
    r.onsuccess = () => { req.result.close(); done(r.result); }; };
})"""  # the team's list kept on the phone for the search without signal
TEAM_KEPT = f"async () => !!(await {KEPT_TEAM})"
PHONE_STATE = "async () => {\n  const team = await " + KEPT_TEAM + """;
  return {onLine: navigator.onLine, kept: document.documentElement.hasAttribute('data-kept-copy'),
          controlled: !!navigator.serviceWorker.controller, q: document.querySelector('#q').value,
          user: document.querySelector('script[data-user]').getAttribute('data-user'),
          teamUser: team && team.user, teamAge: team && Date.now() - team.at,
          teamHouseholds: team && team.data && team.data.households.map((h) => h.id),
          results: document.querySelector('#hh-results').innerHTML};
}"""
PUT_BACK = """(items) => new Promise((done) => {
  const req = indexedDB.open('cnscd', 1);
  req.onsuccess = () => { const tx = req.result.transaction('outbox', 'readwrite');
    items.forEach((i) => tx.objectStore('outbox').put(i));
    tx.oncomplete = () => { req.result.close(); done(); }; };
})"""


def keep_form_on_phone(phone, live_server: str, path: str) -> None:
    """Open a field form once the service worker controls the page, and wait until the phone keeps the
    form and the team's data: what a leader has after opening it once with signal."""
    phone.evaluate("async () => { await navigator.serviceWorker.ready; }")
    phone.goto(f"{live_server}{path}")  # once the worker is there, so it keeps the form
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    wait_until(phone, f"async () => !!(await caches.match('{path}'))")
    wait_until(phone, TEAM_KEPT)


def _count(db):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def _log(page, household=None, new_name=None, search="nguyen"):
    """Fill the visit form with one service and save it (no signal: the kept household list answers)."""
    if new_name:
        page.locator("label[for=hh-new]").click()  # with JavaScript this opens the new household's fields
        if not page.locator("details.new-household").evaluate("d => d.open"):
            page.locator("summary", has_text="Thêm hộ mới").click()
        page.fill("#new_name", new_name)
    else:
        page.fill("#q", search)
        choice = page.locator(f"#hh-results label[for=hh-{household}]")
        try:
            choice.wait_for(timeout=15000)
        except PlaywrightTimeoutError as exc:  # what the phone showed, for a failure seen once in CI and never here
            raise AssertionError(f"household {household} not offered: {page.evaluate(PHONE_STATE)}") from exc
        choice.click()
    page.locator("label[for=svc-vneid-guided]").click()
    page.get_by_role("button", name="Lưu lượt hướng dẫn").click()


def test_member_logs_visits_without_signal_and_they_are_sent_once(app, db, live_server, phone):
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-member", DEMO_PASSWORD)
    assert phone.url.endswith("/visits/new")
    member = db.session.scalar(sa.select(User).where(User.username == "demo-member"))
    households = list(db.session.scalars(
        sa.select(Household).where(Household.hamlet_id.in_([h.id for h in member.team.hamlets]),
                                   Household.erased_at.is_(None), Household.merged_into_id.is_(None),
                                   Household.head_name_folded.contains("nguyen"))
        .order_by(Household.id).limit(3)))
    assert len(households) == 3
    # The worker installed by the first page (as the class test does): a page left before its worker
    # was ready may never ask it to keep anything (seen in CI with Chromium 150 as a page never
    # controlled, or a list never kept).
    phone.evaluate("async () => { await navigator.serviceWorker.ready; }")
    # The visits list once with signal, so the phone keeps it too; then the form, until kept.
    phone.goto(f"{live_server}/visits/")
    phone.goto(f"{live_server}/visits/new")
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    wait_until(phone, "async () => !!(await caches.match('/visits/new')) && !!(await caches.match('/visits/'))")
    wait_until(phone, TEAM_KEPT)
    before = _count(db)

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#kept-copy")).to_be_visible()  # the form, from the phone
    # The search's request called off (the phone's list answers) leaves nothing dimmed as if on its way.
    phone.fill("#q", "nguyen")
    expect(phone.locator(f"#hh-results label[for=hh-{households[0].id}]")).to_be_visible()
    phone.wait_for_timeout(500)  # past the search's 300 ms delay, when htmx would have sent it
    assert phone.locator("[aria-busy]").count() == 0
    _log(phone, households[0].id)
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    # Said at the top, where the next visit starts (not screens down by the button), and the visit named.
    expect(phone.locator("#outbox-kept")).to_contain_text("Không có mạng")
    expect(phone.locator("#outbox-kept")).to_be_in_viewport()
    expect(phone.locator(".outbox-waiting li")).to_have_count(1)
    expect(phone.locator(".outbox-waiting li")).to_contain_text(households[0].head_name)
    _log(phone, households[1].id)
    _log(phone, new_name=NEW_NAME)
    expect(phone.locator("#outbox-count")).to_have_text("3 lượt chờ gửi")
    kept = phone.evaluate(OUTBOX)
    assert len({item["key"] for item in kept}) == 3
    phone.goto(f"{live_server}/visits/")  # the list, from the phone, shows them waiting
    expect(phone.locator("#outbox-count")).to_have_text("3 lượt chờ gửi")
    assert _count(db) == before
    for name in (households[0].head_name, NEW_NAME):
        expect(phone.locator(".visit-list li").filter(has_text=name)).to_have_count(0)
    phone.evaluate("() => { window.notReloaded = true; }")

    phone.context.set_offline(False)  # signal again: sent by themselves, and said so
    expect(phone.locator("#outbox-count")).to_be_hidden()
    expect(phone.locator("#outbox-sent")).to_have_text("Đã gửi 3 mục đã lưu trên máy này.")
    assert phone.evaluate(OUTBOX) == []
    assert _count(db) == before + 3
    assert db.session.scalar(sa.select(sa.func.count(Household.id)).where(Household.head_name == NEW_NAME)) == 1
    # The list under it reads itself again: the visits just sent show without a reload, today's count with them.
    listed = phone.locator(".visit-list li")
    for name in (households[0].head_name, households[1].head_name, NEW_NAME):
        expect(listed.filter(has_text=name).first).to_be_visible()
    assert phone.evaluate("() => window.notReloaded") is True

    # The queue replayed (a retry, a second tab): the server knows every key; still three.
    phone.evaluate(PUT_BACK, kept)
    phone.evaluate("() => window.cnscdFlush()")
    assert phone.evaluate(OUTBOX) == []
    assert _count(db) == before + 3
    assert db.session.scalar(sa.select(sa.func.count(Household.id)).where(Household.head_name == NEW_NAME)) == 1

    # A visit the server refuses (its household erased meanwhile) stays on the phone with the reason.
    phone.goto(f"{live_server}/visits/new")
    phone.context.set_offline(True)
    _log(phone, households[2].id)
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    officer = db.session.scalar(sa.select(User).where(User.username == "demo-commune"))
    privacy.erase(db.session.get(Household, households[2].id), "Hộ yêu cầu xóa dữ liệu", user=officer)
    db.session.commit()
    phone.context.set_offline(False)
    refused = phone.locator(".outbox-refused li")
    expect(refused).to_contain_text("đã bị xóa")
    assert _count(db) == before + 3
    assert len(phone.evaluate(OUTBOX)) == 1
    # Another account on the same phone (the session ended, no sign-out) neither sees nor sends it.
    # The page is left first: signed out under it, a request it still makes is answered with the
    # sign-in page, whose redirect would race the next account's own navigation to it.
    phone.goto("about:blank")
    phone.context.clear_cookies()
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.evaluate("() => window.cnscdFlush()")
    expect(phone.locator("#outbox")).to_be_hidden()
    phone.goto("about:blank")
    phone.context.clear_cookies()
    sign_in(phone, live_server, "demo-member", DEMO_PASSWORD)
    expect(refused).to_contain_text("đã bị xóa")
    # "Fix" puts it back in the form, with the key it was made with; "Discard" removes it, on purpose.
    key = phone.evaluate(OUTBOX)[0]["key"]
    refused.get_by_role("button", name="Sửa").click()
    expect(phone.locator("input[name=key]")).to_have_value(key)
    expect(phone.locator("#svc-vneid-guided")).to_be_checked()
    refused.get_by_role("button", name="Bỏ").click()
    expect(refused).to_have_count(0)
    assert phone.evaluate(OUTBOX) == []
    assert phone.evaluate(TEAM_KEPT)  # the team's data is still on the phone, until signing out

    # Signing out clears every record kept on the phone.
    phone.locator("footer").get_by_role("button", name="Đăng xuất").click()
    phone.wait_for_url("**/auth/login")
    assert phone.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)") == []
    assert phone.evaluate("async () => await caches.keys()") == []
    assert phone.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
    # The refused visit's answer (400) is the only error the browser logged.
    assert [e for e in errors if "status of 400" not in e] == []


def test_weak_signal_the_kept_list_answers_and_the_visit_waits(app, db, live_server, phone):
    """The phone believes it is online, but nothing gets through (a dead mobile connection, a captive
    wifi): the household search answers from the list kept on the phone, and the visit waits there."""
    seed_demo()
    sign_in(phone, live_server, "demo-member", DEMO_PASSWORD)
    member = db.session.scalar(sa.select(User).where(User.username == "demo-member"))
    household = db.session.scalar(
        sa.select(Household).where(Household.hamlet_id.in_([h.id for h in member.team.hamlets]),
                                   Household.erased_at.is_(None), Household.merged_into_id.is_(None),
                                   Household.head_name_folded.contains("nguyen"))
        .order_by(Household.id).limit(1))
    phone.goto(f"{live_server}/visits/new")
    wait_until(phone, TEAM_KEPT)
    before = _count(db)

    posts = []

    def no_post(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.url)
        return route.abort("internetdisconnected")

    phone.route("**/visits/households*", lambda route: route.abort("internetdisconnected"))
    phone.route("**/visits/new", no_post)
    assert phone.evaluate("() => navigator.onLine")
    _log(phone, household.id)  # the search's request fails: the kept list shows the household
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    # The form deals with the missing answers itself: no "no answer" bar over it (app/static/js/htmx-feedback.js).
    assert phone.locator(".no-answer:not([hidden])").count() == 0
    assert _count(db) == before
    # No "online" event will ever come (the phone thinks it is online): the phone tries again by itself.
    tried = len(posts)
    phone.wait_for_timeout(5000)
    assert len(posts) > tried, "the waiting visit was not tried again"

    phone.unroute("**/visits/households*")
    phone.unroute("**/visits/new")
    expect(phone.locator("#outbox-count")).to_be_hidden(timeout=20000)  # sent by itself, no tap
    assert _count(db) == before + 1
    visit = db.session.scalar(sa.select(Visit).order_by(Visit.id.desc()).limit(1))
    assert visit.household_id == household.id
