"""A save refused because another was made at the same moment: the form comes back as typed, checked against
what is there now, or at least what was typed is shown, so nothing typed is lost."""
from contextlib import contextmanager
from datetime import date
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.fragments import render_page, wants_fragment
from app.templating import locale_date, locale_number

# Fields that hold nothing a person typed, or nothing to show again.
_NOT_TYPED = {"CSRFTokenField", "HiddenField", "PasswordField", "SubmitField", "FileField", "MultipleFileField"}


class _WouldSave(Exception):
    """The form sent again got as far as saving: the person decides, not the retry."""


@contextmanager
def _no_saving():
    """Within it, a commit raises _WouldSave instead of saving."""
    session_ = db.session()

    def refuse(_session):
        raise _WouldSave

    sa.event.listen(session_, "before_commit", refuse)
    try:
        yield
    finally:
        sa.event.remove(session_, "before_commit", refuse)


def conflict_page(title: str, message: str):
    """After the database refused a form's save (rolled back) because of another save made at the same moment:
    the form's view runs again on the same input, now seeing the other save, and its page (the input kept, its
    checks' messages beside the fields, the notice above) answers 409; it saves nothing, since the person should
    see what is there now first. Where the form cannot come back (what it changes is gone, or it passes its checks
    now), a page says so with what was typed."""
    typed = typed_values()
    if request.method == "POST" and request.endpoint in current_app.view_functions:
        g.pop("request_memo", None)  # what the first run read is stale
        g.pop("forms", None)
        flash(_("Someone else saved at the same moment you sent this, so nothing of yours was saved. Your entries "
                "are below, checked against what is there now: look at the messages, then send again if it is "
                "still needed."), "error")
        try:
            with _no_saving():
                response = current_app.make_response(current_app.view_functions[request.endpoint](
                    **(request.view_args or {})))
        except (_WouldSave, HTTPException, sa.exc.SQLAlchemyError) as exc:
            current_app.logger.info("the form sent again after a conflict did not come back: %r", exc)
            db.session.rollback()
        else:
            if 400 <= response.status_code < 500:
                response.status_code = 409
                if wants_fragment():
                    session.pop("_flashes", None)  # a swapped part shows no notice: not kept for the next page
                return response
            db.session.rollback()
        session.pop("_flashes", None)
    return render_page("errors/conflict.html", "errors/_conflict.html", title=title, message=message, typed=typed,
                       back=_page_of_the_form()), 409


def _page_of_the_form() -> str | None:
    """Where the form was: its own address when it answers GET, else the page it was sent from (this site's)."""
    if request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        # The address's arguments as they came, never as url_for's keywords: one named like a view's argument or
        # like url_for's own (_method, _external, _anchor) would break or bend the link.
        url = url_for(request.endpoint, **(request.view_args or {}))
        query = urlencode(list(request.args.items(multi=True)))
        return f"{url}?{query}" if query else url
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path[:1] == "/":
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return None


def typed_values() -> list[tuple[str, str]]:
    """(label, value) of what the person typed or chose in the forms of this request, in their order."""
    out = []
    for form in g.get("forms", ()):
        for field in form:
            if field.type in _NOT_TYPED or not field.raw_data or not any(str(v).strip() for v in field.raw_data):
                continue
            label = str(field.label.text)
            if label == field.name.replace("_", " ").title():
                continue  # a field with no label of its own (an id a script fills in)
            out.append((label, shown(field)))
    return out


def shown(field) -> str:
    """The value as the person saw it: a choice's label, a date in the locale, else the text sent."""
    if isinstance(getattr(field, "choices", None), (list, tuple)):
        sent = {str(v) for v in field.raw_data}
        labels = [str(label) for value, label in map(_pair, field.choices) if str(value) in sent]
        if labels:
            return ", ".join(labels)
    if isinstance(field.data, date) and not field.errors:
        return locale_date(field.data)
    return ", ".join(str(v) for v in field.raw_data)


def shown_value(field, value) -> str:
    """A stored value as the field would show it: a choice's label (several, for a multiple choice), a date or a
    number in the locale, a phone number as people read it, a share as a percentage (each as the field says), a box
    ticked or not as yes or no, else its text; empty for nothing."""
    values = list(value) if isinstance(value, (list, tuple, set)) else [value]
    values = [v for v in values if v is not None and v != ""]
    if isinstance(getattr(field, "choices", None), (list, tuple)):
        labels = {str(v): str(label) for v, label in map(_pair, field.choices)}
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if callable(getattr(field, "shown", None)):  # as the field writes it (app.forms.PhoneField, a target's share)
        return ", ".join(field.shown(v) for v in values)
    grouped = getattr(field, "grouped", True)  # a year is not grouped (app.forms.CountField)
    if isinstance(value, bool):  # a box ticked or not
        return _("Yes") if value else _("No")
    return ", ".join(locale_date(v) if isinstance(v, date) else locale_number(v)
                     if isinstance(v, int) and not isinstance(v, bool) and grouped else str(v) for v in values)


def _pair(choice) -> tuple:
    """A choice as (value, label): WTForms takes a SelectChoice, a (value, label) pair or a bare value."""
    if isinstance(choice, str):
        return choice, choice
    value, label, *_rest = choice
    return value, label
