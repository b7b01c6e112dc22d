"""Account forms: a new staff account, and the list's search."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.auth.forms import new_username_field
from app.auth.models import ROLE_LABELS, ROLES
from app.forms import AppForm, NoControlCharacters, PlainForm, strip_clean

# Team accounts belong to a member and are given from the member's page (the team needs them).
WEB_ROLES = ("admin", "province", "district", "commune")


class OfferedUnits:
    """A form's `unit` chosen among `self.units`, the (unit, label) pairs offered for the account's role."""

    def validate_unit(self, field):
        if field.data not in {u.id for u, _label in self.units}:
            raise ValidationError(_l("Choose one of the units listed for this role."))

    def chosen_unit(self):
        return next(u for u, _label in self.units if u.id == self.unit.data)


class NewAccountForm(OfferedUnits, AppForm):
    username = new_username_field()
    full_name = StringField(_l("Full name"), filters=[strip_clean],
                            validators=[DataRequired(_l("Enter the person's full name.")), Length(max=200),
                                        NoControlCharacters()])
    role = SelectField(_l("Role"), validate_choice=False, validators=[DataRequired(_l("Choose a role."))])
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False,
                       validators=[DataRequired(_l("Choose the unit the account is bound to."))])

    def __init__(self, *args, roles: tuple[str, ...], units_for, **kwargs):
        """`roles`: those the officer may create; `units_for(role)`: the units offered for a role."""
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(value=r, label=str(ROLE_LABELS[r])) for r in roles]
        if not self.is_submitted() and self.role.data not in roles:
            self.role.data = roles[-1] if roles else None  # the commonest account to create: the lowest role
        self.units = units_for(self.role.data) if self.role.data in roles else []
        self.unit.choices = [(u.id, label) for u, label in self.units]

    def validate_role(self, field):
        if field.data not in {c.value for c in self.role.choices}:
            raise ValidationError(_l("Choose one of the roles listed."))


class BindForm(OfferedUnits, AppForm):
    """Another unit for a staff account; `units` (the units offered for its role) set by the view."""
    unit = SelectField(_l("Move to"), coerce=int, validate_choice=False,
                       validators=[DataRequired(_l("Choose the unit the account is bound to."))])
    # The unit the account was bound to when the page was opened (app/versions.py).
    version = HiddenField()

    def __init__(self, *args, units: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units
        self.unit.choices = [(u.id, label) for u, label in units]


class AccountFilterForm(PlainForm):
    q = StringField(_l("Search"), filters=[strip_clean], validators=[Optional(), Length(max=64)])
    role = SelectField(_l("Role"), validators=[Optional()], validate_choice=True)
    state = SelectField(_l("State"), validators=[Optional()], validate_choice=True, choices=[
        SelectChoice(value="", label=_l("All")), SelectChoice(value="enabled", label=_l("Enabled")),
        SelectChoice(value="disabled", label=_l("Disabled"))])

    def __init__(self, *args, roles: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(value="", label=_l("All roles"))] + [
            SelectChoice(value=r, label=ROLE_LABELS[r]) for r in roles if r in ROLES]
