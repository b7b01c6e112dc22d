"""What the benches ask for, as a browser does, and how they read what comes back.

A phone's Chromium (123 and later) and Firefox (126 and later) send `Accept-Encoding: gzip, deflate, br,
zstd`, and the app answers them in zstd; Safari sends no zstd and gets gzip. The benches ask as Chromium
does unless `BENCH_ACCEPT_ENCODING` says otherwise (`BENCH_ACCEPT_ENCODING=gzip` times the pages as the
rounds before 5 Dec 2026 did: gzip level 6 for every page).
"""
import gzip
import os

import pyzstd

ACCEPT_ENCODING = os.environ.get("BENCH_ACCEPT_ENCODING", "gzip, deflate, br, zstd")


def decoded(body: bytes, content_encoding: str | None) -> bytes:
    if content_encoding == "zstd":
        return pyzstd.decompress(body)
    if content_encoding == "gzip":
        return gzip.decompress(body)
    return body
