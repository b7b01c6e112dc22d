"""A blank visit form's fixed parts, rendered once per worker instead of on every form: its services
(nothing chosen, no error) for each language and list of services (templates/visits/_services.html is
the plain way), and a new visit's empty, folded fields for a new household for each language and list of
the team's hamlets (templates/visits/_new_household.html)."""
from functools import lru_cache
from typing import NamedTuple

from flask import render_template
from markupsafe import Markup

from app.visits.models import page_language


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
    language = page_language()
    return _rendered(language, tuple(_Shown(s.code, s.name_in(language)) for s in services))


# (language, the hamlets' (id, name) pairs) -> the fields, rendered from the first form that asked.
_HOUSEHOLD_FIELDS: dict[tuple, Markup] = {}


def blank_household(form, hamlets) -> Markup:
    """The fields for a new household of a new visit's form that opens with them empty and folded, in the
    request's language, for the team's hamlets (`hamlets`: those the form offers, with `id` and `name`).
    `form` is the request's form, whose household fields are empty: a first request renders from it."""
    key = (page_language(), tuple((h.id, h.name) for h in hamlets))
    found = _HOUSEHOLD_FIELDS.get(key)
    if found is None:
        if len(_HOUSEHOLD_FIELDS) >= 1024:  # a bound: a province's teams and both languages fit
            _HOUSEHOLD_FIELDS.clear()
        found = _HOUSEHOLD_FIELDS[key] = Markup(render_template(
            "visits/_new_household.html", form=form, visit=None, hamlets=hamlets, open_new=False))
    return found
