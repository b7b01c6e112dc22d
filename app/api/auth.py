"""Bearer-token authentication for the JSON API: the token acts as its user, with their scope."""
from functools import wraps

from flask import g, jsonify, request
from flask_babel import gettext as _

from app.api.models import find_active_token
from app.extensions import db
from app.models_base import utcnow


def api_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        token = find_active_token(bearer_secret())
        if token is None or not token.user.is_active:
            return api_error(401, "unauthorized", _("A valid API token is required (Authorization: Bearer …)."))
        # Flask-Login's per-request user: app.scope sees the token's user, and no session cookie is set.
        g._login_user = token.user
        g.api_token = token
        token.last_used_at = utcnow()
        db.session.commit()
        return view(*args, **kwargs)
    return wrapped
