"""The sticky save bar at the bottom of the long forms on a 360×740 phone never covers the field an error
takes the user to."""
from app.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import seed_demo, sign_in


def _boxes(page, field_id: str):
    return page.evaluate("""(id) => {
        const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
        return {field: box(document.getElementById(id)), bar: box(document.querySelector('.submit-bar')),
                height: window.innerHeight};
    }""", field_id)


def _refused_with_summary(page) -> None:
    page.get_by_role("button", name="Lưu lượt hướng dẫn").click()
    # resend.js writes the answer into the page; the summary's links work once its deferred script has run.
    page.wait_for_function("() => !!document.getElementById('error-summary') && document.readyState === 'complete'",
                           timeout=15000)


def test_the_field_an_error_link_leads_to_is_above_the_save_bar(app, db, live_server, phone):
    seed_demo()
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    # A note too long (a pasted message: the box's limit only stops typing) is the last field before the bar.
    phone.evaluate("() => { const n = document.getElementById('note'); n.removeAttribute('maxlength');"
                   " n.value = 'Hộ đã cài VNeID. '.repeat(130); }")
    _refused_with_summary(phone)
    phone.locator("#error-summary a[href='#note']").click()
    phone.wait_for_function("() => document.activeElement && document.activeElement.id === 'note'", timeout=5000)
    phone.wait_for_timeout(300)  # any smooth scrolling done
    boxes = _boxes(phone, "note")
    assert boxes["bar"]["bottom"] <= boxes["height"] + 1  # the bar is on screen, at the bottom
    assert 0 <= boxes["field"]["top"] and boxes["field"]["bottom"] <= boxes["bar"]["top"], boxes


def test_a_field_focused_under_the_save_bar_is_scrolled_above_it(app, db, live_server, phone):
    """A field that lies on the screen but under the bar (the keyboard's "next" reaching it, the phone's Tab, a
    script focusing it) is scrolled above the bar by the browser's own scrolling to a focused field."""
    seed_demo()
    sign_in(phone, live_server, "demo-leader", DEMO_PASSWORD)
    # The note box, scrolled to sit just under the bar's top edge: on the screen, hidden by the bar.
    phone.evaluate("""() => {
        const note = document.getElementById('note'), bar = document.querySelector('.submit-bar');
        window.scrollBy(0, note.getBoundingClientRect().top - bar.getBoundingClientRect().top - 10);
    }""")
    before = _boxes(phone, "note")
    assert before["field"]["top"] > before["bar"]["top"] and before["field"]["top"] < before["height"], before
    phone.evaluate("() => document.getElementById('note').focus()")
    phone.wait_for_timeout(300)
    boxes = _boxes(phone, "note")
    assert 0 <= boxes["field"]["top"] and boxes["field"]["bottom"] <= boxes["bar"]["top"], boxes
