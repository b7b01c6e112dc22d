"""A blank visit form's services (nothing chosen, no error), rendered once per worker for each language
and list of services instead of on every form (templates/visits/_services.html is the plain way)."""
from functools import lru_cache
from typing import NamedTuple

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup


class _Shown(NamedTuple):
    """What the block shows of a service: its code and its name in the page's language."""
    code: str
    name: str


@lru_cache(maxsize=256)
def _rendered(language: str, services: tuple[_Shown, ...]) -> Markup:
    # The language is part of the key: render_template translates with the request's, the same one.
    return Markup(render_template("visits/_services.html", services=services, chosen={}, service_errors=[]))


def blank_services(services) -> Markup:
    """The services fieldset of a form with nothing chosen, in this order, in the request's language."""
    locale = get_locale()
    language = locale.language if locale is not None else "vi"
    return _rendered(language, tuple(_Shown(s.code, s.name_in(language)) for s in services))
