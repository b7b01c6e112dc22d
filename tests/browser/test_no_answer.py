"""A tap that loads part of a page never seems to do nothing: with no signal, or a server that fails, the page
stays as it was with what was typed, and a bar says so (app/static/js/htmx-feedback.js)."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.demo.seed import DEMO_PASSWORD
from app.teams.models import Member, Team
from tests.browser.conftest import htmx_settles, menu_link, seed_demo, shot, sign_in

NO_SIGNAL = "Không nhận được trả lời: hãy kiểm tra sóng rồi thử lại. Trang này vẫn giữ nguyên như trước."
# Something sent may have arrived although its answer did not: look before sending it again.
SENT_NO_ANSWER = ("Không nhận được trả lời: hãy kiểm tra sóng. Nội dung vừa gửi có thể đã đến máy chủ: "
                  "hãy xem lại trước khi gửi lại.")
SERVER_FAILED = "Máy chủ chưa trả lời được lúc này: hãy thử lại sau ít phút. Trang này vẫn giữ nguyên như trước."


def _members_named(db, name: str) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.full_name == name))


def test_a_member_added_without_signal_is_kept_in_the_form_and_the_bar_says_why(app, db, live_server, phone):
    seed_demo()
    sign_in(phone, live_server, "demo-commune", DEMO_PASSWORD)
    commune = db.session.scalar(sa.select(User).where(User.username == "demo-commune")).unit
    team = db.session.scalar(sa.select(Team).where(Team.commune_id == commune.id).order_by(Team.id).limit(1))
    menu_link(phone, "Tổ CNSCĐ")
    phone.get_by_role("link", name=team.name, exact=True).click()
    expect(phone.locator("#member-full_name")).to_be_visible()
    name = "Lê Thị Hồng Nhung"
    phone.fill("#member-full_name", name)

    phone.context.set_offline(True)
    phone.get_by_role("button", name="Thêm thành viên").click()
    bar = phone.locator(".no-answer")
    expect(bar).to_be_visible()
    expect(bar).to_have_text(SENT_NO_ANSWER + "×")
    expect(bar).to_have_attribute("role", "alert")
    expect(phone.locator("#member-full_name")).to_have_value(name)
    assert _members_named(db, name) == 0
    # The bar fits a 360-px screen and its close button is a thumb's size.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    close = bar.get_by_role("button", name="Đóng")
    assert close.bounding_box()["height"] >= 44 and close.bounding_box()["width"] >= 44
    shot(phone, "no-answer-member-phone")

    # The signal back, the same tap saves the member and the bar goes.
    phone.context.set_offline(False)
    with htmx_settles(phone, "#members"):
        phone.get_by_role("button", name="Thêm thành viên").click()
    expect(phone.locator("#members .flash")).to_contain_text(f"Đã thêm {name} vào tổ.")
    expect(bar).to_be_hidden()
    assert _members_named(db, name) == 1


def test_a_drill_down_the_server_fails_leaves_the_page_and_says_so(app, db, live_server, phone):
    seed_demo()
    sign_in(phone, live_server, "demo-area", DEMO_PASSWORD)
    menu_link(phone, "Độ phủ")
    heading = phone.locator("h1").inner_text()
    card = phone.locator(".unit-cards a").first
    target = card.inner_text().strip()
    address = phone.url

    # No signal: the unit asked for does not come, and the bar says to try again.
    phone.context.set_offline(True)
    card.click()
    bar = phone.locator(".no-answer")
    expect(bar).to_have_text(NO_SIGNAL + "×")
    expect(phone.locator("h1")).to_have_text(heading)
    phone.context.set_offline(False)

    # A gateway in front of the app answers 502 for the part of the page asked for.
    def failing(route):
        if route.request.headers.get("hx-request") == "true":
            route.fulfill(status=502, body="Bad Gateway")
        else:
            route.continue_()
    phone.route("**/coverage/**", failing)
    card.click()
    expect(bar).to_contain_text(SERVER_FAILED)
    expect(phone.locator("h1")).to_have_text(heading)
    assert phone.url == address
    bar.get_by_role("button", name="Đóng").click()
    expect(bar).to_be_hidden()

    # Asked again once the server answers: the unit's page, and no bar.
    phone.unroute("**/coverage/**")
    card.click()
    expect(phone.locator("h1")).to_contain_text(target)
    expect(bar).to_be_hidden()
    assert phone.url != address

    # Back to the first page (htmx's kept copy of it), then no signal again: the bar still comes, once.
    phone.go_back()
    expect(phone.locator("h1")).to_have_text(heading)
    phone.context.set_offline(True)
    phone.locator(".unit-cards a").first.click()
    expect(bar).to_have_count(1)
    expect(bar).to_be_visible()
    expect(bar).to_have_text(NO_SIGNAL + "×")
    phone.context.set_offline(False)


def _held_until_asked(phone, held: list) -> None:
    for _ in range(100):
        if held:
            return
        phone.wait_for_timeout(100)
    raise AssertionError("the request was never sent")


def test_a_section_already_on_its_way_does_not_take_the_bar_away(app, db, live_server, phone):
    """The page's trend, asked for as it was scrolled to, arrives after a tap that got no answer: the bar about
    that tap stays until something asked after it is answered."""
    seed_demo()
    sign_in(phone, live_server, "demo-area", DEMO_PASSWORD)
    held = []
    phone.route("**/coverage/*/trend*", lambda route: held.append(route))
    menu_link(phone, "Độ phủ")
    heading = phone.locator("h1").inner_text()
    phone.locator("#trend").scroll_into_view_if_needed()
    _held_until_asked(phone, held)

    phone.context.set_offline(True)
    card = phone.locator(".unit-cards a").first
    target = card.inner_text().strip()
    card.click()
    bar = phone.locator(".no-answer")
    expect(bar).to_have_text(NO_SIGNAL + "×")
    phone.context.set_offline(False)
    held[0].continue_()
    expect(phone.locator("#trend svg").first).to_be_visible()  # the trend has arrived
    expect(bar).to_be_visible()
    expect(phone.locator("h1")).to_have_text(heading)

    # The tap made again is answered: the unit opens and the bar goes.
    card.click()
    expect(phone.locator("h1")).to_contain_text(target)
    expect(bar).to_be_hidden()


def test_a_tap_that_never_gets_an_answer_ends_in_the_bar(app, db, live_server, phone):
    """A dead connection that never says so (the request sent, nothing comes back): after htmx's 20 s the bar
    says there was no answer and the page is no longer dimmed. The page's 20 s is read, then shortened to 2 s
    here, so the test waits for what happens at the end, not for the 20 s themselves."""
    seed_demo()
    sign_in(phone, live_server, "demo-area", DEMO_PASSWORD)
    menu_link(phone, "Độ phủ")
    heading = phone.locator("h1").inner_text()
    assert phone.evaluate("htmx.config.timeout") == 20_000
    phone.evaluate("htmx.config.timeout = 2000")
    held = []
    phone.route("**/coverage/*", lambda route: held.append(route))
    phone.locator(".unit-cards a").first.click()
    _held_until_asked(phone, held)
    expect(phone.locator("#coverage")).to_have_attribute("aria-busy", "true")  # dimmed while on its way
    bar = phone.locator(".no-answer")
    expect(bar).to_have_text(NO_SIGNAL + "×", timeout=10_000)
    expect(phone.locator("[aria-busy]")).to_have_count(0)
    expect(phone.locator("h1")).to_have_text(heading)
    phone.unroute("**/coverage/*")  # htmx has given the request up: nothing is left held
