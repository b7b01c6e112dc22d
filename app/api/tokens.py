"""The API token page: province staff create tokens (shown once) and revoke them."""
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.api.forms import TokenForm
from app.api.models import ApiToken, issue_token
from app.audit.models import record
from app.auth.guard import require_sign_in
from app.auth.models import User
from app.extensions import db
from app.models_base import utcnow
from app.scope import found_or_abort, in_scope, roles_required

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")
require_sign_in(bp)
NEW_TOKEN_KEY = "new_api_token"


def tokens_query() -> sa.Select:
    """Tokens whose user lies in the signed-in user's scope."""
    return sa.select(ApiToken).join(User, User.id == ApiToken.user_id).where(in_scope(User.unit_id))


def _render(form: TokenForm, status: int = 200):
    tokens = db.session.scalars(tokens_query().order_by(ApiToken.revoked_at.isnot(None),
                                                        ApiToken.created_at.desc())).all()
    # Shown once, right after creation; the session copy is dropped as soon as it is displayed.
    secret = session.pop(NEW_TOKEN_KEY, None) if status == 200 else None
    return render_template("api/tokens.html", form=form, tokens=tokens, secret=secret), status


@bp.get("/")
@roles_required("province", "admin")
def index():
    return _render(TokenForm(prefix="token"))


@bp.post("/")
@roles_required("province", "admin")
def create():
    form = TokenForm(prefix="token")
    if not form.validate_on_submit():
        return _render(form, 400)
    token, secret = issue_token(current_user, label=form.label.data, created_by=current_user)
    db.session.flush()
    record("create", "api_token", token.id, current_user.unit_id, after={"label": token.label})
    db.session.commit()
    session[NEW_TOKEN_KEY] = secret
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return redirect(url_for("api_tokens.index"))


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@roles_required("province", "admin")
def revoke(token_id: int):
    """Asked, then done: a dashboard reading with the token stops, and a revoked token is never valid again."""
    token = found_or_abort(db.session.scalar(tokens_query().where(ApiToken.id == token_id)))
    if request.method == "GET":
        if token.revoked_at is not None:
            return redirect(url_for("api_tokens.index"))
        return render_template("api/revoke.html", token=token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("revoke", "api_token", token.id, token.user.unit_id, before={"active": True}, after={"active": False})
        db.session.commit()
        flash(_("Token revoked. Clients using it are refused from now on."), "success")
    return redirect(url_for("api_tokens.index"))
