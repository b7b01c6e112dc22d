"""Forms for teams and members; every message is ours (WTForms ships no Vietnamese)."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app import rules
from app.auth.forms import new_username_field
from app.dates import today_vn
from app.forms import (
    AppForm,
    CountField,
    FollowsRule,
    HasLetterOrDigit,
    LocalDateField,
    NotInFuture,
    PhoneField,
    strip_clean,
)
from app.teams.models import AFFILIATIONS, GENDERS, MEMBER_ROLES
from app.teams.operations import PhoneError, normalise_phone

NAME_MAX = rules.NAME_MAX


def _choices(labels: dict, blank=None) -> list[SelectChoice]:
    out = [SelectChoice(k, v) for k, v in labels.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + out


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def offered(field) -> set:
    return {c.value for c in field.choices or []}


class OneOf:
    """The value must be one of the offered choices (guards against edited forms)."""

    def __init__(self, allowed, message=None):
        self.allowed = allowed
        self.message = message or _l("Choose one of the options.")

    def __call__(self, form, field):
        if (field.data or "") not in self.allowed:
            raise ValidationError(self.message)


class NotBefore:
    """The date is on or after another date field (joined before left, decision before dissolution)."""

    def __init__(self, attribute: str, message):
        self.attribute, self.message = attribute, message

    def __call__(self, form, field):
        other = getattr(form, self.attribute, None)
        if field.data and other and field.data < other:
            raise ValidationError(self.message)


class CheckboxesField(SelectMultipleField):
    """Ticked ids; a value that is not a number (an edited form) gets our own message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        try:
            self.data = [int(v) for v in valuelist]
        except ValueError as exc:
            self.data = []
            raise ValueError(_l("Choose hamlets of this commune only.")) from exc


class TeamForm(AppForm):
    name = StringField(_l("Team name"), filters=[strip_clean], validators=[
        DataRequired(_l("Enter the team's name.")),
        Length(max=NAME_MAX, message=_l("At most %(max)d characters.")), HasLetterOrDigit()])
    decision_number = StringField(_l("Decision number"), filters=[strip_clean], validators=[
        Optional(), Length(max=64, message=_l("At most %(max)d characters."))])
    decision_date = LocalDateField(_l("Decision date"), validators=[Optional(), NotInFuture()])
    founded_on = LocalDateField(_l("Founded on"), validators=[Optional(), NotInFuture()])
    hamlets = CheckboxesField(_l("Hamlets served"), coerce=int, validate_choice=False)
    # The team as it was when its edit form was opened (app/versions.py).
    version = HiddenField()

    def validate_hamlets(self, field):
        if field.errors:  # a value that is not a hamlet's id: said already
            return
        if not field.data:
            raise ValidationError(_l("Choose at least one hamlet."))
        if any(h not in offered(field) for h in field.data):
            raise ValidationError(_l("Choose hamlets of this commune only."))


class DissolveForm(AppForm):
    dissolved_on = LocalDateField(_l("Dissolved on"), default=today_vn, validators=[
        InputRequired(_l("Enter the date.")), NotInFuture(),
        NotBefore("decision_date", _l("The team cannot be dissolved before the decision that set it up."))])
    reason = TextAreaField(_l("Reason"), filters=[strip_clean], validators=[
        DataRequired(_l("Give the reason.")), Length(max=500, message=_l("At most %(max)d characters.")),
        FollowsRule(rules.reason)])
    decision_date = None  # set by the view from the team


class MemberForm(AppForm):
    full_name = StringField(_l("Full name"), filters=[strip_clean], validators=[
        DataRequired(_l("Enter the member's full name.")),
        Length(max=NAME_MAX, message=_l("At most %(max)d characters.")), HasLetterOrDigit()])
    # Optional: an elderly hamlet head may have no mobile phone. Such a member gets no sign-in
    # account (the number is the username); a number given is still checked and unique.
    phone = PhoneField(_l("Mobile number (optional)"), filters=[strip_clean], validators=[
        Optional(),
        Length(max=32, message=_l("This is not a phone number. Type 10 digits, e.g. 0912 345 678."))])
    gender = SelectField(_l("Gender"), choices=_choices(GENDERS, blank=_l("—")), validate_choice=False,
                         validators=[OneOf(["", *GENDERS])])
    birth_year = CountField(_l("Year of birth"), rule=rules.birth_year, grouped=False, validators=[Optional()])
    role = SelectField(_l("Role in the team"), choices=_choices(MEMBER_ROLES), default="member",
                       validate_choice=False, validators=[OneOf(list(MEMBER_ROLES))])
    affiliation = SelectField(_l("Affiliation"), choices=_choices(AFFILIATIONS), default="other",
                              validate_choice=False, validators=[OneOf(list(AFFILIATIONS))])
    joined_on = LocalDateField(_l("Joined on"), default=today_vn, validators=[
        InputRequired(_l("Enter the date.")), NotInFuture()])
    # The name the officer was told is already in the team and adds all the same (teams.views._check_same_name).
    confirm_name = HiddenField()
    # The member as it was when the edit form was opened (app/versions.py).
    version = HiddenField()

    normalised_phone = ""

    def validate_phone(self, field):
        try:
            self.normalised_phone = normalise_phone(field.data)
        except PhoneError as exc:
            raise ValidationError(str(exc)) from exc


class LeaveForm(AppForm):
    left_on = LocalDateField(_l("Left on"), default=today_vn, validators=[
        InputRequired(_l("Enter the date.")), NotInFuture(),
        NotBefore("joined_on", _l("A member cannot leave before joining."))])
    joined_on = None  # set by the view from the open membership


class IdSelectField(SelectField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class MoveForm(AppForm):
    team = IdSelectField(_l("New team"), coerce=int, validate_choice=False)
    moved_on = LocalDateField(_l("Moved on"), default=today_vn, validators=[
        InputRequired(_l("Enter the date.")), NotInFuture(),
        NotBefore("joined_on", _l("The move cannot be dated before the member joined the current team."))])
    role = SelectField(_l("Role in the new team"), choices=_choices(MEMBER_ROLES), default="member",
                       validate_choice=False, validators=[OneOf(list(MEMBER_ROLES))])
    joined_on = None

    def validate_team(self, field):
        if field.data not in offered(field):
            raise ValidationError(_l("Choose another active team of the commune."))



class MemberAccountForm(AppForm):
    """A member's sign-in account. Its username is the member's mobile number (the button sends none); when that is
    someone's already, the page asks for another, with one offered."""
    username = new_username_field()
