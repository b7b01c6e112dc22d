"""What a phone on weak data downloads again: static files once per release, every page compressed.

Static URLs carry a digest of the file (`?v=…`), so a file served under its current digest can be
cached for a year without revalidation; a new release changes the URL. Error pages and forms
re-rendered with errors are compressed like any other page (Flask-Compress skips non-2xx replies).
"""
import gzip
import hashlib
import os
import re
from functools import lru_cache

import pyzstd
from flask import Flask, current_app, request, url_for
from flask_compress.flask_compress import _choose_algorithm

from app.extensions import compress

YEAR = 365 * 24 * 3600
# The mark Flask-Compress puts at the end of an ETag it compressed: `:gzip"`, `:zstd"`.
_ENCODED_TAG = re.compile(r':(?:gzip|zstd|br|deflate)"')


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


def choose_encoding(accept_encoding: str) -> str | None:
    """The encoding Flask-Compress would choose for this Accept-Encoding (zstd, gzip or None)."""
    return _choose_algorithm(tuple(current_app.config["COMPRESS_ALGORITHM"]), accept_encoding)


@lru_cache(maxsize=64)
def _compressed_file(path: str, version: str, algorithm: str) -> bytes:
    """A static file at the highest level its encoding has: zstd 19 writes htmx.min.js in 16.2 KB
    where zstd 3 (the pages' level) takes 17.9 and gzip 6 16.9; it costs ~30 ms, once per worker."""
    with open(path, "rb") as f:
        data = f.read()
    if algorithm == "zstd":
        return pyzstd.compress(data, 19)
    return gzip.compress(data, 9, mtime=0)


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
        # Flask-Compress marks the ETag it compressed (`"abc:gzip"`, `"abc:zstd"`); the browser sends that
        # back, which would never match the file's own ETag, so every revalidation got the whole file again.
        if request.endpoint == "static":
            tag = request.environ.get("HTTP_IF_NONE_MATCH")
            if tag and ":" in tag:
                request.environ["HTTP_IF_NONE_MATCH"] = _ENCODED_TAG.sub('"', tag)

    @app.after_request
    def _cache_static(response):
        if request.endpoint == "static" and response.status_code == 200:
            wanted = request.args.get("v")
            filename = (request.view_args or {}).get("filename", "")
            if wanted and wanted == static_version(app, filename):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response

    @app.after_request
    def _compress_static(response):
        # Registered after Flask-Compress, so it runs before it: a static file is compressed here, at
        # the highest level, once per worker and file (a release changes the file's digest and
        # restarts the workers); Flask-Compress then sees it encoded and leaves it.
        if request.endpoint != "static" or response.status_code != 200 or "Content-Encoding" in response.headers:
            return response
        algorithm = choose_encoding(request.headers.get("Accept-Encoding", ""))
        filename = (request.view_args or {}).get("filename", "")
        version = static_version(app, filename)
        if algorithm is None or version is None or response.mimetype not in app.config["COMPRESS_MIMETYPES"]:
            return response
        response.direct_passthrough = False
        response.set_data(_compressed_file(os.path.join(app.static_folder, filename), version, algorithm))
        response.headers["Content-Encoding"] = algorithm
        response.headers["Content-Length"] = str(response.content_length)
        response.vary.add("Accept-Encoding")
        etag = response.headers.get("ETag")
        if etag:  # as Flask-Compress marks it, so the revalidation above matches it
            response.headers["ETag"] = f'{etag[:-1]}:{algorithm}"'
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
