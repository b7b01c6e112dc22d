"""Shared form pieces: text cleaning and the validators every feature uses."""
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField, ValidationError

from app.dates import today_vn
from app.spreadsheets import int_cell
from app.text import clean


def strip_clean(value):
    """WTForms filter: NFC, no control characters, single spaces."""
    return clean(value) if isinstance(value, str) else value


class NoControlCharacters:
    """Reject text that still holds characters no person types (after cleaning there are none)."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and "\x00" in field.data:
            raise ValidationError(_l("This field contains characters that are not allowed."))


class CountField(StringField):
    """A whole number typed the Vietnamese way or plainly: '1.851', '1851'."""

    def __init__(self, *args, max_value: int = 10_000_000, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_value = max_value

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if not valuelist:
            return
        try:
            self.data = int_cell(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number, e.g. 1851.")) from None
        if self.data is not None and self.data > self.max_value:
            self.data = None
            raise ValueError(_l("The number is too large."))

    def _value(self):
        if getattr(self, "raw", None) is not None and self.raw != "":
            return self.raw
        return "" if self.data is None else str(self.data)


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


class NotInFuture:
    def __call__(self, form, field):
        if isinstance(field.data, date) and field.data > today_vn():
            raise ValidationError(_l("The date cannot be in the future."))
