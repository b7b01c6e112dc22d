"""What a phone on weak data downloads again: static files once per release, every page compressed.

Static URLs carry a digest of the file (`?v=…`), so a file served under its current digest can be
cached for a year without revalidation; a new release changes the URL. Error pages and forms
re-rendered with errors are compressed like any other page (Flask-Compress skips non-2xx replies).
"""
import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app, request, url_for

from app.extensions import compress

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """The digest of a static file's content, or None if there is no such file."""
    path = os.path.join(app.static_folder, filename)
    try:
        return _digest(path, os.stat(path).st_mtime_ns)
    except (OSError, ValueError):
        return None


@lru_cache(maxsize=256)
def _fixed_url(root: str, endpoint: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))


def fixed_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) for a link every page carries and that nothing of the request but
    the address root changes (base.html's stylesheet, scripts and forms): kept per worker by root.

    Fast path: each url_for is ~45 µs of routing and, for a static file, a stat of the file for its
    digest; a page has eight. A release restarts the workers (README, "Upgrading"), so a file's digest
    cannot change under them; the development server (debug) builds each one, so an edited file shows.
    tests/test_http_caching.py holds it to url_for."""
    if current_app.debug:
        return url_for(endpoint, **values)
    return _fixed_url(request.script_root, endpoint, tuple(sorted(values.items())))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["fixed_url"] = fixed_url

    @app.url_defaults
    def _versioned_static(endpoint, values):
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.before_request
    def _conditional_static():
        # Flask-Compress marks the ETag it compressed (`"abc:gzip"`); the browser sends that back, which
        # would never match the file's own ETag, so every revalidation got the whole file again.
        if request.endpoint == "static":
            tag = request.environ.get("HTTP_IF_NONE_MATCH")
            if tag and ":gzip\"" in tag:
                request.environ["HTTP_IF_NONE_MATCH"] = tag.replace(":gzip\"", "\"")

    @app.after_request
    def _cache_static(response):
        if request.endpoint == "static" and response.status_code == 200:
            wanted = request.args.get("v")
            filename = (request.view_args or {}).get("filename", "")
            if wanted and wanted == static_version(app, filename):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response

    @app.after_request
    def _compress_errors(response):
        # Registered after Flask-Compress, so it runs before it; Flask-Compress then sees the body
        # already encoded and leaves it.
        if response.status_code >= 400 and "Content-Encoding" not in response.headers:
            status = response.status
            response.status_code = 200
            response = compress.after_request(response)
            response.status = status
        return response
