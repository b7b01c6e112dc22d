"""File downloads: a safe ASCII name from what the user's data says, sent through Werkzeug's send_file.

A unit's code or name comes from an import or a form and may hold quotes, semicolons, line breaks or
letters a header cannot carry; none of it may reach the Content-Disposition header as it is.
"""
import io
import re

from flask import send_file

from app.text import fold

SLUG_MAX = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(value: str | None) -> str:
    """'Phường I (Vị Thanh)' -> 'phuong-i-vi-thanh': ASCII letters and digits joined by hyphens."""
    return _NOT_SLUG.sub("-", fold(value or "")).strip("-")[:SLUG_MAX].strip("-")


def file_name(*parts: str | None, ext: str, fallback: str = "tai-ve") -> str:
    """Slugs of the parts that have one, joined: file_name('bao-cao', '93', '2026-11', ext='xlsx')."""
    words = [s for s in (slug(p) for p in parts) if s]
    return f"{'-'.join(words) or fallback}.{ext}"


def unit_slug(unit) -> str:
    """The unit's code, else its name, else its id: something recognisable and always safe."""
    return slug(unit.code) or slug(unit.name) or f"don-vi-{unit.id}"


def send_download(body: bytes | str, name: str, mimetype: str):
    """An attachment response; the name goes through send_file, which writes RFC 6266/5987 parameters."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name,
                         etag=False)
    # Reports and personal data stay out of every cache (send_file would allow a revalidated copy).
    response.headers["Cache-Control"] = "no-store"
    return response
