"""Sessions that end, account administration from the web and the command line, the audit trail in
words, and the first-run checklist."""
import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.api.models import issue_token
from app.audit.models import AuditEvent
from app.audit.words import SENTENCES
from app.auth.cli import create_user
from app.auth.models import User
from app.units import operations as units
from tests.conftest import PASSWORD
from tests.form_versions import post_opened
from tests.html_tree import parse
from tests.visits_helpers import Browser


def _signed_in(app, username, password=PASSWORD):
    """A browser of its own (a fresh app context per request, see Browser), signed in."""
    browser = Browser(app)
    resp = browser.post("/auth/login", data={"username": username, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return browser


def _account(db, username, role, unit):
    user = create_user(username, role, unit, PASSWORD, full_name=f"Cán bộ {username}")
    db.session.commit()
    return user


def _opens(client, url="/services/") -> bool:
    resp = client.get(url)
    return resp.status_code == 200


def _signed_out(client, url="/services/") -> bool:
    """Sent to sign in (not merely to the password page, which a one-time password also causes)."""
    resp = client.get(url)
    return resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def _events(db, action, record_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "user",
                                                          AuditEvent.action == action,
                                                          AuditEvent.record_id == record_id)).all()


# --- Sessions that end --------------------------------------------------------------------------

def test_a_cookie_saved_before_sign_out_no_longer_opens_a_page(app, tree, db):
    _account(db, "tinh", "province", tree.province)
    browser = _signed_in(app, "tinh")
    saved = browser.client.get_cookie("session").value
    assert _opens(browser)
    browser.post("/auth/logout")
    thief = Browser(app)
    thief.client.set_cookie("session", saved)
    resp = thief.get("/services/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_signing_out_on_one_device_signs_out_the_others(app, tree, db):
    _account(db, "huyen", "district", tree.district)
    laptop, phone = _signed_in(app, "huyen"), _signed_in(app, "huyen")
    assert _opens(phone)
    laptop.post("/auth/logout")
    assert _signed_out(phone)


def test_after_a_password_change_other_sessions_end_and_this_one_stays(app, tree, db):
    _account(db, "xa", "commune", tree.commune)
    client, other = _signed_in(app, "xa"), _signed_in(app, "xa")
    assert _opens(other)
    resp = client.post("/auth/password", data={"current": PASSWORD, "new": "mat-khau-moi-2025",
                                               "confirm": "mat-khau-moi-2025"})
    assert resp.status_code == 302
    assert _opens(client), "the client that changed the password stays signed in"
    assert _signed_out(other), "another client's session ended"


def test_a_session_from_before_the_upgrade_carrying_only_the_id_is_signed_out(app, tree, db):
    user = _account(db, "xa", "commune", tree.commune)
    old = Browser(app)
    with old.client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert _signed_out(old)
    with old.client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert _opens(old), "the same session with the account's token opens the page"


@pytest.mark.parametrize("how", ["admin_reset", "admin_disable", "team_reset"])
def test_an_officer_resetting_or_disabling_an_account_ends_its_sessions(app, tree, db, how):
    from tests.visits_helpers import make_team
    if how == "team_reset":
        team, members = make_team(tree.commune, [tree.hamlet])
        members[0].phone = "0912345678"
        _account(db, "xa", "commune", tree.commune)
        client = _signed_in(app, "xa")
        resp = client.post(f"/teams/members/{members[0].id}/account")
        assert resp.status_code == 200
        password = re.search(r'id="account-password">([^<]+)<', resp.get_data(as_text=True)).group(1)
        account = db.session.scalar(sa.select(User).where(User.member_id == members[0].id))
        # The member signs in with the one-time password and changes it; then the officer resets it.
        member = _signed_in(app, account.username, password)
        member.post("/auth/password", data={"current": password, "new": "mat-khau-cua-to-vien",
                                            "confirm": "mat-khau-cua-to-vien"})
        assert _opens(member, "/visits/")
        assert client.post(f"/teams/members/{members[0].id}/account").status_code == 200
        assert _signed_out(member, "/visits/")
        return
    target = _account(db, "can-bo-huyen", "district", tree.district)
    victim = _signed_in(app, "can-bo-huyen")
    assert _opens(victim)
    _account(db, "quan-tri", "admin", tree.province)
    client = _signed_in(app, "quan-tri")
    action = "password" if how == "admin_reset" else "disable"
    resp = client.post(f"/users/{target.id}/{action}")
    assert resp.status_code in (200, 303)
    assert _signed_out(victim)


def test_a_disabled_users_api_token_gets_401(app, tree, db):
    user = _account(db, "ttdh", "province", tree.province)
    _token, secret = issue_token(user, label="bảng điều hành")
    db.session.commit()
    url = "/api/v1/coverage?unit=93&month=2024-10"
    client = Browser(app)
    assert client.get(url, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    _account(db, "quan-tri", "admin", tree.province)
    officer = _signed_in(app, "quan-tri")
    assert officer.post(f"/users/{user.id}/disable").status_code == 303
    assert client.get(url, headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_re_enabling_an_account_does_not_bring_its_old_sessions_back(app, tree, db):
    target = _account(db, "can-bo-xa", "commune", tree.commune)
    victim = _signed_in(app, "can-bo-xa")
    _account(db, "quan-tri", "admin", tree.province)
    client = _signed_in(app, "quan-tri")
    client.post(f"/users/{target.id}/disable")
    client.post(f"/users/{target.id}/enable")
    assert _signed_out(victim)
    assert _opens(_signed_in(app, "can-bo-xa")), "it can sign in again"


# --- Account administration ---------------------------------------------------------------------

def test_admin_creates_a_commune_officer_whose_one_time_password_must_be_changed(app, client, tree, login_as, db):
    admin = login_as("admin", tree.province)
    resp = client.post("/users/new", data={"username": "Nguyen.Van.An", "full_name": "Nguyễn Văn An",
                                           "role": "commune", "unit": tree.commune.id})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "nguyen.van.an" in html
    assert "<h1>Đã tạo tài khoản</h1>" in html and "Mật khẩu dùng một lần mới" not in html
    password = re.search(r'id="account-password">([^<]+)<', html).group(1)
    account = db.session.scalar(sa.select(User).where(User.username == "nguyen.van.an"))
    assert account.role == "commune" and account.unit_id == tree.commune.id and account.must_change_password
    assert password not in account.password_hash
    newcomer = Browser(app)
    resp = newcomer.post("/auth/login", data={"username": "nguyen.van.an", "password": password})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/password")
    assert newcomer.get(f"/units/{tree.commune.id}").headers["Location"].endswith("/auth/password")
    [event] = _events(db, "create", account.id)
    assert event.user_id == admin.id
    # An admin reaches every kind of account below: each one's page opens.
    others = [create_user(f"tk-{role}", role, unit, PASSWORD) for role, unit in (
        ("admin", tree.province), ("province", tree.province), ("district", tree.district),
        ("team_leader", tree.commune), ("team_member", tree.commune))]
    db.session.commit()
    listed = client.get("/users/").get_data(as_text=True)
    for other in others:
        assert other.username in listed and client.get(f"/users/{other.id}").status_code == 200, other.role


def test_the_unit_picker_offers_only_the_roles_level_inside_the_area(client, tree, login_as, db):
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    units.create_unit("Thành phố Sóc Trăng", "district", far, "941")
    db.session.commit()
    login_as("province", tree.province)
    html = client.get("/users/new?role=district").get_data(as_text=True)
    assert "Thành phố Vị Thanh" in html and "Huyện Châu Thành A" in html
    assert "Thành phố Sóc Trăng" not in html and "Phường I —" not in html
    html = client.get("/users/new?role=commune", headers={"HX-Request": "true", "HX-Target": "unit-field"}
                      ).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="unit-field">')
    assert "Phường I — Thành phố Vị Thanh" in html and ">Thành phố Vị Thanh</option>" not in html
    page = client.get("/users/new")
    roles = re.findall(r'<option[^>]*value="(\w+)"', page.get_data(as_text=True))
    assert page.status_code == 200
    assert "admin" not in roles and "province" not in roles and "district" in roles
    # Opened without a role, the form is for the commonest account, a commune officer: its communes are offered.
    assert re.search(r'<option selected value="commune">', page.get_data(as_text=True))
    assert "Phường I — Thành phố Vị Thanh" in page.get_data(as_text=True)


def test_the_unit_picker_lists_the_units_in_the_vietnamese_order_of_their_names(client, tree, login_as, db):
    """Not in the order they were loaded: Đ after D (not among them, as a search key folds it), numbers by value;
    the bind form of an account offers the same order."""
    from tests.html_tree import parse
    for name in ("Phường Đại Thành", "Phường Dương Kinh", "Phường Cái Khế"):
        units.create_unit(name, "commune", tree.district)
    db.session.commit()
    login_as("province", tree.province)
    expected = ["Phường Cái Khế — Thành phố Vị Thanh", "Phường Dương Kinh — Thành phố Vị Thanh",
                "Phường Đại Thành — Thành phố Vị Thanh", "Phường I — Thành phố Vị Thanh",
                "Phường III — Thành phố Vị Thanh", "Thị trấn Một Ngàn — Huyện Châu Thành A"]
    page = parse(client.get("/users/new?role=commune").get_data(as_text=True))
    assert [o.text().strip() for o in page.find(id="unit").find_all("option")] == expected
    account = create_user("can-bo-phuong-i", "commune", tree.commune, "mat-khau-dai-du-1")
    db.session.commit()
    page = parse(client.get(f"/users/{account.id}").get_data(as_text=True))
    assert [o.text().strip() for o in page.find(id="bind-unit").find_all("option")] == expected


@pytest.mark.parametrize("data,field_error", [
    ({"role": "admin", "unit": "province"}, "Hãy chọn một trong các vai trò trong danh sách."),
    ({"role": "district", "unit": "commune"}, "Hãy chọn một trong các đơn vị trong danh sách cho vai trò này."),
    ({"role": "commune", "unit": "far"}, "Hãy chọn một trong các đơn vị trong danh sách cho vai trò này."),
    ({"role": "commune", "unit": "commune", "username": "province-1"},
     "Tên đăng nhập này đã có người dùng. Bạn có thể dùng province-12 hoặc chọn tên khác."),
    ({"role": "commune", "unit": "commune", "username": "a b"},
     "Chỉ dùng chữ a–z không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới."),
    ({"role": "commune", "unit": "commune", "username": "ab"}, "Dùng từ 3 đến 64 ký tự."),
    ({"role": "commune", "unit": "commune", "username": "a" * 65}, "Dùng từ 3 đến 64 ký tự."),
    ({"role": "commune", "unit": "commune", "full_name": "Đ" * 201}, "Tối đa 200 ký tự."),
])
def test_bad_account_forms_are_a_400_with_the_message_beside_the_field(client, tree, login_as, db, data,
                                                                        field_error):
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_commune = units.create_unit("Phường 1", "commune", units.create_unit("TP Sóc Trăng", "district", far), "1")
    db.session.commit()
    login_as("province", tree.province)
    unit = {"province": tree.province.id, "commune": tree.commune.id, "far": far_commune.id}[data["unit"]]
    form = {"username": data.get("username", "can-bo-moi"), "full_name": data.get("full_name", "Trần Thị Bình"),
            "role": data["role"], "unit": unit}
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    resp = client.post("/users/new", data=form)
    html = resp.get_data(as_text=True)
    # One message, ours, beside the one field (not WTForms' own "not a valid choice" as well).
    [error] = re.findall(r'<p id="[a-z_]+-error" class="error" role="alert">([^<]*)</p>', html)
    assert resp.status_code == 400 and error == field_error
    assert f'value="{form["full_name"]}"' in html
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_usernames_of_three_and_sixty_four_characters_and_a_full_name_of_two_hundred_are_accepted(
        client, tree, login_as, db):
    login_as("province", tree.province)
    for username, full_name in (("abc", "Lê Thị Hồng"), ("a" * 64, "Nguyễn " + "Đ" * 193)):
        resp = client.post("/users/new", data={"username": username, "full_name": full_name, "role": "commune",
                                               "unit": tree.commune.id})
        assert resp.status_code == 200 and "<h1>Đã tạo tài khoản</h1>" in resp.get_data(as_text=True)
        assert db.session.scalar(sa.select(User.full_name).where(User.username == username)) == full_name


def _username_error(resp) -> tuple[str, list[str]]:
    """The message beside the username field, and the addresses of the links in it."""
    error = parse(resp.get_data(as_text=True)).find(id="username-error")
    return " ".join(error.text().split()), [a.attrs["href"] for a in error.find_all(tag="a")]


def test_a_username_taken_in_another_province_says_only_that_it_is_in_use_and_offers_a_free_one(
        client, tree, login_as, db):
    """Usernames are unique everywhere, but whose it is, and where, is none of this province's business: the
    officer is told it is in use and given the typed name with a digit after it that is free now."""
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_commune = units.create_unit("Phường 1", "commune", units.create_unit("TP Sóc Trăng", "district", far), "1")
    create_user("nguyen.van.an", "commune", far_commune, PASSWORD, full_name="Nguyễn Văn An")
    create_user("nguyen.van.an2", "province", far, PASSWORD, full_name="Nguyễn Văn An")
    db.session.commit()
    login_as("province", tree.province)
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    resp = client.post("/users/new", data={"username": "Nguyen.Van.An", "full_name": "Nguyễn Văn Ân",
                                           "role": "commune", "unit": tree.commune.id})
    assert resp.status_code == 400
    message, links = _username_error(resp)
    assert message == "Tên đăng nhập này đã có người dùng. Bạn có thể dùng nguyen.van.an3 hoặc chọn tên khác."
    assert links == []
    html = resp.get_data(as_text=True)
    for secret in ("Sóc Trăng", "Phường 1", "Nguyễn Văn An", "Cán bộ xã ·"):
        assert secret not in html, secret
    # The form comes back as typed.
    form = parse(html).find(tag="form", action="/users/new")
    assert form.find(tag="input", name="username").attrs["value"] == "nguyen.van.an"
    assert form.find(tag="input", name="full_name").attrs["value"] == "Nguyễn Văn Ân"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before
    # The name offered is taken as it is.
    resp = client.post("/users/new", data={"username": "nguyen.van.an3", "full_name": "Nguyễn Văn Ân",
                                           "role": "commune", "unit": tree.commune.id})
    assert resp.status_code == 200 and "<h1>Đã tạo tài khoản</h1>" in resp.get_data(as_text=True)


def test_a_username_taken_by_an_account_of_ones_own_area_links_to_it_as_the_same_person_may_have_it(
        client, tree, login_as, db):
    """The account is one the officer manages: it may well be the same person's, so it is named, with a link to its
    page, rather than a second account made; a digit after the name still gives another person theirs. An account
    of the province the officer does not manage (a colleague, an administrator) is not named."""
    mine = create_user("nguyen.van.an", "commune", tree.sibling_commune, PASSWORD, full_name="Nguyễn Văn An")
    create_user("tran.thi.ha", "province", tree.province, PASSWORD, full_name="Trần Thị Hà")
    db.session.commit()
    login_as("province", tree.province)
    resp = client.post("/users/new", data={"username": "nguyen.van.an", "full_name": "Nguyễn Văn An",
                                           "role": "commune", "unit": tree.commune.id})
    assert resp.status_code == 400
    message, links = _username_error(resp)
    assert message == ("Tên đăng nhập này đã có người dùng: Nguyễn Văn An (nguyen.van.an), trong địa bàn của bạn. "
                       "Nếu là cùng một người, hãy mở tài khoản đó thay vì tạo thêm một tài khoản nữa. Nếu không, "
                       "bạn có thể dùng nguyen.van.an2 hoặc chọn tên khác.")
    assert links == [f"/users/{mine.id}"] and client.get(links[0]).status_code == 200
    resp = client.post("/users/new", data={"username": "tran.thi.ha", "full_name": "Trần Thị Hà",
                                           "role": "commune", "unit": tree.commune.id})
    message, links = _username_error(resp)
    assert message == "Tên đăng nhập này đã có người dùng. Bạn có thể dùng tran.thi.ha2 hoặc chọn tên khác."
    assert links == [] and "Trần Thị Hà (" not in resp.get_data(as_text=True)


def test_the_free_username_offered_keeps_within_sixty_four_characters(client, tree, login_as, db):
    long = "a" * 64
    create_user(long, "commune", tree.commune, PASSWORD)
    create_user("a" * 63 + "2", "commune", tree.commune, PASSWORD)
    db.session.commit()
    login_as("admin", tree.province)
    resp = client.post("/users/new", data={"username": long, "full_name": "Lê Văn Tư", "role": "commune",
                                           "unit": tree.commune.id})
    message, _links = _username_error(resp)
    assert f"bạn có thể dùng {'a' * 63}3 hoặc chọn tên khác." in message


def test_new_accounts_are_limited_per_officer_so_usernames_cannot_be_tried_in_bulk(app, client, tree, login_as, db,
                                                                                   monkeypatch, caplog):
    """Each refusal says whether a username exists somewhere (a team member's is their phone number): an officer
    sends the form a few times a minute at most, a script trying numbers many more."""
    monkeypatch.setitem(app.config, "ACCOUNT_FORM_LIMIT", "3 per minute")
    officer = login_as("province", tree.province)
    data = {"username": "0912345678", "full_name": "Lê Văn Tư", "role": "commune", "unit": tree.commune.id}
    for n in range(3):
        assert client.post("/users/new", data={**data, "username": f"091234567{n}"}).status_code == 200
    resp = client.post("/users/new", data=data)
    assert resp.status_code == 429 and "Quá nhiều lần thử. Hãy đợi một phút rồi thử lại." in resp.get_data(as_text=True)
    assert f"reached on POST /users/new by '{officer.username}'" in caplog.text
    assert client.get("/users/new").status_code == 200  # the form itself still opens
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.username == "0912345678")) == 0


def test_province_staff_cannot_touch_admins_or_another_provinces_accounts(client, tree, login_as, db):
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_officer = create_user("xa-soc-trang", "commune", units.create_unit(
        "Phường 1", "commune", units.create_unit("TP Sóc Trăng", "district", far), "1"), PASSWORD)
    admin = create_user("quan-tri", "admin", tree.province, PASSWORD)
    colleague = create_user("tinh-2", "province", tree.province, PASSWORD)
    mine = create_user("xa-phuong-1", "commune", tree.commune, PASSWORD)
    # The province's team accounts too: a leader or member who lost their phone asks the province.
    leader = create_user("0912000001", "team_leader", tree.commune, PASSWORD)
    member = create_user("0912000002", "team_member", tree.commune, PASSWORD)
    db.session.commit()
    me = login_as("province", tree.province)
    html = client.get("/users/").get_data(as_text=True)
    assert "xa-phuong-1" in html and "0912000001" in html and "0912000002" in html
    for account in (leader, member):
        assert client.get(f"/users/{account.id}").status_code == 200
        assert client.post(f"/users/{account.id}/password").status_code == 200
    assert "xa-soc-trang" not in html and "quan-tri" not in html and "tinh-2" not in html
    for account in (far_officer, admin, colleague):
        assert client.post(f"/users/{account.id}/disable").status_code == 404
        assert client.post(f"/users/{account.id}/password").status_code == 404
    assert client.post(f"/users/{me.id}/disable").status_code == 404
    assert client.post(f"/users/{mine.id}/disable").status_code == 303
    db.session.expire_all()
    assert [u.username for u in db.session.scalars(sa.select(User).where(User.is_enabled.is_(False)))] == \
        ["xa-phuong-1"]


def test_the_account_list_filters_by_name_role_and_state_and_a_bad_filter_is_a_400(client, tree, login_as, db):
    create_user("xa-phuong-1", "commune", tree.commune, PASSWORD, full_name="Nguyễn Thị Lan")
    create_user("huyen-vi-thanh", "district", tree.district, PASSWORD, full_name="Trần Văn Bình")
    gone = create_user("xa-phuong-3", "commune", tree.sibling_commune, PASSWORD, full_name="Lê Văn Cường")
    gone.is_enabled = False
    db.session.commit()
    login_as("province", tree.province)

    def listed(query):
        resp = client.get(f"/users/?{query}")
        return resp.status_code, set(re.findall(r"<strong>([^<]+)</strong>", resp.get_data(as_text=True)))

    assert listed("role=commune")[1] >= {"xa-phuong-1", "xa-phuong-3"}
    assert "huyen-vi-thanh" not in listed("role=commune")[1]
    assert listed("role=district")[1] == {"huyen-vi-thanh"}
    status, names = listed("state=disabled")
    assert (status, names) == (200, {"xa-phuong-3"})
    assert "xa-phuong-3" not in listed("state=enabled")[1] and "xa-phuong-1" in listed("state=enabled")[1]
    assert listed("q=bình")[1] == {"huyen-vi-thanh"}  # the full name, in any case
    # With or without accents, as every other list searches names: "Đạt" is found by "dat", "ĐẠT" and "Quốc đạt".
    create_user("tinh-dat", "commune", tree.commune, PASSWORD, full_name="Phạm Quốc Đạt")
    db.session.commit()
    for typed in ("dat", "%C4%90%E1%BA%A0T", "Qu%E1%BB%91c %C4%91%E1%BA%A1t", "pham quoc", "tinh-dat"):
        assert listed(f"q={typed}")[1] == {"tinh-dat"}, typed
    assert listed("q=binh")[1] == {"huyen-vi-thanh"} and listed("q=dung")[1] == set()
    # What is typed is looked for as it is: "_" and "%" are no wildcards.
    create_user("xa_phuong_2", "commune", tree.commune, PASSWORD, full_name="Phạm Thị Hoa")
    db.session.commit()
    assert listed("q=_")[1] == {"xa_phuong_2"}
    assert listed("q=%25")[1] == set()
    for bad in ("role=admin", "role=khong-co", "state=maybe", "q=" + "a" * 65):
        assert listed(bad)[0] == 400, bad
    assert listed("q=" + "a" * 64) == (200, set())


def test_the_account_list_shows_its_first_two_hundred_and_says_there_are_more(client, tree, login_as, db):
    """A province has hundreds of team accounts: the list shows 200 and asks to narrow the search, and with
    exactly 200 it shows them all and says nothing."""
    login_as("province", tree.province)
    db.session.execute(sa.insert(User), [
        {"username": f"0912{n:06d}", "password_hash": "!", "full_name": "", "role": "team_member",
         "unit_id": tree.commune.id} for n in range(199)])
    db.session.commit()

    def shown():
        html = client.get("/users/?role=team_member").get_data(as_text=True)
        return len(re.findall(r"<strong>0912\d{6}</strong>", html)), "Hãy thu hẹp tìm kiếm." in html

    assert shown() == (199, False)
    db.session.add(User(username="0912999998", password_hash="!", role="team_member", unit_id=tree.commune.id))
    db.session.commit()
    assert shown() == (200, False)
    db.session.add(User(username="0912999999", password_hash="!", role="team_member", unit_id=tree.commune.id))
    db.session.commit()
    assert shown() == (200, True)
    assert "Chỉ hiện 200 tài khoản đầu tiên." in client.get("/users/?role=team_member").get_data(as_text=True)


def test_only_a_staff_account_of_ones_area_is_bound_to_another_unit_and_only_to_one_listed(
        client, tree, login_as, db):
    """A commune officer moves to the next commune; a team account follows its member's team instead; one's own
    account and another province's are not one's to move; the same unit again changes nothing."""
    me = login_as("province", tree.province)
    officer = _account(db, "xa-phuong-1", "commune", tree.commune)
    leader = _account(db, "0912000001", "team_leader", tree.commune)
    far = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_commune = units.create_unit("Phường 1", "commune", units.create_unit("TP Sóc Trăng", "district", far), "1")
    stranger = _account(db, "xa-soc-trang", "commune", far_commune)
    assert 'id="bind"' in client.get(f"/users/{officer.id}").get_data(as_text=True)
    for account in (leader, me):
        assert 'id="bind"' not in client.get(f"/users/{account.id}").get_data(as_text=True)
    assert client.post(f"/users/{leader.id}/unit", data={"bind-unit": tree.sibling_commune.id}).status_code == 403
    assert client.post(f"/users/{me.id}/unit", data={"bind-unit": tree.district.id}).status_code == 404  # as disable
    assert client.post(f"/users/{stranger.id}/unit", data={"bind-unit": tree.commune.id}).status_code == 404
    for bad in (far_commune.id, tree.district.id, "x", ""):
        resp = client.post(f"/users/{officer.id}/unit", data={"bind-unit": bad})
        assert resp.status_code == 400, bad
        assert re.search(r'<p id="bind-unit-error" class="error" role="alert">[^<]+</p>', resp.get_data(as_text=True))
    bind, page = f"/users/{officer.id}/unit", f"/users/{officer.id}"
    assert post_opened(client, bind, {"bind-unit": tree.commune.id}, page).status_code == 303
    assert _events(db, "update", officer.id) == []  # the same unit: nothing changed
    resp = post_opened(client, bind, {"bind-unit": tree.sibling_commune.id}, page, follow_redirects=True)
    name = db.session.get(User, officer.id).shown_name
    assert name != "xa-phuong-1"  # the person's name, then the username
    assert f"Tài khoản {name} nay gắn với {tree.sibling_commune.name}." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(User, a.id).unit_id for a in (officer, leader, me, stranger)] == [
        tree.sibling_commune.id, tree.commune.id, tree.province.id, far_commune.id]
    [event] = _events(db, "update", officer.id)
    assert event.user_id == me.id


def _history(html: str) -> list[tuple[str, list[str]]]:
    """The account page's history, newest first: each entry's sentence and its changes, "Label: before → after"."""
    entries = parse(html).find(tag="ol", **{"class": "events"}).find_all(tag="li")
    out = []
    for li in entries:
        sentence = " ".join(li.find(tag="p", **{"class": "event-sentence"}).text().split())
        dl = li.find(tag="dl")
        cells = [" ".join(e.text().split()) for e in (dl.find_all() if dl else ()) if e.tag in ("dt", "dd")]
        out.append((sentence, [f"{label}: {value}" for label, value in zip(cells[::2], cells[1::2], strict=True)]))
    return out


def test_an_accounts_history_reads_a_change_of_unit_as_from_one_unit_to_the_other(client, tree, login_as, db):
    """Bound from Phường I to Phường III, the account's page says "Đơn vị: Phường I → Phường III" on one line, the
    old unit struck through; an entry an earlier version wrote (the old unit by its id, the new one by its name) reads
    the same way, never "Phường I → –" beside a second line for the new unit."""
    from app.audit.models import record
    login_as("province", tree.province)
    officer = _account(db, "xa-phuong-1", "commune", tree.commune)
    page = f"/users/{officer.id}"
    bound = post_opened(client, f"/users/{officer.id}/unit", {"bind-unit": tree.sibling_commune.id}, page)
    assert bound.status_code == 303
    # As bind_account recorded it until now: back to Phường I, written the older way.
    record("update", "user", officer.id, tree.commune.id, before={"unit_id": tree.sibling_commune.id},
           after={"unit": tree.commune.name, "username": officer.username}, user=None)
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    older, newer = _history(html)[:2]
    assert older == ("Đã gắn tài khoản Cán bộ xa-phuong-1 (xa-phuong-1) với Phường I",
                     ["Đơn vị: Phường III → Phường I"])
    assert newer == ("Đã gắn tài khoản Cán bộ xa-phuong-1 (xa-phuong-1) với Phường III",
                     ["Đơn vị: Phường I → Phường III"])
    assert "<dt>Đơn vị</dt><dd><del>Phường I</del> → Phường III</dd>" in html
    assert "<dt>Đơn vị</dt><dd><del>Phường III</del> → Phường I</dd>" in html
    assert "→ –" not in html


def test_an_accounts_history_gives_its_username_where_it_was_made_or_changed_and_names_a_deleted_account(
        client, tree, login_as, db):
    """Each entry keeps the account's username (so an account deleted since is still named), but the page shows
    "Tên đăng nhập" only where it says something: the account's creation, and a change of the username. Bound
    elsewhere, disabled, enabled again or given a new password, the entry says just that."""
    from app.audit.models import record
    login_as("admin", tree.province)
    assert client.post("/users/new", data={"username": "can-bo-an", "full_name": "Nguyễn Văn An", "role": "commune",
                                           "unit": tree.commune.id}).status_code == 200
    account = db.session.scalar(sa.select(User).where(User.username == "can-bo-an"))
    page = f"/users/{account.id}"
    assert post_opened(client, f"{page}/unit", {"bind-unit": tree.sibling_commune.id}, page).status_code == 303
    for action in ("disable", "enable", "password"):
        assert client.post(f"{page}/{action}").status_code in (200, 303)
    # No page renames an account; an entry that did (a fix made in the database, with its event) says so.
    record("update", "user", account.id, tree.sibling_commune.id, before={"username": "can-bo-an-cu"},
           after={"username": "can-bo-an"}, user=None)
    db.session.commit()
    history = _history(client.get(page).get_data(as_text=True))
    assert history == [
        ("Đã gắn tài khoản Nguyễn Văn An (can-bo-an) với Phường III", ["Tên đăng nhập: can-bo-an-cu → can-bo-an"]),
        ("Đã cấp mật khẩu dùng một lần mới cho tài khoản Nguyễn Văn An (can-bo-an)", []),
        ("Đã mở lại tài khoản Nguyễn Văn An (can-bo-an)", ["Tài khoản hoạt động: không → có"]),
        ("Đã khóa tài khoản Nguyễn Văn An (can-bo-an)", ["Tài khoản hoạt động: có → không"]),
        ("Đã gắn tài khoản Nguyễn Văn An (can-bo-an) với Phường III", ["Đơn vị: Phường I → Phường III"]),
        ("Đã tạo tài khoản Nguyễn Văn An (can-bo-an)",
         ["Họ và tên: Nguyễn Văn An", "Vai trò: Cán bộ xã", "Tên đăng nhập: can-bo-an", "Đơn vị: Phường I"]),
    ]
    # Deleted since (outside the app: no page deletes an account), it is still named by its username in the trail.
    db.session.delete(db.session.get(User, account.id))
    db.session.commit()
    trail = " ".join(client.get("/audit/").get_data(as_text=True).split())
    assert "Đã khóa tài khoản can-bo-an" in trail and "Đã tạo tài khoản Nguyễn Văn An (can-bo-an)" in trail


def test_an_admin_cannot_disable_their_own_account(client, tree, login_as, db):
    me = login_as("admin", tree.province)
    assert client.post(f"/users/{me.id}/disable").status_code == 403
    assert client.post(f"/users/{me.id}/password").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, me.id).is_enabled and not db.session.get(User, me.id).must_change_password


