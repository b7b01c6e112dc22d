"""The number, percent and date filters (tests/test_numbers.py holds the numbers to Babel), and the layout macros."""
import re
from datetime import date, datetime


def test_filters_in_a_request_follow_the_user_language(app):
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ n|number }} {{ s|percent }} {{ d|date }} {{ d|date('MM/yyyy') }}").render
        assert render(n=1851, s=0.4471, d=date(2024, 5, 23)) == "1.851 44,7% 23/05/2024 05/2024"
        # A moment (the history pages' "when", stored in UTC) as officials write it, in Vietnam's time:
        # the time, then the day.
        from app.templating import locale_date
        assert locale_date(datetime(2024, 5, 23, 14, 5)) == "21:05 23/05/2024"
        assert locale_date(datetime(2024, 5, 23, 18, 30)) == "01:30 24/05/2024"


def test_filters_messages_and_the_page_s_language_follow_an_english_reader(app, client):
    from flask import session

    from app.templating import locale_date, locale_number, locale_percent
    with app.test_request_context():
        session["locale"] = "en"
        render = app.jinja_env.from_string("{{ n|number }} {{ s|percent }} {{ d|date }} {{ d|date('MM/yyyy') }}").render
        assert render(n=1851, s=0.4471, d=date(2024, 5, 23)) == "1,851 44.7% May 23, 2024 05/2024"
        # As the flash messages and the history pages write them, from Python.
        assert (locale_number(1851), locale_percent(0.4471), locale_date(date(2024, 5, 23))) == \
            ("1,851", "44.7%", "May 23, 2024")
    # The page tells the browser (and a screen reader) its language, and the switch shows the one chosen.
    assert client.post("/language", data={"lang": "en"}).status_code in (302, 303)
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert re.search(r'<button name="lang" value="en"\s+aria-pressed="true"', html)
    assert not re.search(r'<button name="lang" value="vi"\s+aria-pressed="true"', html)


def test_a_section_shows_its_list_or_else_only_its_empty_message(app):
    with app.test_request_context():
        render = app.jinja_env.from_string(
            '{% from "_macros.html" import list_or_empty %}'
            '{% call list_or_empty(items, "Nothing yet.") %}<ul>{% for i in items %}<li>{{ i }}</li>{% endfor %}</ul>'
            '{% endcall %}').render
        assert " ".join(render(items=["a", "b"]).split()) == "<ul><li>a</li><li>b</li></ul>"
        assert " ".join(render(items=[]).split()) == "<p>Nothing yet.</p>"


def _plain_menu(app, user, locale):
    """The menu template rendered on its own for the user: the top row and the "More" list."""
    from flask import render_template
    from flask_babel import force_locale
    from flask_login import login_user
    with app.test_request_context(), force_locale(locale):
        login_user(user)
        return render_template("_nav.html", more=False), render_template("_nav.html", more=True)


def test_every_page_s_menu_is_the_template_s_for_the_user_s_role_unit_and_language(app, db, tree, team):
    # The menu is kept per worker (app/menu.py); each user still gets the links of their own role,
    # unit and language: a commune's officer then its team's leader, another commune, the same in English.
    from tests.visits_helpers import sign_in_as
    for role, unit, locale in (("commune", tree.commune, "vi"), ("team_leader", tree.commune, "vi"),
                               ("commune", tree.sibling_commune, "vi"), ("commune", tree.commune, "en"),
                               ("district", tree.district, "vi"), ("province", tree.province, "en")):
        browser, user = sign_in_as(app, role, unit, team[0] if role == "team_leader" else None)
        user.locale = locale
        db.session.commit()
        page = browser.get("/auth/password").get_data(as_text=True)
        top, more = _plain_menu(app, user, locale)
        assert f'<nav class="top-nav" aria-label="{"Menu" if locale == "en" else "Trình đơn"}">{top}</nav>' in page
        assert more in page, (role, unit.name, locale)
        if role == "commune":
            assert f'href="/coverage/{unit.id}"' in top


def _plain_chrome(app, user, locale, path, method, csrf):
    """The header and footer templates rendered on their own, for the user, the page and its CSRF token."""
    from flask import render_template, request
    from flask_babel import force_locale
    from flask_login import login_user
    with app.test_request_context(path, method=method), force_locale(locale):
        if user is not None:
            login_user(user)
        came_from = request.full_path if method == "GET" else ""
        header = render_template("_header.html", csrf=csrf, came_from=came_from).strip()
        footer = render_template("_footer.html", csrf=csrf).strip() if user is not None else None
    return header, footer


def _csrf_of(page: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def test_every_page_s_header_and_footer_are_the_templates_for_the_user_the_page_and_its_token(
        app, db, client, tree, team):
    # Kept per worker (app/menu.py) and filled with the request's token and address: each user still gets
    # their own menu, name, role, unit and language, each page its own address to come back to.
    from tests.visits_helpers import sign_in_as
    page = client.get("/auth/login?next=%2Fcoverage%2F").get_data(as_text=True)  # nobody signed in
    header, footer = _plain_chrome(app, None, "vi", "/auth/login?next=%2Fcoverage%2F", "GET", _csrf_of(page))
    assert header in page and '<footer class="foot">' not in page
    assert 'name="next" value="/auth/login?next=%2Fcoverage%2F"' in header
    for role, unit, locale, path in (("commune", tree.commune, "vi", "/auth/password"),
                                     ("team_leader", tree.commune, "vi", "/visits/new"),
                                     ("commune", tree.sibling_commune, "en", f"/units/{tree.sibling_commune.id}"),
                                     ("province", tree.province, "en", f"/coverage/{tree.province.id}?month=2026-11")):
        browser, user = sign_in_as(app, role, unit, team[0] if role == "team_leader" else None)
        user.locale = locale
        db.session.commit()
        page = browser.get(path).get_data(as_text=True)
        header, footer = _plain_chrome(app, user, locale, path, "GET", _csrf_of(page))
        assert header in page, (role, path)
        assert footer in page and unit.name in footer, (role, path)
        # A refused form (a POST) has no address to come back to; the same user, the same chrome otherwise.
        if path == "/auth/password":
            refused = browser.post(path, data={"csrf_token": _csrf_of(page), "current": "sai"})
            assert refused.status_code == 400
            refused_page = refused.get_data(as_text=True)
            header, footer = _plain_chrome(app, user, locale, path, "POST", _csrf_of(refused_page))
            assert header in refused_page and 'name="next" value=""' in header and footer in refused_page
        # What the footer shows of the user changes at once: a new name.
        user.full_name = f"Nguyễn Thị Ánh {role}"
        db.session.commit()
        page = browser.get(path).get_data(as_text=True)
        header, footer = _plain_chrome(app, user, locale, path, "GET", _csrf_of(page))
        assert f"Nguyễn Thị Ánh {role}" in footer and footer in page
    # And of the user's unit: a new name (the last user's, the province's).
    tree.province.name = "Tỉnh Cần Thơ Mới"
    db.session.commit()
    page = browser.get(path).get_data(as_text=True)
    header, footer = _plain_chrome(app, user, "en", path, "GET", _csrf_of(page))
    assert "Tỉnh Cần Thơ Mới" in footer and footer in page
