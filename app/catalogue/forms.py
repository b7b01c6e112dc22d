"""Forms for the province staff's services catalogue: names, order, on/off, targets."""
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.extensions import db
from app.forms import AppForm, LocalDateField, NoControlCharacters, strip_clean
from app.templating import target_percent
from app.visits.models import PILLARS, Service


class PercentField(StringField):
    """'50', '50%', '44,7' -> Decimal('0.5') etc.; a share of households, 0 to 100 %."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        text = (self.raw or "").strip().rstrip("%").strip().replace(",", ".")
        if not text:
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_l("Enter a percentage, e.g. 50 or 44,5.")) from None
        if not value.is_finite():  # 'NaN' and 'Infinity' parse, but NaN cannot even be compared
            raise ValueError(_l("Enter a percentage, e.g. 50 or 44,5."))
        if not (0 < value <= 100):
            raise ValueError(_l("Enter a percentage above 0 and at most 100."))
        self.data = (value / 100).quantize(Decimal("0.0001"))

    def shown(self, value) -> str:
        """A share as the pages write it: 80%, 44,5%."""
        return target_percent(value)

    def _value(self):
        if getattr(self, "raw", None):
            return self.raw
        if self.data is None:
            return ""
        # As a person writes it in the page's language: 80,5 in Vietnamese, 80.5 in English.
        return f"{(Decimal(self.data) * 100).normalize():f}".replace(".", get_decimal_symbol(str(get_locale() or "vi")))


class ServiceForm(AppForm):
    name_vi = StringField(_l("Name in Vietnamese"), filters=[strip_clean],
                          validators=[DataRequired(_l("Enter the name.")), Length(max=200), NoControlCharacters()])
    name_en = StringField(_l("Name in English"), filters=[strip_clean],
                          validators=[DataRequired(_l("Enter the name.")), Length(max=200), NoControlCharacters()])
    active = BooleanField(_l("Offered in the visit form"))
    files_dossiers = BooleanField(_l("People file dossiers through it (counted at one-stop-centre shifts)"))
    share = PercentField(_l("Target share of households (%)"))
    due_on = LocalDateField(_l("Target date"), validators=[Optional()])
    # The milestone the share and date change: its id, "new" to add one (app/catalogue/views.py, edit). Left
    # out (a form of before), the date names the milestone: another date adds one.
    milestone = HiddenField()
    # A past date the staff were asked about and save all the same.
    confirm_date = HiddenField()
    # The service and the milestone as they were when the form was opened (app/versions.py).
    version = HiddenField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Optional() ends the date's own checks when it is empty, so the pair is checked here.
        if ok and self.share.data is not None and self.due_on.data is None:
            self.due_on.errors = list(self.due_on.errors) + [
                _l("Enter the date by which the target should be reached.")]
            return False
        return ok


class NewServiceForm(AppForm):
    code = StringField(_l("Code"), filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
                       validators=[DataRequired(_l("Enter a code.")),
                                   Regexp(r"^[a-z][a-z0-9_]{1,31}$", message=_l(
                                       "Use 2 to 32 lower-case letters, digits or _, starting with a letter."))])
    pillar = SelectField(_l("Pillar"), choices=[SelectChoice(code, label) for code, label in PILLARS.items()])
    name_vi = StringField(_l("Name in Vietnamese"), filters=[strip_clean],
                          validators=[DataRequired(_l("Enter the name.")), Length(max=200), NoControlCharacters()])
    name_en = StringField(_l("Name in English"), filters=[strip_clean],
                          validators=[DataRequired(_l("Enter the name.")), Length(max=200), NoControlCharacters()])

    def validate_code(self, field):
        if not field.errors and db.session.scalar(sa.select(Service.id).where(Service.code == field.data)):
            raise ValidationError(_l("Another service already has this code."))
