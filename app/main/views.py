"""Home page, the language switch and the service worker."""
import os
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.urls import iri_to_uri

from app.extensions import db

bp = Blueprint("main", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go back to: a path on this site, else the fallback; every redirect built from the
    request (`next`, a form field, a header) goes through here.

    Refused: a scheme or host, a start with `//` or `/\\` (browsers read both as another host),
    backslashes, and control characters (CR/LF would split the Location header, a tab is dropped by
    browsers and can join `/` and `/` into `//`), including percent-encoded ones. Letters beyond
    ASCII are percent-encoded, as a header must be Latin-1.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_NEXT:
        return fallback
    layer = target
    for _ in range(MAX_DECODING):
        if layer[:2] in ("//", "/\\") or any(_forbidden(ch) for ch in layer):
            return fallback
        decoded = unquote(layer)
        if decoded == layer:
            break
        layer = decoded
    else:
        return fallback  # encoded more deeply than any link of ours
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return iri_to_uri(target)


MAX_NEXT = 2000
MAX_DECODING = 4


def _forbidden(ch: str) -> bool:
    return ch == "\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


@bp.get("/sw.js")
def service_worker():
    """The service worker (app/static/js/sw.js), served from the site root so its scope covers the
    visit form. Its cache is named after the static files it keeps: a release that changes one
    changes this script, and the browser then installs it afresh and drops the old cache."""
    from flask import current_app

    from app.http_caching import static_version
    with open(os.path.join(current_app.static_folder, "js", "sw.js"), encoding="utf-8") as f:
        script = f.read()
    version = "-".join(static_version(current_app, name) or "" for name in SW_VERSIONED)
    response = current_app.response_class(script.replace("__VERSION__", version),
                                          mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


SW_VERSIONED = ("js/sw.js", "js/offline.js", "js/htmx-feedback.js", "css/app.css", "vendor/htmx/htmx.min.js")


@bp.get("/")
@login_required
def index():
    if current_user.role in ("team_leader", "team_member") and current_user.team_id is not None:
        return redirect(url_for("visits.new"))  # the field users' home screen
    return redirect(url_for("units.show", unit_id=current_user.unit_id))


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in ("vi", "en"):
        session["locale"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))
