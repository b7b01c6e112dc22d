"""A team leader logs one-stop-centre shifts on a 360×740 phone with no signal: each waits on the phone,
is sent by itself when the signal returns, and is recorded once, even when sent again."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.activities.models import CentreShift, ShiftDossier
from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import script_errors, seed_demo, sign_in, wait_until
from tests.browser.test_offline import OUTBOX, PUT_BACK, TEAM_KEPT, keep_form_on_phone


def _shifts(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(CentreShift.id)))


def _fill_shift(page, helped: str, dossiers: str):
    page.locator("#members label").first.click()
    page.fill("#people_helped", helped)
    page.locator("#dossiers input").first.fill(dossiers)
    page.locator("button[name=save]").click()


def test_shifts_logged_without_signal_wait_on_the_phone_and_are_sent_once(app, db, live_server, phone):
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    keep_form_on_phone(phone, live_server, "/activities/shifts/new")
    before = _shifts(db)

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#kept-copy")).to_be_visible()  # the form, from the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    _fill_shift(phone, "12", "3")
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    expect(phone.locator("#people_helped")).to_have_value("")  # a blank form for the next shift
    _fill_shift(phone, "7", "2")
    expect(phone.locator("#outbox-count")).to_have_text("2 lượt chờ gửi")
    kept = phone.evaluate(OUTBOX)
    assert [item["url"] for item in kept] == ["/activities/shifts/new"] * 2
    assert len({item["key"] for item in kept}) == 2
    # What the list says of each should the server refuse it (a shift has no household to name).
    # (IndexedDB lists them by key, a random one: in no set order)
    assert sorted(item["label"].split(" · ")[0] for item in kept) == ["Ca trực: 12 người được hỗ trợ",
                                                                       "Ca trực: 7 người được hỗ trợ"]
    assert _shifts(db) == before

    phone.context.set_offline(False)  # signal again: sent by themselves, to the shift form's address
    expect(phone.locator("#outbox-count")).to_be_hidden()
    expect(phone.locator("#outbox-sent")).to_have_text("Đã gửi 2 mục đã lưu trên máy này.")
    # The page is still the copy kept on the phone: it says so now that the signal is back, with a way to reload.
    expect(phone.locator("#kept-copy")).to_contain_text("Đã có mạng trở lại")
    expect(phone.locator("#kept-copy a")).to_have_text("Tải lại trang")
    assert phone.evaluate(OUTBOX) == []
    assert _shifts(db) == before + 2
    newest = db.session.scalars(sa.select(CentreShift).order_by(CentreShift.id.desc()).limit(2)).all()
    assert sorted(s.people_helped for s in newest) == [7, 12]
    filed = db.session.scalars(sa.select(ShiftDossier.dossiers).where(
        ShiftDossier.shift_id.in_([s.id for s in newest]))).all()
    assert sorted(filed) == [2, 3]

    phone.evaluate(PUT_BACK, kept)  # replayed: the server knows both keys
    phone.evaluate("() => window.cnscdFlush()")
    assert phone.evaluate(OUTBOX) == []
    assert _shifts(db) == before + 2
    assert errors == []


def test_a_shift_saved_with_signal_goes_to_its_page(app, db, live_server, phone):
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.goto(f"{live_server}/activities/shifts/new")
    before = _shifts(db)
    # A slip of the finger first (4,000 dossiers of one service): that count alone is outlined and said wrong,
    # the other counts keep their plain border; nothing is saved.
    _fill_shift(phone, "9", "4000")
    wrong = phone.locator("#dossiers input").first
    expect(wrong).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#dossiers p.error")).to_have_text("Nhiều nhất 1.000 trong một ca trực.")
    borders = phone.eval_on_selector_all("#dossiers input", "els => els.map(e => getComputedStyle(e).borderTopColor)")
    assert borders[0] == "rgb(179, 38, 30)" and set(borders[1:]) == {"rgb(138, 150, 163)"}, borders
    assert _shifts(db) == before
    assert phone.locator("#members input").first.is_checked()  # the refused form keeps what was ticked
    phone.locator("#dossiers input").first.fill("4")
    phone.locator("button[name=save]").click()
    phone.wait_for_url(re.compile(r"/activities/shifts/\d+$"))
    expect(phone.locator("main")).to_contain_text("9")
    assert _shifts(db) == before + 1
    assert errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]  # the slip


def test_a_refused_shift_seen_from_the_visit_form_opens_in_the_shift_form_to_fix(app, db, live_server, phone):
    """The list of refused records shows on each field form; one made with another form links to it."""
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.goto(f"{live_server}/activities/shifts/new")
    wait_until(phone, TEAM_KEPT)
    before = _shifts(db)
    phone.context.set_offline(True)
    _fill_shift(phone, "15", "6")
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    (item,) = phone.evaluate(OUTBOX)
    # As the server's answer would leave it (a refusal is tested on the visit form, test_offline.py).
    phone.evaluate(PUT_BACK, [item | {"reason": "Tháng 12/2026 đã khoá sổ."}])
    phone.context.set_offline(False)

    phone.goto(f"{live_server}/visits/new")
    refused = phone.locator(".outbox-refused li")
    expect(refused).to_contain_text("Ca trực: 15 người được hỗ trợ")
    expect(refused).to_contain_text("đã khoá sổ")
    expect(refused.get_by_role("button", name="Sửa")).to_have_count(0)  # not a visit: not this form's
    refused.get_by_role("link", name="Sửa").click()
    phone.wait_for_url(re.compile(r"/activities/shifts/new#fix-"))
    expect(phone.locator("input[name=key]")).to_have_value(item["key"])
    expect(phone.locator("#people_helped")).to_have_value("15")
    expect(phone.locator("#dossiers input").first).to_have_value("6")
    assert _shifts(db) == before  # a refused record is not sent again until fixed
    assert errors == []


def test_the_shift_and_class_forms_are_kept_on_the_phone_without_having_been_opened(app, db, live_server, phone):
    """A leader who opened only the visit form and the visits list with signal can open the shift and class
    forms without it."""
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    keep_form_on_phone(phone, live_server, "/visits/new")
    assert not phone.evaluate("async () => !!(await caches.match('/activities/shifts/new'))")  # not from a form
    phone.goto(f"{live_server}/visits/")
    for path in ("/activities/shifts/new", "/activities/classes/new"):
        wait_until(phone, f"async () => !!(await caches.match('{path}'))")
    before = _shifts(db)
    phone.context.set_offline(True)
    phone.goto(f"{live_server}/activities/shifts/new")
    expect(phone.locator("#kept-copy")).to_be_visible()
    expect(phone.locator("h1")).to_contain_text("Ghi ca trực")
    _fill_shift(phone, "4", "1")
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    phone.context.set_offline(False)
    expect(phone.locator("#outbox-count")).to_be_hidden()
    assert _shifts(db) == before + 1 and phone.evaluate(OUTBOX) == []
    assert errors == []
