"""CSRF: every state-changing route refuses a request without the form's token, htmx ones too."""
import re

import pytest

from app import create_app

# Bearer-token endpoints carry no cookies, so CSRF does not apply to them.
CSRF_EXEMPT_PREFIXES = ("/api/",)


@pytest.fixture(scope="module")
def csrf_app(app):
    strict = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": True})
    return strict


def state_changing_rules(flask_app):
    for rule in flask_app.url_map.iter_rules():
        methods = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if methods and not rule.rule.startswith(CSRF_EXEMPT_PREFIXES):
            yield rule, sorted(methods)


def concrete(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule)


def test_every_post_without_token_is_refused(csrf_app, tree):
    client = csrf_app.test_client()
    rules = list(state_changing_rules(csrf_app))
    assert len(rules) >= 8
    for rule, methods in rules:
        for method in methods:
            resp = client.open(concrete(rule), method=method, data={"x": "1"})
            assert resp.status_code == 400, (rule.rule, method, resp.status_code)
            resp = client.open(concrete(rule), method=method, data={"x": "1"}, headers={"HX-Request": "true"})
            assert resp.status_code == 400, (rule.rule, method, "htmx")


def _signed_in_with_the_pages_token(csrf_app, db, username, role, unit):
    """A browser signed in through the sign-in form, sending the token its page gave."""
    from app.auth.cli import create_user
    create_user(username, role, unit, "mat-khau-thu-nghiem")
    db.session.commit()
    client = csrf_app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post("/auth/login", data={"username": username, "password": "mat-khau-thu-nghiem",
                                            "csrf_token": token})
    assert resp.status_code == 302
    return client


def test_token_from_the_page_is_accepted_in_form_and_header(csrf_app, db, tree):
    client = _signed_in_with_the_pages_token(csrf_app, db, "xa-csrf", "commune", tree.commune)
    page = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Có Token"},
                       headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert resp.status_code == 302
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Không Token"})
    assert resp.status_code == 400 and "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True)


def signed_in(flask_app, username):
    """A client of the strict app signed in the way a browser does: with the login page's token."""
    client = flask_app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post("/auth/login", data={"username": username, "password": "mat-khau-thu-nghiem",
                                            "csrf_token": token})
    assert resp.status_code == 302
    return client


def test_button_only_posts_without_the_token_are_refused_for_a_user_allowed_to_press_them(csrf_app, db, tree):
    """The buttons carry only the page's token and their views check nothing themselves: the global
    protection alone refuses them, even to an administrator who may press every one."""
    from datetime import date

    import sqlalchemy as sa

    from app.api.models import ApiToken, issue_token
    from app.auth.cli import create_user
    from app.teams.models import Membership
    from app.visits.models import Service, Visit
    from app.visits.operations import VisitData, create_visit
    from tests.visits_helpers import household, make_team, service_id

    admin = create_user("admin-csrf", "admin", tree.province, "mat-khau-thu-nghiem")
    team, members = make_team(tree.commune, [tree.hamlet])
    team.dissolved_on = date(2024, 6, 1)
    members[1].phone = "0912345678"
    token, _secret = issue_token(admin, "trung tâm")
    db.session.commit()
    visit_id = create_visit(VisitData(household=household(tree.hamlet), visited_on=date(2024, 4, 2),
                                      results={service_id("dvc"): "guided"}, member_ids=[members[0].id]),
                            "a" * 32, team.id, user=admin)
    service = db.session.scalar(sa.select(Service).where(Service.active.is_(True))
                                .order_by(Service.position.desc()).limit(1))
    db.session.commit()
    client = signed_in(csrf_app, "admin-csrf")
    buttons = [f"/teams/{team.id}/reactivate", f"/teams/members/{members[1].id}/leader",
               f"/teams/members/{members[1].id}/account", f"/api-tokens/{token.id}/revoke",
               f"/services/{service.id}/move", f"/visits/{visit_id}/delete"]
    for url in buttons:
        resp = client.post(url, data={"direction": "up"})
        assert resp.status_code == 400 and "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True), url
    db.session.expire_all()
    assert db.session.get(type(team), team.id).dissolved_on == date(2024, 6, 1)
    assert db.session.scalar(sa.select(Membership.role).where(Membership.member_id == members[1].id)) == "member"
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert db.session.get(Visit, visit_id) is not None


def test_the_report_period_forms_are_read_from_the_address_without_a_token(csrf_app, db, tree):
    """Choosing a month or a quarter is a GET: its address is a link to share, and it carries no token."""
    client = _signed_in_with_the_pages_token(csrf_app, db, "tinh-csrf", "province", tree.province)
    for path, shown in ((f"/reports/{tree.province.id}/monthly?month=2024-10", "10/2024"),
                        (f"/reports/{tree.province.id}/quarterly?quarter=2024-Q4", "2024")):
        resp = client.get(path)
        assert resp.status_code == 200 and shown in resp.get_data(as_text=True), path