def test_an_admin_s_own_account_in_the_list_opens_its_page_without_the_actions(client, tree, login_as, db):
    """The list links every account it shows, the admin's own too: its page opens (not a 403 behind a link)
    with its history, says why it has no disable or new-password buttons, and leads to the password page."""
    me = login_as("admin", tree.province)
    other = _account(db, "xa-phuong-1", "commune", tree.commune)
    listing = client.get("/users/").get_data(as_text=True)
    mine = re.search(rf'<li class="[^"]*account-item[^"]*">\s*<a href="/users/{me.id}">.*?</li>', listing, re.S)
    assert mine and ">Bạn<" in mine.group(0)
    theirs = re.search(rf'<a href="/users/{other.id}">.*?</li>', listing, re.S)
    assert ">Bạn<" not in theirs.group(0)
    resp = client.get(f"/users/{me.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and me.username in html
    assert 'id="own-account"' in html and 'href="/auth/password"' in html
    assert 'id="disable-account"' not in html and 'id="reset-password"' not in html
    html = client.get(f"/users/{other.id}").get_data(as_text=True)
    assert 'id="disable-account"' in html and 'id="reset-password"' in html and 'id="own-account"' not in html


@pytest.mark.parametrize("role", ["district", "commune", "team_leader", "team_member"])
def test_officers_below_the_province_cannot_manage_accounts(client, tree, login_as, db, role):
    login_as(role, tree.district if role == "district" else tree.commune)
    assert client.get("/users/").status_code == 403
    assert client.post("/users/new", data={"username": "x-y-z", "full_name": "X", "role": "commune",
                                           "unit": tree.commune.id}).status_code == 403
    assert db.session.scalar(sa.select(User.id).where(User.username == "x-y-z")) is None
    # Nor any one account, their own commune's included: not theirs to manage (403, whatever it is).
    other = create_user("can-bo-xa-khac", "commune", tree.commune, PASSWORD)
    db.session.commit()
    for path in (f"/users/{other.id}", f"/users/{other.id}/disable", f"/users/{other.id}/password"):
        resp = client.get(path) if path.count("/") == 2 else client.post(path)
        assert resp.status_code == 403, path
    assert db.session.get(User, other.id).is_enabled


def test_a_disabled_account_cannot_sign_in_and_the_change_is_audited_with_who_did_it(
        app, client, tree, login_as, db):
    target = create_user("can-bo-xa", "commune", tree.commune, PASSWORD, full_name="Lê Thị Hạnh")
    db.session.commit()
    admin = login_as("admin", tree.province)
    # Named as everywhere else: the person, then the username.
    page = client.post(f"/users/{target.id}/disable", follow_redirects=True).get_data(as_text=True)
    assert "Tài khoản Lê Thị Hạnh (can-bo-xa) đã bị khóa và đã bị đăng xuất trên mọi thiết bị." in page
    assert Browser(app).post("/auth/login", data={"username": "can-bo-xa", "password": PASSWORD}
                                  ).status_code == 401
    page = client.post(f"/users/{target.id}/enable", follow_redirects=True).get_data(as_text=True)
    assert "Tài khoản Lê Thị Hạnh (can-bo-xa) đã có thể đăng nhập lại." in page
    page = client.post(f"/users/{target.id}/password").get_data(as_text=True)
    assert "<h1>Mật khẩu dùng một lần mới</h1>" in page and "Đã tạo tài khoản" not in page
    for action in ("disable", "enable", "reset_password"):
        [event] = _events(db, action, target.id)
        assert event.user_id == admin.id and event.unit_id == tree.commune.id
    changes = {action: json.loads(_events(db, action, target.id)[0].changes) for action in ("disable", "enable")}
    assert changes["disable"]["is_enabled"] == {"before": True, "after": False}
    assert changes["enable"]["is_enabled"] == {"before": False, "after": True}
    html = client.get(f"/users/{target.id}").get_data(as_text=True)
    assert "Đã khóa tài khoản Lê Thị Hạnh (can-bo-xa)" in html and "Đã mở lại tài khoản Lê Thị Hạnh (can-bo-xa)" in html


def test_the_account_page_and_its_one_time_password_page_name_the_account_as_everywhere_else(
        client, tree, login_as, db):
    """The account's page is headed and titled "Full name (username)", as the list, the messages and the audit
    trail name it, and so is the one-time password's page; an account with no full name is its username."""
    named = create_user("can-bo-xa", "commune", tree.commune, PASSWORD, full_name="Lê Thị Hạnh")
    bare = create_user("can-bo-xa-2", "commune", tree.commune, PASSWORD)
    db.session.commit()
    login_as("province", tree.province)
    for account, name in ((named, "Lê Thị Hạnh (can-bo-xa)"), (bare, "can-bo-xa-2")):
        page = parse(client.get(f"/users/{account.id}").get_data(as_text=True))
        assert page.find(tag="h1").text() == name
        assert page.find(tag="title").text().startswith(name)
        reset = client.post(f"/users/{account.id}/password")
        assert reset.status_code == 200
        title = parse(reset.get_data(as_text=True)).find(tag="title").text()
        assert title.startswith(f"Mật khẩu dùng một lần · {name}"), title


# --- Command line -------------------------------------------------------------------------------

def test_cli_asks_a_password_twice_without_showing_it_and_names_a_missing_option(app, runner, tree, db):
    typed = "mat-khau-huyen-1\nmat-khau-khac-2\nmat-khau-huyen-1\nmat-khau-huyen-1\n"  # a slip, then again
    result = runner.invoke(args=["users", "create", "--username", "can-bo-moi", "--role", "district",
                                 "--unit", "930"], input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "mat-khau" not in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "can-bo-moi")).check_password("mat-khau-huyen-1")
    result = runner.invoke(args=["users", "set-password", "can-bo-moi"],
                           input="mat-khau-moi-99\nmat-khau-moi-98\nmat-khau-moi-99\nmat-khau-moi-99\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "mat-khau" not in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.username == "can-bo-moi")).check_password("mat-khau-moi-99")
    whole = ["--username", "can-bo-khac", "--role", "district", "--unit", "930", "--password", "mat-khau-huyen-1"]
    for option in ("--username", "--role", "--unit"):
        at = whole.index(option)
        result = runner.invoke(args=["users", "create", *whole[:at], *whole[at + 2:]])
        assert result.exit_code == 2 and f"Missing option '{option}'" in result.output, (option, result.output)
    assert db.session.scalar(sa.select(User).where(User.username == "can-bo-khac")) is None


def test_cli_create_checks_the_unit_role_and_username_before_asking_the_password(runner, tree, db):
    """A wrong --unit, a unit of another level than the role's or a taken username stops the command before the
    password is typed; a password the rules refuse is asked for again."""
    create_user("da-co", "commune", tree.commune, PASSWORD)
    db.session.commit()
    typed = "mat-khau-huyen-1\nmat-khau-huyen-1\n"
    for args, message in ((["--username", "moi", "--role", "district", "--unit", "99999"], "no unit with code '99999'"),
                          (["--username", "moi", "--role", "commune", "--unit", "930"],
                           "a commune user must be bound to a commune, not a district"),
                          (["--username", "Da-Co", "--role", "commune", "--unit", "31318"],
                           "username 'da-co' is taken")):
        result = runner.invoke(args=["users", "create", *args], input=typed)
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Password" not in result.output, result.output
    result = runner.invoke(args=["users", "create", "--username", "moi", "--role", "district", "--unit", "930"],
                           input="123456\n" + typed)
    assert result.exit_code == 0, result.output
    assert result.output.count("Password:") == 2 and "mat-khau" not in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "moi")).check_password("mat-khau-huyen-1")
    # set-password names an unknown account before asking.
    result = runner.invoke(args=["users", "set-password", "khong-co"], input=typed)
    assert result.exit_code == 1 and "no user 'khong-co'" in result.output and "Password" not in result.output


