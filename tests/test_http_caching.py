"""Static files are fetched once per release; every reply, errors included, travels compressed."""
import gzip
import os
import re
from pathlib import Path

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


def test_error_pages_are_compressed(client):
    resp = client.get("/no-such-page", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 404
    assert resp.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(resp.get_data()).decode()
    assert "<html" in body and "Không tìm thấy" in body


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
