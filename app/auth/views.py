"""Sign in, sign out, change password."""
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_url, login_user, logout_user

from app.auth.forms import ChangePasswordForm, LoginForm
from app.auth.models import User
from app.auth.usernames import normalise_username
from app.extensions import db, limiter, login_manager
from app.main.views import safe_next
from app.models_base import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")

# A one-time password just typed at sign-in is not asked for again on the forced change, for this
# long and in this session only; after that (or in another session) the form asks for it.
ONE_TIME_GRACE_SECONDS = 10 * 60
_ONE_TIME_MARK = "one_time_password_verified"


def _one_time_password_just_verified() -> bool:
    """Whether this session signed in with the one-time password moments ago, for this very account
    (its id carries the session token, so a changed password or a sign-out elsewhere voids it)."""
    mark = session.get(_ONE_TIME_MARK)
    if not current_user.must_change_password or not isinstance(mark, dict):
        return False
    at = mark.get("at")
    return (mark.get("id") == current_user.get_id() and isinstance(at, (int, float))
            and 0 <= time.time() - at <= ONE_TIME_GRACE_SECONDS)


def _login_username_key() -> str:
    # The whole value is normalised before it is cut: padding with invisible characters would
    # otherwise give each attempt a key of its own while still signing in to the same account.
    return "user:" + normalise_username(request.form.get("username"))[:64]


@login_manager.unauthorized_handler
def _unauthorized():
    """Send the visitor to sign in. An htmx request (a search box after the session expired) would
    otherwise follow the redirect and swap the sign-in page into the results: the whole page goes
    to the sign-in page instead, and comes back to where the user was."""
    flash(str(login_manager.login_message), login_manager.login_message_category)
    if request.headers.get("HX-Request") == "true":
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = safe_next(page.path + (f"?{page.query}" if page.query else ""), "")
        return _whole_page_to(url_for("auth.login", next=back or None), 401)
    return redirect(login_url(login_manager.login_view, request.url))


def _whole_page_to(url: str, status: int):
    response = current_app.response_class(status=status)
    response.headers["HX-Redirect"] = url
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_login_username_key,
               methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).where(User.username == form.username.data))
        if user is not None and user.is_enabled and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            if user.must_change_password:
                session[_ONE_TIME_MARK] = {"id": user.get_id(), "at": time.time()}
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
        # For the operator: whose account is being guessed and from where; never the password.
        current_app.logger.warning("sign-in failed for %r from %s", form.username.data.lower()[:64],
                                   request.remote_addr)
        form.password.errors.append(_("Wrong username or password."))
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Ends this account's sessions everywhere, so a cookie copied before signing out is worthless.
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    verified = _one_time_password_just_verified()
    if verified:
        del form.current  # typed at sign-in a moment ago, in this session
    status = 200
    if form.validate_on_submit():
        if not verified and not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
            status = 400
        elif current_user.check_password(form.new.data):
            form.new.errors.append(_("Choose a password different from the current one."))
            status = 400
        else:
            current_user.set_password(form.new.data)  # signs out the account's other sessions
            current_user.must_change_password = False
            session.pop(_ONE_TIME_MARK, None)
            db.session.commit()
            login_user(current_user._get_current_object())  # this one carries the new token
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status


@bp.before_app_request
def _force_password_change():
    """A one-time password must be replaced before anything else is opened."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("auth.change_password", "auth.logout", "static",
                                         "main.set_language")):
        if request.headers.get("HX-Request") == "true":
            return _whole_page_to(url_for("auth.change_password"), 403)
        return redirect(url_for("auth.change_password"))
