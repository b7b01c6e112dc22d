"""Every redirect built from the request stays on this site and never fails, whatever the value."""
import string
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.cli import create_user
from app.main.views import safe_next
from tests.conftest import PASSWORD

HOSTILE = [
    "https://evil.example/x", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/%2F%2Fevil.example", "/%2f/evil.example", "/%5Cevil.example", "/%255C%255Cevil.example",
    "/%0d%0aSet-Cookie:%20x=1", "/%0D%0ALocation:%20https://evil.example", "/\r\nSet-Cookie: x=1",
    "/units/1\nX: y", "/%00", "/\x00", "/%2500", "/\t/evil.example", "/%09/evil.example",
    "/\u2028evil", "/\u200b/evil.example", "javascript:alert(1)", "/%252F%252Fevil.example",
    "/" + "%25" * 10 + "0a", "http:/evil.example", "evil.example", "", " /units", "/" + "a" * 5000,
]
FALLBACK = "/fallback"


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_values_give_the_fallback(target):
    assert safe_next(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize("target,expected", [
    ("/units/5", "/units/5"), ("/households/?q=nguyen&page=2", "/households/?q=nguyen&page=2"),
    ("/households/?q=Nguy%E1%BB%85n", "/households/?q=Nguy%E1%BB%85n"),
    ("/households/?q=nguyễn", "/households/?q=nguy%E1%BB%85n"),  # header-safe, same page
    ("/reports/5/monthly?month=2026-10#trend", "/reports/5/monthly?month=2026-10#trend"),
])
def test_paths_on_this_site_are_kept(target, expected):
    assert safe_next(target, FALLBACK) == expected


def test_the_bounds_of_a_next_value_are_where_they_are_said_to_be():
    """A link back of up to 2,000 characters is kept, one longer is not; a path percent-encoded up to three
    times over (a link back carried through other links) is kept, four times over is not."""
    kept = "/households/?q=" + "a" * (2000 - len("/households/?q="))
    assert safe_next(kept, FALLBACK) == kept and safe_next(kept + "a", FALLBACK) == FALLBACK
    from urllib.parse import quote
    path = "/households/?q=Nguyễn"
    layers = [path]
    for _ in range(4):
        layers.append(quote(layers[-1], safe="/?="))
    assert [safe_next(layer, FALLBACK) != FALLBACK for layer in layers] == [True, True, True, True, False]


def _on_this_site(location: str) -> bool:
    parts = urlsplit(location)
    return (parts.netloc in ("", "localhost") and parts.path.startswith("/") and not parts.path.startswith("//")
            and location.isascii() and not any(ch in location for ch in "\r\n\x00\t\\"))


def test_sign_in_with_a_hostile_next_goes_home_instead_of_failing(app, tree, db):
    from app.extensions import limiter
    create_user("xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    for target in HOSTILE:
        limiter.reset()  # the per-account limit is not what this test is about
        resp = app.test_client().post("/auth/login", query_string={"next": target},
                                      data={"username": "xa", "password": PASSWORD})
        assert (resp.status_code, resp.headers["Location"]) == (302, "/"), target


def test_sign_in_with_a_raw_line_break_in_the_query_string_is_not_a_500(client, tree, db):
    create_user("xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    resp = client.post("/auth/login?next=/%0d%0aSet-Cookie:%20a=1",
                       data={"username": "xa", "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "a=1" not in resp.headers.get("Set-Cookie", "")


def test_sign_in_still_returns_to_the_page_asked_for(client, tree, db):
    create_user("xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    resp = client.post("/auth/login", query_string={"next": f"/units/{tree.hamlet.id}?tab=2"},
                       data={"username": "xa", "password": PASSWORD})
    assert resp.headers["Location"] == f"/units/{tree.hamlet.id}?tab=2"


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_with_a_hostile_next_goes_home(client, target):
    resp = client.post("/language", data={"lang": "en", "next": target})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_the_language_form_of_a_page_whose_path_holds_a_line_break_switches_without_error(client):
    """The form's `next` is the page's own path, decoded: a 404 for /x%0d%0a offers '/x\\r\\n?'."""
    page = client.get("/nowhere%0d%0aX:%20y")
    assert page.status_code == 404
    resp = client.post("/language", data={"lang": "en", "next": "/nowhere\r\nX: y?"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_htmx_sign_in_redirect_does_not_carry_a_hostile_current_url(client):
    resp = client.get("/households/", headers={"HX-Request": "true",
                                               "HX-Current-URL": "http://localhost/%0d%0a/evil.example"})
    assert resp.status_code == 401 and resp.headers["HX-Redirect"] == "/auth/login"


_URLISH = st.lists(st.sampled_from(list(string.printable) + ["%0a", "%0d", "%00", "%2f", "%5c", "%25", "%09",
                                                             "\u2028", "\u200b", "ễ", "／", "＼"]),
                   max_size=40).map("".join)


@given(target=st.one_of(_URLISH, _URLISH.map(lambda s: "/" + s), st.text(max_size=40)))
@settings(max_examples=400, deadline=None, database=None, derandomize=True)
def test_whatever_comes_in_what_goes_out_is_a_path_on_this_site(target):
    out = safe_next(target, FALLBACK)
    assert out == FALLBACK or _on_this_site(out)


@given(target=st.one_of(_URLISH.map(lambda s: "/" + s), st.sampled_from(HOSTILE)))
@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_language_switch_never_fails_and_never_leaves_the_site(app, target):
    resp = app.test_client().post("/language", data={"lang": "vi", "next": target})
    assert resp.status_code == 302 and _on_this_site(resp.headers["Location"])
