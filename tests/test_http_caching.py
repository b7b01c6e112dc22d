"""Static files are fetched once per release; every reply, errors included, travels compressed."""
import gzip
import re

from app.http_caching import static_version


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
