"""Shared form pieces: text cleaning and the validators every feature uses."""
from datetime import date

from flask import g, has_request_context
from flask_babel import format_number, get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, StringField, ValidationError

from app.dates import today_vn
from app.rules import RuleError, below_zero, has_letter_or_digit, whole_number
from app.text import clean
from app.widgets import FastRendering

# Primary keys are 32-bit integers on PostgreSQL; a larger number cannot name a record, and SQLite
# cannot even bind one above 64 bits, so such ids are "not found" before any query runs.
MAX_ID = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 1900, 2999



class CatalogueTranslations:
    """WTForms' own messages through this app's catalogue, in the request's language (the messages are
    listed in app/wtforms_messages.py). WTForms formats what these return with its own values."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_CATALOGUE = CatalogueTranslations()


class _CatalogueMeta(FastRendering):
    """The app's forms' Meta: messages from its catalogue, inputs written without WTForms' formatter."""

    def get_translations(self, form):
        return _CATALOGUE


class AppForm(FlaskForm):
    """Every form of the app that posts: Flask-WTF's (CSRF), its default messages in the page's language."""

    class Meta(_CatalogueMeta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if has_request_context():
            # A save refused by another made at the same moment shows what was typed (app.main.conflicts).
            g.setdefault("forms", []).append(self)


class PlainForm(Form):
    """A form without CSRF (a page's GET filters, the rows of a FieldList), its messages likewise."""

    class Meta(_CatalogueMeta):
        pass

def record_id(value) -> int | None:
    """A record id from a form or a link: plain ASCII digits in the database's range, else None."""
    text = value.strip() if isinstance(value, str) else ""
    # str.isdigit() also accepts '²' and '٣', which int() then refuses or reads as another number.
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def strip_clean(value):
    """WTForms filter: NFC, no control characters, single spaces."""
    return clean(value) if isinstance(value, str) else value


class NoControlCharacters:
    """Reject text that still holds characters no person types (after cleaning there are none)."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and "\x00" in field.data:
            raise ValidationError(_l("This field contains characters that are not allowed."))


class HasLetterOrDigit:
    """A name one can read and search: at least one letter or digit once cleaned (accents alone, or a picture,
    fold to nothing)."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and field.data and not has_letter_or_digit(field.data):
            raise ValidationError(_l("The name needs at least one letter or digit."))


class CountField(StringField):
    """A whole number typed the Vietnamese way or plainly: '1.851', '1851'."""

    def __init__(self, *args, max_value: int = 10_000_000, rule=None, grouped: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_value = max_value
        # Shown elsewhere with the locale's grouping (1.851 households), or not (a year: 1991).
        self.grouped = grouped
        # A function of app.rules that reads and checks the value, shared with the imports.
        self.rule = rule

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if valuelist and isinstance(valuelist[0], str) and not valuelist[0].strip():
            # Only spaces is no count typed: InputRequired, which reads raw_data, then asks for one
            # (as Optional() already skips it) instead of letting None through to the database.
            self.raw_data = []
            return
        if not valuelist:
            return
        if self.rule is not None:
            try:
                self.data = self.rule(valuelist[0])
            except RuleError as exc:
                raise ValueError(exc.message) from None
            return
        try:
            self.data = whole_number(valuelist[0])
        except ValueError:
            self.data = None
            if below_zero(valuelist[0]):
                raise ValueError(_l("The number cannot be below 0.")) from None
            raise ValueError(_l("Enter a whole number, e.g. 1851.")) from None
        if self.data is not None and self.data > self.max_value:
            self.data = None
            raise ValueError(_l("The number is too large: at most %(max)s.", max=format_number(self.max_value)))

    def _value(self):
        if getattr(self, "raw", None) is not None and self.raw != "":
            return self.raw
        return "" if self.data is None else str(self.data)


class PhoneField(StringField):
    """A phone number, which a page shows as people read it out (0912 345 678), also beside what was typed."""

    def shown(self, value) -> str:
        from app.teams.operations import format_phone  # the one way a number is written out
        return format_phone(value)


class LocalDateField(DateField):
    """An <input type=date>, with a message a person understands when the value is not a date."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a valid date.")) from None
        # Years like 0001 or 9999 parse, then overflow date arithmetic and time-zone conversion
        # downstream; no record of this app lies outside these years.
        if self.data is not None and not (FIRST_YEAR <= self.data.year <= LAST_YEAR):
            self.data = None
            raise ValueError(_l("Enter a valid date."))


class FollowsRule:
    """Check the field's text with one of app.rules' functions: its RuleError becomes the message beside the
    field (a blank field is left to DataRequired)."""

    def __init__(self, rule):
        self.rule = rule

    def __call__(self, form, field):
        if field.data:
            try:
                field.data = self.rule(field.data)
            except RuleError as exc:
                raise ValidationError(exc.message) from None


class NotInFuture:
    def __call__(self, form, field):
        if isinstance(field.data, date) and field.data > today_vn():
            raise ValidationError(_l("The date cannot be in the future."))


def error_summary(form) -> list[tuple[str, str]]:
    """(anchor, line) for each field of a refused form with an error, in the form's order: what
    `_error_summary.html` lists above a long form, each line leading to its field."""
    return [(f.id, summary_line(f.label.text, f.errors)) for f in form
            if f.errors and f.type != "CSRFTokenField" and f.label.text]


def summary_line(label, messages) -> str:
    """A line of a refused form's error summary: what the field is called, then what is wrong with it (read out
    alone by a screen reader, and clear on a phone where the field itself is screens away)."""
    return f"{label}: {' '.join(str(m) for m in messages)}"
