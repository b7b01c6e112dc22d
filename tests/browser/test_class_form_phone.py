"""A team leader logs a class of 30 on a 360×740 phone: the taps and keystrokes it takes are counted
and printed (pytest -s shows them), and the page never scrolls sideways."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.activities.models import Class
from app.demo.seed import DEMO_PASSWORD, seed_demo
from tests.browser.conftest import shot, sign_in


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
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    thumb = Thumb(phone)
    thumb.tap(phone.locator("nav a[href='/activities/classes/new']"))
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
