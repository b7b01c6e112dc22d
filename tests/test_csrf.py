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


def test_token_from_the_page_is_accepted_in_form_and_header(csrf_app, db, tree):
    from app.auth.cli import create_user
    create_user("xa-csrf", "commune", tree.commune, "mat-khau-thu-nghiem")
    db.session.commit()
    client = csrf_app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post("/auth/login", data={"username": "xa-csrf", "password": "mat-khau-thu-nghiem",
                                            "csrf_token": token})
    assert resp.status_code == 302
    page = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Có Token"},
                       headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert resp.status_code == 302
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Không Token"})
    assert resp.status_code == 400 and "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True)
