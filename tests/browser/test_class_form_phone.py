"""A team leader logs a class of 30 on a 360×740 phone: the taps and keystrokes it takes are counted
and printed (pytest -s shows them), and the page never scrolls sideways."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.activities.models import Class
from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import script_errors, seed_demo, shot, sign_in


class Thumb:
    """Taps and keystrokes, counted as a person would make them."""

    def __init__(self, page):
        self.page, self.taps, self.keys = page, 0, 0

    def tap(self, locator):
        locator.scroll_into_view_if_needed()
        locator.tap()
        self.taps += 1

    def type(self, locator, text: str):
        self.tap(locator)
        self.page.keyboard.type(text)
        self.keys += len(text)


def test_a_leader_logs_a_class_of_30_on_a_phone_in_few_taps(app, db, live_server, phone):
    seed_demo()
    before = db.session.scalar(sa.select(sa.func.count(Class.id)))
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    thumb = Thumb(phone)
    # On a phone the role's links sit behind the header's menu: opened, then its "+ Log a class".
    menu = phone.locator("header.top details.more > summary")
    if menu.is_visible() and not phone.locator("header.top nav.top-nav").is_visible():
        thumb.tap(menu)
    thumb.tap(phone.locator("header.top a[href='/activities/classes/new']:visible").first)
    phone.wait_for_url("**/activities/classes/new")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    if phone.locator("#place_hamlet").input_value() == "":
        thumb.tap(phone.locator("#place_hamlet"))
        phone.locator("#place_hamlet").select_option(index=1)
        thumb.taps += 1  # the choice in the list
    thumb.tap(phone.locator("label[for^=topics-]").first)
    thumb.type(phone.locator("#learners_total"), "30")
    thumb.type(phone.locator("#age_15_17"), "2")
    thumb.type(phone.locator("#age_18_59"), "20")
    thumb.type(phone.locator("#age_60_plus"), "8")
    thumb.type(phone.locator("#learners_female"), "16")
    thumb.type(phone.locator("#learners_male"), "14")
    thumb.type(phone.locator("#res-vneid"), "10")
    thumb.tap(phone.locator("button[name=save]"))
    phone.wait_for_url(re.compile(r"/activities/classes/\d+$"))
    shot(phone, "class-saved-phone")
    print(f"\nclass of 30 on a 360x740 phone: {thumb.taps} taps, {thumb.keys} keystrokes")
    expect(phone.locator("h1")).to_contain_text("Buổi học ngày")
    expect(phone.locator("main")).to_contain_text("30 người học")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Class.id))) == before + 1
    klass = db.session.scalar(sa.select(Class).order_by(Class.id.desc()).limit(1))
    assert (klass.learners_total, klass.age_18_59, klass.learners_female) == (30, 20, 16)
    assert thumb.taps <= 12 and thumb.keys <= 15
    assert errors == []


def _classes(db):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Class.id)))


def _fill_class(page, total="25", bands=("0", "20", "5")):
    page.locator("label[for^=topics-]").first.click()
    page.fill("#learners_total", total)
    for field, value in zip(("#age_15_17", "#age_18_59", "#age_60_plus"), bands, strict=True):
        page.fill(field, value)
    page.fill("#learners-0-name", "Nguyễn Thị Út") if page.locator("#learners").evaluate("d => d.open") else None
    page.locator("button[name=save]").click()


def test_a_class_logged_without_signal_waits_on_the_phone_and_is_sent_once(app, db, live_server, phone):
    from tests.browser.test_offline import OUTBOX, PUT_BACK, keep_form_on_phone
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    keep_form_on_phone(phone, live_server, "/activities/classes/new")
    before = _classes(db)

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#kept-copy")).to_be_visible()  # the form, from the phone
    _fill_class(phone)
    expect(phone.locator("#outbox-count")).to_have_text("1 lượt chờ gửi")
    _fill_class(phone, total="40", bands=("2", "30", "8"))
    expect(phone.locator("#outbox-count")).to_have_text("2 lượt chờ gửi")
    kept = phone.evaluate(OUTBOX)
    assert [item["url"] for item in kept] == ["/activities/classes/new"] * 2
    assert _classes(db) == before

    phone.context.set_offline(False)  # signal again: sent by themselves, to the class form's address
    expect(phone.locator("#outbox-count")).to_be_hidden()
    assert phone.evaluate(OUTBOX) == []
    assert _classes(db) == before + 2
    totals = sorted(db.session.scalars(sa.select(Class.learners_total).order_by(Class.id.desc()).limit(2)))
    assert totals == [25, 40]

    phone.evaluate(PUT_BACK, kept)  # replayed: the server knows both keys
    phone.evaluate("() => window.cnscdFlush()")
    assert phone.evaluate(OUTBOX) == []
    assert _classes(db) == before + 2
    assert errors == []


def test_a_named_learners_row_is_readable_on_a_phone(app, db, live_server, phone):
    """Name on its own line, year beside a phone box that shows the whole number, the hamlet select as wide as
    the row (long hamlet names whole), every box a 44-px target, and no sideways scroll."""
    seed_demo()
    errors = script_errors(phone)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    phone.goto(f"{live_server}/activities/classes/new")
    phone.locator("#learners > summary").click()
    phone.fill("#learners-0-phone", "0912 345 678")
    hamlet = phone.locator("#learners-0-hamlet")
    longest = max(hamlet.locator("option").all_inner_texts(), key=len)
    hamlet.select_option(label=longest)
    shot(phone, "class-learner-row-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    box = {f: phone.locator(f"#learners-0-{f}").bounding_box()
           for f in ("name", "birth_year", "phone", "hamlet")}
    row = phone.locator(".learner-row").first.bounding_box()
    assert all(b["height"] >= 44 for b in box.values())
    # The name and the hamlet take the row's width; year and phone share the line below the name.
    assert box["name"]["width"] >= row["width"] - 2 and box["hamlet"]["width"] >= row["width"] - 2
    assert box["birth_year"]["y"] == box["phone"]["y"] > box["name"]["y"] and box["hamlet"]["y"] > box["phone"]["y"]
    # The whole number shows in its box, and the longest hamlet's name in the select.
    fits = phone.locator("#learners-0-phone").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert fits and box["phone"]["width"] >= 150
    text_width = hamlet.evaluate("""e => { const c = document.createElement('canvas').getContext('2d');
        c.font = getComputedStyle(e).font; return c.measureText(e.selectedOptions[0].text).width; }""")
    assert text_width < box["hamlet"]["width"] - 30, (longest, text_width, box["hamlet"]["width"])
    more = phone.locator("button[name=more_learners]").bounding_box()
    assert more["height"] >= 44
    assert errors == []
