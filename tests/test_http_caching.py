"""Static files are fetched once per release; every reply, errors included, travels compressed."""
import gzip
import os
import re
from pathlib import Path

import pyzstd
from flask import url_for

from app.http_caching import fixed_url, static_version


def _static_url(client, name):
    page = client.get("/auth/login").get_data(as_text=True)
    match = re.search(rf'"(/static/{re.escape(name)}\?v=[0-9a-f]+)"', page)
    assert match, f"no versioned link to {name} in the page"
    return match.group(1)


def test_pages_link_static_files_under_their_content_digest(app, client):
    url = _static_url(client, "css/app.css")
    with app.app_context():
        assert url.endswith("?v=" + static_version(app, "css/app.css"))
    assert _static_url(client, "vendor/htmx/htmx.min.js")


def test_a_static_file_under_its_current_digest_is_cached_for_a_year(client):
    resp = client.get(_static_url(client, "css/app.css"))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    resp.close()


def test_a_stale_or_missing_digest_is_revalidated_not_cached(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert "immutable" not in resp.headers.get("Cache-Control", "")
        resp.close()


def test_revalidating_a_compressed_static_file_answers_304(client):
    first = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert first.headers["Content-Encoding"] == "gzip" and etag.endswith(':gzip"')
    first.close()
    again = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


# What Chromium (and Firefox, and Python's requests) send: every encoding at the same weight.
BROWSER = "gzip, deflate, br, zstd"


def test_revalidating_a_static_file_sent_as_zstd_answers_304(client):
    first = client.get("/static/css/app.css", headers={"Accept-Encoding": BROWSER})
    etag = first.headers["ETag"]
    assert first.headers["Content-Encoding"] == "zstd" and etag.endswith(':zstd"')
    first.close()
    again = client.get("/static/css/app.css", headers={"Accept-Encoding": BROWSER, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b"" and "Content-Encoding" not in again.headers
    # Another file's tag is not taken for this one's.
    other = client.get("/static/css/app.css", headers={"Accept-Encoding": BROWSER, "If-None-Match": '"abc:zstd"'})
    assert other.status_code == 200
    other.close()


def test_static_files_travel_at_their_encoding_s_highest_level(app, client):
    # A phone downloads htmx, the stylesheet and the offline script once per release: they are
    # compressed harder than pages are (smaller than zstd's level 3 and gzip's level 6), and whole.
    url = _static_url(client, "vendor/htmx/htmx.min.js")
    with open(os.path.join(app.static_folder, "vendor/htmx/htmx.min.js"), "rb") as f:
        original = f.read()
    for asked, encoding, decode, page_level in (
            (BROWSER, "zstd", pyzstd.decompress, lambda d: pyzstd.compress(d, 3)),
            ("gzip, deflate, br", "gzip", gzip.decompress, lambda d: gzip.compress(d, 6))):
        resp = client.get(url, headers={"Accept-Encoding": asked})
        body = resp.get_data()
        assert resp.headers["Content-Encoding"] == encoding
        assert int(resp.headers["Content-Length"]) == len(body)
        assert "Accept-Encoding" in resp.headers["Vary"]
        assert decode(body) == original
        assert len(body) < len(page_level(original))
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.get_data() == original
    plain.close()


def test_a_browser_that_takes_zstd_gets_the_same_page_in_zstd_and_one_that_does_not_gets_gzip(
        client, login_as, tree):
    login_as("commune", tree.commune)
    url = f"/coverage/{tree.commune.id}"
    as_browser = client.get(url, headers={"Accept-Encoding": BROWSER})
    as_safari = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert as_browser.headers["Content-Encoding"] == "zstd" and as_safari.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in as_browser.headers["Vary"]
    page = plain.get_data()
    assert len(as_browser.get_data()) < len(page) / 3
    # The CSRF token (in the header's forms and htmx's headers) is signed afresh by each request, to the
    # second; the rest is the same page.
    token = re.compile(rb'name="csrf_token"[^>]*? value="[^"]+"|"X-CSRFToken": "[^"]+"')
    same = [token.sub(b"", body) for body in (pyzstd.decompress(as_browser.get_data()),
                                              gzip.decompress(as_safari.get_data()), page)]
    assert same[0] == same[1] == same[2] and "Tỷ lệ".encode() in same[0]
    # A client that prefers gzip by weight gets gzip.
    weighted = client.get(url, headers={"Accept-Encoding": "zstd;q=0.5, gzip"})
    assert weighted.headers["Content-Encoding"] == "gzip"


def test_error_pages_are_compressed(client):
    resp = client.get("/no-such-page", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 404
    assert resp.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(resp.get_data()).decode()
    assert "<html" in body and "Không tìm thấy" in body
    as_browser = client.get("/no-such-page", headers={"Accept-Encoding": BROWSER})
    assert as_browser.status_code == 404 and as_browser.headers["Content-Encoding"] == "zstd"
    assert "Không tìm thấy" in pyzstd.decompress(as_browser.get_data()).decode()


def test_a_form_rerendered_with_errors_is_compressed(client, login_as, tree):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "", "hamlet-households": "12"},
                       headers={"Accept-Encoding": "gzip"})
    assert 400 <= resp.status_code < 500
    assert resp.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(resp.get_data()).decode()
    assert "12" in body and "Hãy nhập tên ấp" in body


BASE_LINKS = [("static", {"filename": "css/app.css"}), ("static", {"filename": "vendor/htmx/htmx.min.js"}),
              ("static", {"filename": "manifest.webmanifest"}), ("static", {"filename": "js/offline.js"}),
              ("main.index", {}), ("main.set_language", {}), ("auth.change_password", {}), ("auth.logout", {})]


def test_the_links_every_page_carries_are_url_for_s_under_each_address_root(app):
    # base.html's links through fixed_url (kept per worker): the same as url_for's, whichever address
    # root the app is served under, asked in turn so that one root's link never answers for another.
    for _ in range(2):
        for root in ("", "/cnscd", "/tinh/92"):
            with app.test_request_context("/", base_url=f"http://localhost{root}/"):
                for endpoint, values in BASE_LINKS:
                    url = fixed_url(endpoint, **values)
                    assert url == url_for(endpoint, **values) and url.startswith(f"{root}/"), (root, endpoint)


def test_a_page_served_under_a_root_links_its_files_there(client):
    page = client.get("/auth/login", base_url="http://localhost/cnscd/").get_data(as_text=True)
    assert re.search(r'href="/cnscd/static/css/app\.css\?v=[0-9a-f]{12}"', page)
    assert 'action="/cnscd/language"' in page


def test_the_development_server_links_a_static_file_under_its_new_digest_once_it_changes(app):
    path = Path(app.static_folder) / "test-fixed-url.txt"
    try:
        urls = {}
        for debug in (False, True):
            app.debug = debug
            path.write_text("first")
            with app.test_request_context("/"):
                first = fixed_url("static", filename=path.name)
            path.write_text("second, longer")
            os.utime(path, ns=(path.stat().st_mtime_ns + 1_000_000_000,) * 2)
            with app.test_request_context("/"):
                urls[debug] = (first, fixed_url("static", filename=path.name))
        # Served (not debug), the link is kept as the worker first made it: a release restarts it.
        assert urls[False][0] == urls[False][1]
        # The development server makes it anew: an edited file is fetched again.
        assert urls[True][0] != urls[True][1]
        with app.test_request_context("/"):
            assert urls[True][1].endswith("?v=" + static_version(app, path.name))
    finally:
        app.debug = False
        path.unlink(missing_ok=True)
