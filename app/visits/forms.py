"""The visit form: date, household (found or new), members present, a result per service, a note."""
import re
import uuid

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import (
    CountField,
    LocalDateField,
    NoControlCharacters,
    NotInFuture,
    strip_clean,
)
from app.households.forms import VnMobile
from app.text import clean_lines

NOTE_MAX = 2000
KEY_RE = re.compile(r"[0-9a-f]{32}")
SERVICE_PREFIX = "svc-"
RESULT_CHOICES = ("none", "guided", "adopted")


class NoteLength:
    def __call__(self, form, field):
        if field.data and len(field.data) > NOTE_MAX:
            raise ValidationError(gettext(
                "The note is too long: %(n)s characters, at most %(max)s. Shorten it and save again.",
                n=format_decimal(len(field.data)), max=format_decimal(NOTE_MAX)))


def new_key() -> str:
    return uuid.uuid4().hex


class VisitForm(FlaskForm):
    key = HiddenField()
    visited_on = LocalDateField(_l("Date of the visit"),
                                validators=[InputRequired(_l("Enter the date of the visit.")), NotInFuture()])
    q = StringField(_l("Find the household"), filters=[strip_clean], validators=[Optional(), Length(max=100)])
    household_id = StringField()
    new_name = StringField(_l("Head of household"), filters=[strip_clean],
                           validators=[Optional(), Length(max=200), NoControlCharacters()])
    new_address = StringField(_l("House number or landmark"), filters=[strip_clean],
                              validators=[Optional(), Length(max=200)])
    new_phone = StringField(_l("Phone (optional)"), filters=[strip_clean], validators=[VnMobile()])
    new_size = CountField(_l("People (optional)"), max_value=50,
                          validators=[Optional(), NumberRange(min=1, message=_l("Enter a number from 1 to 50."))])
    new_hamlet = SelectField(_l("Hamlet"), coerce=int, validate_choice=False)
    members = SelectMultipleField(_l("Members present"), coerce=int, validate_choice=False)
    # NUL and bidi marks go like in names (PostgreSQL refuses NUL in text); line breaks stay.
    note = TextAreaField(_l("Note (optional)"), filters=[lambda v: clean_lines(v) if isinstance(v, str) else v],
                         validators=[NoteLength()])

    # Only shown to province staff correcting a closed month; see app.reports.closing.
    reason = TextAreaField(_l("Reason for the correction"), filters=[strip_clean],
                           validators=[Optional(), Length(max=500)])

    def read_results(self, formdata, services) -> tuple[dict[int, str], dict[str, str], list[str]]:
        """The posted result per service: ({service_id: result}, {code: raw choice}, errors)."""
        by_code = {s.code: s for s in services}
        results, raw, errors = {}, {}, []
        for name in formdata:
            if not name.startswith(SERVICE_PREFIX):
                continue
            code, value = name[len(SERVICE_PREFIX):], formdata.get(name, "")
            raw[code] = value
            service = by_code.get(code)
            if service is None:
                errors.append(str(_l("“%(code)s” is not a service of the catalogue.", code=code[:40])))
            elif value not in RESULT_CHOICES:
                errors.append(str(_l("Choose not covered, guided or adopted for %(name)s.", name=service.name)))
            elif value != "none":
                results[service.id] = value
        return results, raw, errors

    def key_is_valid(self) -> bool:
        return bool(self.key.data and KEY_RE.fullmatch(self.key.data))
