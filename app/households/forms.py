"""Household fields shared by the registry and the visit form: names, Vietnamese mobile numbers."""
import phonenumbers
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.dates import today_vn
from app.forms import (
    MAX_ID,
    AppForm,
    CountField,
    FollowsRule,
    HasLetterOrDigit,
    LocalDateField,
    NoControlCharacters,
    PhoneField,
    record_id,
    strip_clean,
)
from app.rules import reason as reason_rule


def national_mobile(value: str) -> str:
    """'+84 912 345 678' or '0912.345.678' -> '0912345678'; ValueError unless a Vietnamese mobile."""
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if (number.country_code != 84 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)):
        raise ValueError("not a Vietnamese mobile number")
    return "0" + str(number.national_number)


class VnMobile:
    """Optional mobile number; on success field.data holds the national form."""

    def __call__(self, form, field):
        if not field.data:
            field.data = ""
            return
        try:
            field.data = national_mobile(field.data)
        except ValueError:
            raise ValidationError(
                _l("Enter a Vietnamese mobile number: 10 digits starting with 0, e.g. 0912 345 678.")) from None


NAME_MESSAGE = _l("Enter the name of the head of the household.")


class HouseholdForm(AppForm):
    head_name = StringField(_l("Head of household"), filters=[strip_clean],
                            validators=[DataRequired(NAME_MESSAGE), Length(max=200), NoControlCharacters(),
                                        HasLetterOrDigit()])
    address = StringField(_l("House number or landmark"), filters=[strip_clean],
                          validators=[Optional(), Length(max=200)])
    phone = PhoneField(_l("Phone (optional)"), filters=[strip_clean], validators=[VnMobile()])
    size = CountField(_l("People in the household (optional)"), max_value=50,
                      validators=[Optional(), NumberRange(min=1, message=_l("Enter a number from 1 to 50."))])
    # The household as it was when the form was opened (app/versions.py).
    version = HiddenField()


class MergeForm(AppForm):
    target_id = IntegerField(_l("Keep this household"), validators=[
        DataRequired(_l("Choose the household to keep.")),
        NumberRange(min=1, max=MAX_ID, message=_l("Choose the household to keep."))])


class MoveForm(AppForm):
    """Move the household to another active hamlet of its commune, from a date."""
    hamlet = SelectField(_l("New hamlet"), validate_choice=False,
                         validators=[InputRequired(_l("Choose the hamlet the household moves to."))])
    moved_on = LocalDateField(_l("From"), default=today_vn, validators=[InputRequired(_l("Enter the date."))])

    def __init__(self, *args, household, **kwargs):
        from app.units import hamlet_changes
        super().__init__(*args, **kwargs)
        self.household = household
        self.siblings = hamlet_changes.sibling_hamlets(household.hamlet)
        self.hamlet.choices = ([SelectChoice(value="", label=_l("Choose a hamlet"))]
                               + [SelectChoice(value=str(h.id), label=h.name) for h in self.siblings])
        self.target = None
        # The hamlet chosen was ended by a merge or a split since the form listed it: a change made meanwhile (409).
        self.overtaken = False

    def validate_hamlet(self, field):
        from app.units import hamlet_changes
        chosen = record_id(field.data)
        if chosen == self.household.hamlet_id:
            raise ValidationError(_l("The household is already in this hamlet."))
        self.target = next((h for h in self.siblings if h.id == chosen), None)
        if self.target is None:
            ended = hamlet_changes.ended_target_problem(self.household, chosen)
            self.overtaken = ended is not None
            raise ValidationError(ended or _l("Choose another active hamlet of this commune."))

    def validate_moved_on(self, field):
        from app.units import hamlet_changes
        if field.data is not None and self.target is not None:
            problem = hamlet_changes.household_date_problem(self.household, self.target, field.data)
            if problem:
                raise ValidationError(problem)


class EraseForm(AppForm):
    """The officer confirms an erasure asked for by the household, and says why (for the audit trail)."""

    reason = TextAreaField(_l("Reason (e.g. the household's written request of 12/05/2024)"),
                           filters=[strip_clean],
                           validators=[DataRequired(_l("Say why the data is erased, e.g. the household's request.")),
                                       Length(max=500), NoControlCharacters(), FollowsRule(reason_rule)])
    confirm = BooleanField(_l("I understand that this cannot be undone."),
                           validators=[DataRequired(_l("Tick to confirm the erasure."))])

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household

    def validate_reason(self, field):
        """The reason stays in the change history after the erasure: what is erased may not be written in it."""
        if self.household is None or not field.data:
            return
        from app.text import fold
        said, digits = fold(field.data), "".join(ch for ch in field.data if ch.isdigit())
        h = self.household
        named = any(len(fold(v)) >= 3 and fold(v) in said for v in (h.head_name, h.address) if v)
        phone = "".join(ch for ch in (h.phone or "") if ch.isdigit())
        if named or (len(phone) >= 6 and phone[-6:] in digits):
            raise ValidationError(_l("Do not write the household's name, address or phone number in the reason: "
                                     "the reason is kept after the erasure. Write, e.g., “the household's written "
                                     "request of 12/05/2024”."))
