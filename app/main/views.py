"""Home page and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_required

from app.extensions import db

bp = Blueprint("main", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths, so a crafted link cannot send the user elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return fallback


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
