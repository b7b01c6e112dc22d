"""The signed-in menu rendered once per worker for each role, unit, language and address root, instead
of on every page (templates/_nav.html is the plain way): its links are the same for everyone who
shares those four."""
from functools import lru_cache

from flask import render_template, request
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup


@lru_cache(maxsize=1024)
def _rendered(role: str, unit_id: int | None, locale: str, root: str, more: bool) -> Markup:
    # Rendered for the signed-in user, whose role, unit and language are the key.
    return Markup(render_template("_nav.html", more=more))


@pass_context
def menu(context, more: bool = False) -> Markup:
    """The menu's links (`more`: the "More" list) for the signed-in user, in the page's language (the
    locale the context processor put in the template's context: app/templating.py)."""
    return _rendered(current_user.role, current_user.unit_id, context["_locale_id"], request.script_root, more)
