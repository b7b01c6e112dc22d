"""The one sign-in guard for blueprints: every route of a blueprint asks for a signed-in user."""
from collections.abc import Callable

from flask import Blueprint, abort
from flask_login import current_user, login_required


def require_sign_in(bp: Blueprint, allow: Callable[..., bool] | None = None) -> None:
    """Send anonymous visitors of any of the blueprint's routes to the sign-in page; with `allow`,
    a rule about the user alone (`allow(user)`), answer 403 to signed-in users it refuses."""
    @login_required
    def signed_in():
        if allow is not None and not allow(current_user):
            abort(403)
    bp.before_request(signed_in)
