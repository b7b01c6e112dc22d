"""The page's chrome kept per worker instead of rendered on every page: the signed-in menu for each role,
unit, language and address root (templates/_nav.html is the plain way: its links are the same for
everyone who shares those four), and the header and footer around every page (templates/_header.html,
templates/_footer.html), rendered once for what they show and given the request's own values, its CSRF
token and its address, in place of two markers.

Fast path: the header and footer cost ~83 µs of a page's render; kept, ~20 µs (the base page 156 -> 99 µs,
bench/README.md, round 23). tests/test_templating.py holds the menu, the header and the footer to their
templates rendered the plain way: several roles and units, both languages, a refused form (no address to
come back to), the sign-in page, a new name of the user and of its unit."""
import secrets
from functools import lru_cache

from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import Markup, escape


@lru_cache(maxsize=1024)
def _rendered(role: str, unit_id: int | None, locale: str, root: str, more: bool) -> Markup:
    # Rendered for the signed-in user, whose role, unit and language are the key.
    return Markup(render_template("_nav.html", more=more))


@pass_context
def menu(context, more: bool = False) -> Markup:
    """The menu's links (`more`: the "More" list) for the signed-in user, in the page's language (the
    locale the context processor put in the template's context: app/templating.py)."""
    return _rendered(current_user.role, current_user.unit_id, context["_locale_id"], request.script_root, more)


# Stand-ins for the request's CSRF token and address while the chrome is rendered to be kept: random at
# each start of the app, and never sent (always replaced), so no text a user typed (a name in the footer)
# can hold one.
_CSRF, _NEXT = f"csrf-{secrets.token_hex(12)}", f"next-{secrets.token_hex(12)}"


def came_from() -> str:
    """The address the language form sends the user back to: this page's, when it was asked for with GET."""
    return request.full_path if request.method == "GET" else ""


@lru_cache(maxsize=1024)
def _header(signed_in: bool, role: str | None, unit_id: int | None, locale: str, root: str) -> str:
    # The key is everything _header.html shows: the menu's own key, whether anyone is signed in.
    return render_template("_header.html", csrf=_CSRF, came_from=_NEXT).strip()


@lru_cache(maxsize=4096)
def _footer(full_name: str, username: str, role: str, unit_name: str | None, locale: str, root: str) -> str:
    return render_template("_footer.html", csrf=_CSRF).strip()


@pass_context
def page_header(context) -> Markup:
    """templates/_header.html for this request: the brand, the menu, the language form."""
    user = current_user._get_current_object()
    signed_in = user.is_authenticated
    kept = _header(signed_in, user.role if signed_in else None, user.unit_id if signed_in else None,
                   context["_locale_id"], request.script_root)
    return Markup(kept.replace(_CSRF, generate_csrf()).replace(_NEXT, escape(came_from())))


@pass_context
def page_footer(context) -> Markup:
    """templates/_footer.html for the signed-in user (nothing for anyone else)."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return Markup("")
    unit = user.unit
    kept = _footer(user.full_name, user.username, user.role, unit.name if unit is not None else None,
                   context["_locale_id"], request.script_root)
    return Markup(kept.replace(_CSRF, generate_csrf()))
