"""Account forms: a new staff account, and the list's search."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.auth.models import ROLE_LABELS, ROLES, User
from app.extensions import db
from app.forms import AppForm, NoControlCharacters, PlainForm, strip_clean
from app.scope import can_open_account
from app.templating import account_link

# Team accounts belong to a member and are given from the member's page (the team needs them).
WEB_ROLES = ("admin", "province", "district", "commune")


def lower(value):
    return value.lower() if isinstance(value, str) else value


def free_username(typed: str) -> str | None:
    """A username free now, the one typed with a number after it (nguyen.van.an2, nguyen.van.an3 …), cut to fit
    the 64 characters; None in the unlikely case that 2 to 99 are all taken."""
    candidates = [typed[:64 - len(str(n))] + str(n) for n in range(2, 100)]
    taken = set(db.session.scalars(sa.select(User.username).where(User.username.in_(candidates))))
    return next((c for c in candidates if c not in taken), None)


class OfferedUnits:
    """A form's `unit` chosen among `self.units`, the (unit, label) pairs offered for the account's role."""

    def validate_unit(self, field):
        if field.data not in {u.id for u, _label in self.units}:
            raise ValidationError(_l("Choose one of the units listed for this role."))

    def chosen_unit(self):
        return next(u for u, _label in self.units if u.id == self.unit.data)


class NewAccountForm(OfferedUnits, AppForm):
    username = StringField(_l("Username"), filters=[strip_clean, lower], validators=[
        DataRequired(_l("Enter a username.")), Length(min=3, max=64, message=_l("Use 3 to 64 characters.")),
        Regexp(r"^[a-z0-9][a-z0-9._-]*$", message=_l("Use letters a–z, digits, dots, dashes or underscores."))])
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

    def validate_username(self, field):
        """Usernames are unique everywhere, but whose one is, and where, is told only to an officer who manages that
        account (it may be the same person's, to open rather than duplicate); anyone is offered a free one."""
        if field.errors:  # refused by its rules already
            return
        taken = db.session.scalar(sa.select(User).where(User.username == field.data))
        if taken is None:
            return
        free = free_username(field.data)
        if free is None:
            raise ValidationError(_l("This username is taken. Choose another."))
        if can_open_account(taken.id):
            raise ValidationError(Markup(_(
                "This username is already in use by %(account)s, in your area. If it is the same person, open that "
                "account rather than create a second one. Otherwise you can use %(free)s, or choose another.")) % {
                    "account": account_link(taken), "free": free})
        raise ValidationError(_("This username is already in use. You can use %(free)s, or choose another.",
                                free=free))


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
