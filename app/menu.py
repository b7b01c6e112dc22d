"""The signed-in menu rendered once per worker for each role, unit, language and address root, instead
of on every page (templates/_nav.html is the plain way): its links are the same for everyone who
shares those four."""
from functools import lru_cache

from flask import render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup


@lru_cache(maxsize=1024)
def _rendered(role: str, unit_id: int | None, locale: str, root: str, more: bool) -> Markup:
    # Rendered for the signed-in user, whose role, unit and language are the key.
    return Markup(render_template("_nav.html", more=more))


def menu(more: bool = False) -> Markup:
    """The menu's links (`more`: the "More" list) for the signed-in user."""
    return _rendered(current_user.role, current_user.unit_id, str(get_locale() or "vi"), request.script_root,
                     more)
