"""Sign-in, sign-out, language, password change, security headers."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.auth.models import User
from tests.conftest import PASSWORD


def test_login_page_is_vietnamese_by_default(client):
    resp = client.get("/auth/login")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Đăng nhập" in html and "Tên đăng nhập" in html
    assert '<html lang="vi">' in html


def test_pages_need_sign_in(client, tree):
    resp = client.get(f"/units/{tree.commune.id}")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_wrong_password_is_refused_with_message_and_username_kept(client, tree, db):
    from app.auth.cli import create_user
    create_user("can-bo-xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    resp = client.post("/auth/login", data={"username": "can-bo-xa", "password": "sai-mat-khau"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in html
    assert 'value="can-bo-xa"' in html
    # What to try next: a member's username is their phone number; who gives a new password.
    assert ("Thành viên tổ đăng nhập bằng số điện thoại di động của mình. Quên mật khẩu? Thành viên tổ nhờ cán bộ xã "
            "cấp mật khẩu mới; cán bộ nhờ cán bộ tỉnh.") in " ".join(html.split())


def test_empty_login_form_is_a_400_with_messages(client):
    resp = client.post("/auth/login", data={"username": "", "password": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Hãy nhập tên đăng nhập." in html and "Hãy nhập mật khẩu." in html


def test_login_then_home_then_logout(client, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.get("/", follow_redirects=True)
    assert resp.status_code == 200
    assert "Phường I" in resp.get_data(as_text=True)
    resp = client.post("/auth/logout", follow_redirects=True)
    assert "Bạn đã đăng xuất." in resp.get_data(as_text=True)
    assert client.get(f"/units/{tree.commune.id}").status_code == 302


def test_disabled_account_cannot_sign_in(client, tree, db, login_as):
    user = login_as("commune", tree.commune)
    client.post("/auth/logout")
    db.session.get(User, user.id).is_enabled = False
    db.session.commit()
    resp = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 401


def test_next_parameter_cannot_leave_the_site(client, tree, db):
    from app.auth.cli import create_user
    create_user("xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    resp = client.post("/auth/login?next=https://evil.example/x", data={"username": "xa", "password": PASSWORD})
    assert resp.status_code == 302
    assert "evil.example" not in resp.headers["Location"]


def test_language_switch_is_remembered_for_the_user(client, tree, db, login_as):
    user = login_as("commune", tree.commune)
    resp = client.post("/language", data={"lang": "en", "next": f"/units/{tree.commune.id}"})
    assert resp.status_code == 302
    html = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "Hamlets" in html and '<html lang="en">' in html
    assert db.session.get(User, user.id).locale == "en"
    # A fresh session (another phone) of the same user opens in English too.
    other = client.application.test_client()
    other.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert "Hamlets" in other.get(f"/units/{tree.commune.id}").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"lang": "xx"})
    assert "Đăng nhập" in client.get("/auth/login").get_data(as_text=True)


def test_one_time_password_must_be_changed_first(client, tree, db, login_as):
    user = login_as("commune", tree.commune)
    db.session.get(User, user.id).must_change_password = True
    db.session.commit()
    resp = client.get(f"/units/{tree.commune.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/password")
    page = client.get("/auth/password")
    assert page.status_code == 200 and 'name="current"' in page.get_data(as_text=True)
    # This session did not sign in with the one-time password: it must be typed here, and rightly.
    resp = client.post("/auth/password", data={"current": "khong-phai-mat-khau", "new": "ca-phe-sua-da-2024",
                                               "confirm": "ca-phe-sua-da-2024"})
    assert resp.status_code == 400 and "Mật khẩu hiện tại không đúng." in resp.get_data(as_text=True)
    resp = client.post("/auth/password", data={"new": "ca-phe-sua-da-2024", "confirm": "ca-phe-sua-da-2024"})
    assert resp.status_code == 400 and "Hãy nhập mật khẩu hiện tại" in resp.get_data(as_text=True)
    # Too short and too common are refused, beside the field.
    resp = client.post("/auth/password", data={"current": PASSWORD, "new": "123456", "confirm": "123456"})
    assert resp.status_code == 400 and "Dùng ít nhất 10 ký tự." in resp.get_data(as_text=True)
    resp = client.post("/auth/password", data={"current": PASSWORD, "new": "1234567890", "confirm": "1234567890"})
    assert resp.status_code == 400 and "quá phổ biến" in resp.get_data(as_text=True)
    resp = client.post("/auth/password", data={"current": PASSWORD, "new": "ca-phe-sua-da-2024",
                                               "confirm": "ca-phe-sua-da-2024"})
    assert resp.status_code == 302
    assert client.get(f"/units/{tree.commune.id}").status_code == 200
    assert db.session.get(User, user.id).check_password("ca-phe-sua-da-2024")


def test_security_headers(client):
    resp = client.get("/auth/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # A page is never kept by the phone's cache or a proxy (households' names on a shared phone); a static
    # file is, for a long time (it is named by its content's digest).
    assert resp.headers["Cache-Control"] == "no-store"
    page = resp.get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[^"]+)"', page).group(1)
    static = client.get(css)
    assert static.status_code == 200 and "no-store" not in static.headers["Cache-Control"]
    assert "max-age=" in static.headers["Cache-Control"]


def test_login_is_rate_limited_per_account(client, tree, db, caplog):
    from app.auth.cli import create_user
    create_user("bi-do-mat-khau", "commune", tree.commune, PASSWORD)
    db.session.commit()
    codes = [client.post("/auth/login", data={"username": " Bi-Do-Mat-Khau ", "password": "sai"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    # The log says which account was being guessed, for whoever watches the server.
    assert any("rate limit" in r.getMessage() and "for 'bi-do-mat-khau'" in r.getMessage() for r in caplog.records)
    # Even the right password waits now, with a translated message.
    resp = client.post("/auth/login", data={"username": "bi-do-mat-khau", "password": PASSWORD})
    assert resp.status_code == 429 and "Quá nhiều lần thử" in resp.get_data(as_text=True)
    # Another account from the same address is not locked out.
    create_user("nguoi-khac", "commune", tree.commune, PASSWORD)
    db.session.commit()
    assert client.post("/auth/login", data={"username": "nguoi-khac", "password": PASSWORD}).status_code == 302


def test_login_is_rate_limited_per_address(app, client, monkeypatch):
    """Guessing across many usernames from one address stops at the address's limit, as in
    production (the test configuration loosens it for every other test); other addresses go on."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "60 per minute")  # the production default
    codes = [client.post("/auth/login", data={"username": f"doan-{n}", "password": "sai"}).status_code
             for n in range(61)]
    assert codes[:60] == [401] * 60  # each name is tried once: the per-account limit never trips
    assert codes[60] == 429 and "Quá nhiều lần thử" in client.post(
        "/auth/login", data={"username": "doan-moi", "password": "sai"}).get_data(as_text=True)
    other = app.test_client()
    resp = other.post("/auth/login", data={"username": "doan-khac", "password": "sai"},
                      environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert resp.status_code == 401


def test_every_view_with_a_rate_limit_is_checked(app):
    """Flask-Limiter looks only at the endpoints in LIMITED_ENDPOINTS (app/extensions.py): a limit put on
    any other view would never trip. The views it marked as limited are exactly those."""
    from flask_limiter.util import get_qualified_name

    from app.extensions import LIMITED_ENDPOINTS, limiter
    marked = {endpoint for endpoint, view in app.view_functions.items()
              if get_qualified_name(view) in limiter._marked_for_limiting}
    assert marked == LIMITED_ENDPOINTS == {"auth.login", "users.new", "teams.account"}


def test_htmx_request_after_the_session_expired_sends_the_whole_page_to_sign_in(client):
    from urllib.parse import parse_qs, urlsplit
    """Not the sign-in page swapped into a search box: htmx is told to go there, and back after."""
    resp = client.get("/households/?q=nguyen", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/households/?q=nguyen"})
    assert resp.status_code == 401
    target = urlsplit(resp.headers["HX-Redirect"])
    assert target.path == "/auth/login" and parse_qs(target.query) == {"next": ["/households/?q=nguyen"]}
    assert "<form" not in resp.get_data(as_text=True)
    # A crafted current URL on another site is not followed back.
    resp = client.get("/households/", headers={"HX-Request": "true", "HX-Current-URL": "//evil.example/x"})
    assert urlsplit(resp.headers["HX-Redirect"]).query in ("", "next=/x")
    # Without htmx: the usual redirect, with the page to come back to.
    resp = client.get("/households/?q=nguyen")
    assert resp.status_code == 302 and "/auth/login?next=" in resp.headers["Location"]


def test_htmx_request_with_a_one_time_password_goes_to_the_password_page(tree, login_as, client, db):
    user = login_as("commune", tree.commune)
    user.must_change_password = True
    db.session.commit()
    resp = client.get("/households/?q=x", headers={"HX-Request": "true"})
    assert resp.status_code == 403 and resp.headers["HX-Redirect"] == "/auth/password"


def test_a_session_opens_under_the_secret_key_that_signed_it_or_a_fallback_listed(app, client, tree, login_as,
                                                                                monkeypatch):
    # Rotating SECRET_KEY signs everyone out unless the old key is listed in SECRET_KEY_FALLBACKS.
    from flask import g
    login_as("commune", tree.commune)
    cookie = client.get_cookie("session").value  # signed under the key in force at sign-in

    def opens():
        client.set_cookie("session", cookie)  # a refused cookie is replaced by the sign-in page's session
        g.pop("_login_user", None)  # the test's app context outlives requests; a served request starts without
        return client.get(f"/units/{tree.commune.id}").status_code == 200  # else to the sign-in page

    assert opens()
    old = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-key-after-a-leak-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    assert not opens()
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", ["another-old-key-0123456789", old])
    assert opens()
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", ["another-old-key-0123456789"])
    assert not opens()
    monkeypatch.setitem(app.config, "SECRET_KEY", old)
    assert opens()


def test_session_cookie_is_secure_over_https_and_behind_a_proxy(app, client):
    over_http = client.get("/auth/login").headers.get("Set-Cookie", "")
    assert "Secure" not in over_http and "HttpOnly" in over_http
    over_https = app.test_client().get("/auth/login", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in over_https and "HttpOnly" in over_https and "SameSite=Lax" in over_https


def test_behind_a_proxy_the_forwarded_scheme_and_address_count(tmp_path):
    """With PROXY_COUNT=1 (nginx in front): HTTPS is seen as HTTPS, and each user's own address
    is what the per-address sign-in limit counts, not the proxy's."""
    from app import create_app
    proxied = create_app({"TESTING": True, "PROXY_COUNT": 1, "SECRET_KEY": "x",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    seen = {}

    @proxied.get("/_probe")
    def _probe():
        from flask import request
        seen.update(secure=request.is_secure, addr=request.remote_addr)
        return ""

    resp = proxied.test_client().get("/auth/login", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    assert "Secure" in resp.headers["Set-Cookie"]
    proxied.test_client().get("/_probe", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    assert seen == {"secure": True, "addr": "203.0.113.7"}


def _one_time_user(db, tree, username):
    from app.auth.cli import create_user
    user = create_user(username, "commune", tree.commune, PASSWORD, full_name="Trưởng thôn")
    user.must_change_password = True
    db.session.commit()
    return user


def test_signing_in_with_a_one_time_password_asks_only_for_the_new_one(client, tree, db):
    user = _one_time_user(db, tree, "mot-lan")
    resp = client.post("/auth/login", data={"username": "mot-lan", "password": PASSWORD})
    assert resp.headers["Location"].endswith("/auth/password")
    page = client.get("/auth/password").get_data(as_text=True)
    assert 'name="current"' not in page and 'name="new"' in page
    # The one-time password itself is still not accepted as the new one.
    resp = client.post("/auth/password", data={"new": PASSWORD, "confirm": PASSWORD})
    assert resp.status_code == 400 and "khác mật khẩu hiện tại" in resp.get_data(as_text=True)
    resp = client.post("/auth/password", data={"new": "ca-phe-sua-da-2024", "confirm": "ca-phe-sua-da-2024"})
    assert resp.status_code == 302
    user = db.session.get(User, user.id)
    assert user.check_password("ca-phe-sua-da-2024") and not user.must_change_password
    # Once changed, changing it again asks for the current password as always.
    assert 'name="current"' in client.get("/auth/password").get_data(as_text=True)
    resp = client.post("/auth/password", data={"new": "tra-da-via-he-2025", "confirm": "tra-da-via-he-2025"})
    assert resp.status_code == 400 and db.session.get(User, user.id).check_password("ca-phe-sua-da-2024")


def test_the_one_time_password_is_asked_again_after_the_grace_time(client, tree, db):
    # Ten minutes, as the README says, counted from the sign-in (not the constant: its value is the rule).
    import time_machine
    user = _one_time_user(db, tree, "mot-lan-cu")
    signed_in = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    with time_machine.travel(signed_in, tick=False):
        client.post("/auth/login", data={"username": "mot-lan-cu", "password": PASSWORD})
    for after, asked in ((timedelta(0), False), (timedelta(minutes=10), False),
                         (timedelta(minutes=10, seconds=1), True)):
        with time_machine.travel(signed_in + after, tick=False):
            assert ('name="current"' in client.get("/auth/password").get_data(as_text=True)) == asked, after
    with time_machine.travel(signed_in + timedelta(minutes=11), tick=False):
        resp = client.post("/auth/password", data={"new": "ca-phe-sua-da-2024", "confirm": "ca-phe-sua-da-2024"})
    assert resp.status_code == 400 and db.session.get(User, user.id).must_change_password
    # A clock set back before the sign-in: the session's cookie, signed later, is refused; sign in again.
    with time_machine.travel(signed_in - timedelta(seconds=1), tick=False):
        resp = client.get("/auth/password")
    assert resp.status_code == 302 and resp.location.startswith("/auth/login")


def test_passwords_are_kept_as_scrypt_hashes_outside_the_test_suite(tree, db):
    """The suite hashes with a fast method (conftest); the app as deployed keeps scrypt."""
    from app import create_app
    from app.auth.models import User
    from app.config import Config
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    deployed = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    with deployed.app_context():
        user = User(username="thu", role="commune")
        user.set_password("mat-khau-dai-du")
        assert user.password_hash.startswith("scrypt:") and "mat-khau-dai-du" not in user.password_hash
        assert user.check_password("mat-khau-dai-du") and not user.check_password("sai")


@pytest.mark.parametrize("session_id", ["99999999999999999999999:token", "-3:token", "0:token", "abc:token", ":"])
def test_a_session_naming_no_possible_account_is_signed_out_not_an_error(app, tree, db, session_id):
    # Only a server holding the secret key can write such a cookie; should one exist, it names nobody.
    from tests.visits_helpers import sign_in_as
    browser, _user = sign_in_as(app, "commune", tree.commune)
    assert browser.get("/teams/").status_code == 302  # signed in: on to the commune's teams
    with app.app_context(), browser.client.session_transaction() as sess:
        sess["_user_id"] = session_id
    resp = browser.get("/teams/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_a_password_needs_ten_characters_and_four_different_ones(app):
    from app.auth.passwords import password_problem
    with app.test_request_context():
        assert password_problem("mưa-hè-91") is not None          # 9 characters
        assert password_problem("mưa-hè-912") is None             # 10
        assert password_problem("abcabcabcabc") is not None       # 12 characters, 3 different ones
        assert password_problem("abcdabcdabcd") is None           # 4 different ones
        assert password_problem("VietNam123") is not None         # a common one, whatever its case


def test_the_home_page_sends_each_user_to_where_their_work_starts(app, db, tree):
    """A team's leader or member to the visit form; an officer to their unit's page; a field account not (or
    no longer) in a team to its unit's page too, not to a form that has no team to log for."""
    from tests.visits_helpers import make_team, sign_in_as
    team, _members = make_team(tree.commune, [tree.hamlet])
    db.session.commit()
    for role, unit, in_team, expected in (
            ("team_leader", tree.commune, team, "/visits/new"),
            ("team_member", tree.commune, team, "/visits/new"),
            ("team_member", tree.commune, None, f"/units/{tree.commune.id}"),
            ("commune", tree.commune, None, f"/units/{tree.commune.id}"),
            ("province", tree.province, None, f"/units/{tree.province.id}")):
        browser, _user = sign_in_as(app, role, unit, team=in_team)
        resp = browser.get("/")
        assert resp.status_code == 302 and resp.headers["Location"] == expected, (role, in_team)


def test_every_page_follows_the_account_its_unit_and_team_as_the_database_has_them(app, db, tree, team):
    # A worker keeps the signed-in user, their unit and team between requests (app/auth/models.py): each
    # change below, made by hand in SQL as another server or a script would, shows on the next page.
    import sqlalchemy as sa

    from tests.visits_helpers import sign_in_as
    browser, user = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])

    def page(url="/visits/new"):
        return browser.get(url)

    def change(sql, **params):
        db.session.execute(sa.text(sql), {"id": user.id, **params})
        db.session.commit()

    html = page().get_data(as_text=True)
    assert user.full_name in html and tree.commune.name in html and team[0].name in html
    change("UPDATE users SET full_name = 'Trần Thị Ánh Tuyết' WHERE id = :id")
    assert "Trần Thị Ánh Tuyết" in page().get_data(as_text=True)
    db.session.execute(sa.text("UPDATE admin_units SET name = 'Xã Vị Thủy Mới' WHERE id = :unit"),
                       {"unit": tree.commune.id})
    db.session.commit()
    assert "Xã Vị Thủy Mới" in page().get_data(as_text=True)
    db.session.execute(sa.text("UPDATE teams SET name = 'Tổ CNSCĐ Ấp Mỹ Hòa' WHERE id = :team"), {"team": team[0].id})
    db.session.commit()
    assert "Tổ CNSCĐ Ấp Mỹ Hòa" in page().get_data(as_text=True)
    change("UPDATE users SET locale = 'en' WHERE id = :id")
    assert '<html lang="en">' in page().get_data(as_text=True)
    change("UPDATE users SET must_change_password = :yes WHERE id = :id", yes=True)
    resp = page()
    assert resp.status_code == 302 and "/auth/password" in resp.headers["Location"]
    change("UPDATE users SET must_change_password = :no WHERE id = :id", no=False)
    assert page().status_code == 200
    # Another role: the visit form is a field user's; a commune officer's home is their commune.
    change("UPDATE users SET role = 'commune', team_id = NULL, member_id = NULL WHERE id = :id")
    resp = page("/")
    assert resp.status_code == 302 and f"/units/{tree.commune.id}" in resp.headers["Location"]
    change("UPDATE users SET is_enabled = :no WHERE id = :id", no=False)
    resp = page("/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    change("UPDATE users SET is_enabled = :yes WHERE id = :id", yes=True)
    assert page("/").status_code == 302 and "/auth/login" not in page("/").headers["Location"]
    change("UPDATE users SET session_token = 'khac' WHERE id = :id")  # signed out everywhere
    assert "/auth/login" in page("/").headers["Location"]


def test_what_a_request_changes_on_its_user_stays_in_that_request(app, db, tree):
    # The kept objects are merged into each request's session as copies: a change a request makes and
    # does not commit is not what the next request finds.
    from app.auth.cli import create_user
    from app.auth.models import load_user
    user = create_user("can-bo-tam", "commune", tree.commune, PASSWORD, full_name="Phạm Văn Tâm")
    db.session.commit()
    session_id, commune_name = user.get_id(), tree.commune.name
    with app.test_request_context("/"):
        db.session.remove()
        first = load_user(session_id)
        first.full_name = "Đổi Tên Không Lưu"
        first.unit.name = "Xã Không Lưu"
        db.session.rollback()
        db.session.remove()
    with app.test_request_context("/"):
        again = load_user(session_id)
        assert again is not first
        assert (again.full_name, again.unit.name) == ("Phạm Văn Tâm", commune_name)
        db.session.remove()