def test_cli_lists_the_last_sign_in_in_vietnam_time_with_its_zone(runner, tree, db):
    from datetime import UTC, datetime
    user = create_user("dang-nhap", "commune", tree.commune, PASSWORD)
    user.last_login_at = datetime(2025, 3, 4, 17, 30, tzinfo=UTC)
    create_user("chua-dang-nhap", "commune", tree.commune, PASSWORD)
    db.session.commit()
    lines = dict(line.split("\t", 1) for line in runner.invoke(args=["users", "list"]).output.splitlines())
    assert lines["dang-nhap"].endswith("\tenabled\t2025-03-05 00:30 +0700"), lines
    assert lines["chua-dang-nhap"].endswith("\tenabled\tnever"), lines


def test_cli_binds_an_officer_to_another_unit_of_its_level_audited_and_refuses_what_does_not_fit(
        app, runner, tree, db):
    """An officer who changes post is bound to the new unit from the server (an area, which has no code, by its
    id); a unit of another level, a team account, an unknown unit or neither option is refused, nothing kept."""
    officer = create_user("can-bo-huyen", "district", tree.district, PASSWORD, full_name="Trần Thị Hoa")
    commune_officer = create_user("can-bo-xa", "commune", tree.commune, PASSWORD)
    area = units.create_unit("Khu vực Châu Thành", "area", tree.province)
    db.session.commit()
    session = _signed_in(app, "can-bo-huyen", PASSWORD)
    result = runner.invoke(args=["users", "bind", "Can-Bo-Huyen", "--unit", "931"])
    assert (result.exit_code, result.output) == (0, "can-bo-huyen bound to Huyện Châu Thành A\n")
    assert runner.invoke(args=["users", "bind", "can-bo-huyen", "--unit", "931"]).output == (
        "can-bo-huyen was already bound to Huyện Châu Thành A\n")
    # Its pages follow from its next request: the other district's commune, not its old one.
    assert session.get(f"/units/{tree.other_commune.id}").status_code == 200
    assert session.get(f"/units/{tree.commune.id}").status_code in (403, 404)
    result = runner.invoke(args=["users", "bind", "can-bo-huyen", "--unit-id", str(area.id)])
    assert (result.exit_code, result.output) == (0, "can-bo-huyen bound to Khu vực Châu Thành\n")
    refused = {
        ("can-bo-huyen", "--unit", "31318"): "a district account is bound to a district or area, not a commune",
        ("can-bo-xa", "--unit", "930"): "a commune account is bound to a commune, not a district",
        ("can-bo-huyen", "--unit", "99999"): "no current unit '99999'",
        ("khong-co", "--unit", "930"): "no user 'khong-co'",
    }
    for args, message in refused.items():
        result = runner.invoke(args=["users", "bind", *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    result = runner.invoke(args=["users", "bind", "can-bo-huyen"])
    assert result.exit_code == 2 and "--unit CODE or by --unit-id ID" in result.output
    # A unit that no longer stands (ended by a reorganization) is no post to bind to.
    old_district = units.create_unit("Huyện Vị Thủy", "district", tree.province, "934")
    old_district.retired_on = date(2025, 7, 1)
    db.session.commit()
    result = runner.invoke(args=["users", "bind", "can-bo-huyen", "--unit-id", str(old_district.id)])
    assert result.exit_code == 1 and f"no current unit {old_district.id}" in result.output, result.output
    # An administrator may be bound to any unit.
    create_user("quan-tri", "admin", tree.province, PASSWORD)
    db.session.commit()
    assert runner.invoke(args=["users", "bind", "quan-tri", "--unit", "31318"]).output == (
        "quan-tri bound to Phường I\n")
    result = runner.invoke(args=["users", "bind", "can-bo-huyen", "--unit", "930", "--unit-id", str(area.id)])
    assert result.exit_code == 2
    db.session.expire_all()
    assert (db.session.get(User, officer.id).unit_id, db.session.get(User, commune_officer.id).unit_id) == (
        area.id, tree.commune.id)
    events = sorted(_events(db, "update", officer.id), key=lambda e: e.id)
    assert [(e.user_id, json.loads(e.changes)["unit_id"]["before"]) for e in events] == [
        (None, tree.district.id), (None, tree.other_district.id)]


def test_cli_does_not_bind_a_team_account_which_follows_its_team(app, runner, tree, db):
    from tests.visits_helpers import make_team
    team, members = make_team(tree.commune, [tree.hamlet])
    leader = create_user("to-truong", "team_leader", tree.commune, PASSWORD)
    leader.team_id, leader.member_id = team.id, members[0].id
    db.session.commit()
    result = runner.invoke(args=["users", "bind", "to-truong", "--unit", "31321"])
    assert result.exit_code == 1 and "to-truong is a team account" in result.output
    db.session.expire_all()
    assert db.session.get(User, leader.id).unit_id == tree.commune.id


def test_an_account_name_has_one_to_sixty_four_visible_characters(db, tree):
    create_user("a" * 64, "commune", tree.commune, "mat-khau-huyen-1")
    for name in ("a" * 65, "", "\u200b"):
        with pytest.raises(ValueError, match="1 to 64"):
            create_user(name, "commune", tree.commune, "mat-khau-huyen-1")
    # A role the app does not know is refused (the web form and the command offer only the six).
    with pytest.raises(ValueError, match="unknown role 'superuser'"):
        create_user("b", "superuser", tree.commune, "mat-khau-huyen-1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == "b")) == 0
    with pytest.raises(ValueError, match="a commune user must be bound to a commune, not a district"):
        create_user("c", "commune", tree.district, "mat-khau-huyen-1")


def test_cli_creates_lists_disables_enables_and_sets_passwords_audited_as_the_system(app, runner, tree, db):
    result = runner.invoke(args=["users", "create", "--username", "Can-Bo-Huyen", "--role", "district",
                                 "--unit", "930", "--password", "mat-khau-huyen-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "can-bo-huyen"))
    session = _signed_in(app, "can-bo-huyen", "mat-khau-huyen-1")
    result = runner.invoke(args=["users", "list", "--unit", "93"])
    assert "can-bo-huyen\tdistrict\t930\tThành phố Vị Thanh\tenabled\t" in result.output
    assert len(result.output.splitlines()) == 1  # one line an account, each with its own unit
    assert runner.invoke(args=["users", "disable", "can-bo-huyen"]).output == "disabled can-bo-huyen\n"
    assert "DISABLED" in runner.invoke(args=["users", "list", "--role", "district"]).output
    assert _signed_out(session)
    # Asked twice (a command run again): it says so and records nothing more.
    assert runner.invoke(args=["users", "disable", "can-bo-huyen"]).output == "can-bo-huyen was already disabled\n"
    assert runner.invoke(args=["users", "enable", "can-bo-huyen"]).output == "enabled can-bo-huyen\n"
    assert runner.invoke(args=["users", "enable", "can-bo-huyen"]).output == "can-bo-huyen was already enabled\n"
    result = runner.invoke(args=["users", "set-password", "can-bo-huyen", "--password", "mat-khau-moi-99"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "set-password", "can-bo-huyen", "--password", "123456"]).exit_code != 0
    assert runner.invoke(args=["users", "disable", "khong-co"]).exit_code != 0
    result = runner.invoke(args=["users", "create", "--username", "can-bo-khac", "--role", "commune", "--unit",
                                 "99999", "--password", "mat-khau-huyen-1"])
    assert result.exit_code == 1 and "no unit with code '99999'" in result.output, result.output
    result = runner.invoke(args=["users", "create", "--username", "CAN-BO-HUYEN", "--role", "commune", "--unit",
                                 "31338", "--password", "mat-khau-huyen-1"])
    assert result.exit_code == 1 and "username 'can-bo-huyen' is taken" in result.output, result.output
    result = runner.invoke(args=["users", "create", "--username", "can-bo-khac", "--role", "commune", "--unit",
                                 "31338", "--password", "123456"])
    assert result.exit_code == 1 and db.session.scalar(sa.select(User).where(User.username == "can-bo-khac")) is None
    # The list by unit holds the accounts at or below it, by role those of the role.
    assert runner.invoke(args=["users", "create", "--username", "can-bo-xa", "--role", "commune", "--unit",
                               "31338", "--password", "mat-khau-xa-12"]).exit_code == 0
    listed = {unit: [line.split("\t")[0] for line in runner.invoke(args=["users", "list", "--unit", unit])
                     .output.splitlines()] for unit in ("93", "930", "931", "31338")}
    assert listed == {"93": ["can-bo-huyen", "can-bo-xa"], "930": ["can-bo-huyen"], "931": ["can-bo-xa"],
                      "31338": ["can-bo-xa"]}
    assert [line.split("\t")[0] for line in runner.invoke(args=["users", "list", "--role", "commune"])
            .output.splitlines()] == ["can-bo-xa"]
    assert runner.invoke(args=["users", "list", "--unit", "99999"]).exit_code == 1
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_enabled and user.must_change_password and user.check_password("mat-khau-moi-99")
    for action in ("create", "disable", "enable", "reset_password"):
        [event] = _events(db, action, user.id)
        assert event.user_id is None


# --- The audit trail in words -------------------------------------------------------------------

def test_the_audit_page_says_what_happened_in_words_in_both_languages(client, tree, login_as, db):
    units.set_household_count(tree.hamlet, 1851, __import__("datetime").date(2025, 1, 1))
    db.session.commit()
    login_as("province", tree.province)
    html = client.get("/audit/").get_data(as_text=True)
    assert "Đã đặt số hộ của Khu vực 1: 1.851" in html
    assert "set_households" not in html and "effective_on" not in html
    assert "<dt>Số hộ</dt><dd>1.851</dd>" in html
    english = _account(db, "province-en", "province", tree.province)
    english.locale = "en"
    db.session.commit()
    html = _signed_in(client.application, "province-en").get("/audit/").get_data(as_text=True)
    assert "Set the households of Khu vực 1: 1,851" in html


def test_every_audit_event_kind_in_the_app_has_a_sentence():
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("app").rglob("*.py"))
    kinds = set(re.findall(r'(?:record|event_row)\(\s*"(\w+)",\s*"(\w+)"', source))
    assert len(kinds) > 30
    assert {(t, a) for a, t in kinds} - SENTENCES.keys() == set()


def test_every_field_the_app_audits_has_a_label():
    """The trail shows each changed field under its label (app/audit/words.py FIELDS), never its code: the
    keys of every before/after written in a record() call and of every snapshot function that feeds one."""
    from app.audit.words import FIELDS
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("app").rglob("*.py"))
    keys = set()
    for found in re.finditer(r"(?:before|after)=\{([^}]*)\}", source):
        keys |= set(re.findall(r'"(\w+)":', found.group(1)))
    for found in re.finditer(r"def _?\w*snapshot\w*\([^)]*\)[^:]*:\s*\n(.*?)\n\n", source, re.S):
        keys |= set(re.findall(r'"(\w+)":', found.group(1)))
    assert {"held_on", "people_helped", "head_name", "founded_on", "households"} <= keys  # the scan finds them
    assert keys - FIELDS.keys() == set()


def test_record_type_filter_finds_month_closings(client, tree, login_as, db):
    from app.audit.models import record
    record("close_month", "month_closure", 1, tree.province.id, after={"month": "2024-09"})
    db.session.commit()
    login_as("province", tree.province)
    html = client.get("/audit/?record_type=month_closure").get_data(as_text=True)
    assert "Đã khóa sổ tháng 09/2024" in html


# --- First run ----------------------------------------------------------------------------------

def test_first_run_checklist_guides_an_admin_until_every_step_is_done(client, db, login_as):
    from decimal import Decimal

    from app.catalogue.operations import set_target
    from app.visits.models import Service
    province = units.create_unit("Tỉnh Hậu Giang", "province", None, "93")
    db.session.commit()
    login_as("admin", province)
    html = client.get(f"/units/{province.id}").get_data(as_text=True)
    assert 'id="first-run"' in html
    assert "flask units import-gso --province 93" in html
    assert 'href="/services/"' in html and 'href="/users/"' in html
    assert html.count('class="todo"') == 3
    # Since the 2025 reform there are no district officers: the accounts to make are the communes' and the areas'.
    checklist = html[html.index('id="first-run"'):html.index("</section>", html.index('id="first-run"'))]
    assert "Tạo tài khoản cho cán bộ xã (và cán bộ cụm xã, nếu tỉnh có cụm xã)" in checklist
    assert "huyện" not in checklist
    district = units.create_unit("Thành phố Vị Thanh", "district", province, "930")
    commune = units.create_unit("Phường I", "commune", district, "31318")
    db.session.commit()
    html = client.get(f"/units/{province.id}").get_data(as_text=True)
    assert html.count('class="done"') == 1 and "flask units import-gso" not in html
    services = db.session.scalars(sa.select(Service).where(Service.active)).all()
    set_target(services[0], province.id, Decimal("0.8"), date(2025, 12, 31))
    create_user("can-bo-xa", "commune", commune, PASSWORD)
    db.session.commit()
    # One service's target of ten is not "the province's targets for each service".
    html = client.get(f"/units/{province.id}").get_data(as_text=True)
    assert 'id="first-run"' in html and parse(html).find(id="step-targets").classes() == {"todo"}
    for service in services[1:]:
        set_target(service, province.id, Decimal("0.5"), date(2026, 12, 31))
    db.session.commit()
    assert 'id="first-run"' not in client.get(f"/units/{province.id}").get_data(as_text=True)


def test_the_checklist_is_for_admins_and_province_staff_on_their_own_page(client, tree, login_as):
    login_as("district", tree.district)
    assert 'id="first-run"' not in client.get(f"/units/{tree.district.id}").get_data(as_text=True)


# --- Hostile input ------------------------------------------------------------------------------

def test_fuzz_account_forms(client, tree, login_as, db):
    """Hostile input into the account forms and buttons: never a 500, nothing written on a refusal,
    and what is stored is clean."""
    from hypothesis import example, given
    from hypothesis import strategies as st

    from tests.fuzz_strategies import FUZZ_FEW, assert_clean, count, form_data, name_text, nasty_text, url_id
    login_as("province", tree.province)
    target = _account(db, "muc-tieu", "commune", tree.commune)
    valid = {"username": st.from_regex(r"[a-z][a-z0-9.-]{3,20}", fullmatch=True), "full_name": name_text,
             "role": st.sampled_from(["district", "commune"]), "unit": st.just("own"),
             "account": st.just("own"), "action": st.sampled_from(["disable", "enable", "password"])}
    hostile = {"username": nasty_text, "full_name": nasty_text, "role": nasty_text, "unit": nasty_text,
               "account": url_id.map(str), "action": st.just("disable")}

    @FUZZ_FEW
    @given(data=form_data(valid, hostile))
    @example(data={"username": "ab\x00c", "full_name": "Lê\x00", "role": "admin", "unit": str(2**70),
                   "account": str(2**70), "action": "password"})
    def run(data):
        unit = {"district": tree.district.id, "commune": tree.commune.id}.get(data["role"], tree.commune.id)
        form = {"username": data["username"], "full_name": data["full_name"], "role": data["role"],
                "unit": unit if data["unit"] == "own" else data["unit"]}
        before = count(db, User)
        resp = client.post("/users/new", data=form)
        assert resp.status_code in (200, 400), resp.status_code
        if resp.status_code == 400:
            assert count(db, User) == before
        else:
            created = db.session.scalar(sa.select(User).order_by(User.id.desc()).limit(1))
            assert_clean(created.full_name)
            assert created.role in ("district", "commune") and created.must_change_password
        account = target.id if data["account"] == "own" else data["account"]
        resp = client.post(f"/users/{account}/{data['action']}")
        assert resp.status_code in (200, 303, 404), resp.status_code
        resp = post_opened(client, f"/users/{account}/unit", {"bind-unit": data["unit"]}, f"/users/{account}")
        assert resp.status_code in (303, 400, 404), resp.status_code
        if resp.status_code == 400:
            assert db.session.get(User, target.id).unit_id == tree.commune.id

    run()
