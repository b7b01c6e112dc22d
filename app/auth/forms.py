"""Sign-in and password forms, and the rules of a username given to a new account."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from app.auth.models import User
from app.auth.passwords import password_problem
from app.auth.usernames import normalise_username
from app.extensions import db
from app.forms import AppForm, strip_clean
from app.scope import can_open_account
from app.templating import account_link


def free_username(typed: str) -> str | None:
    """A username free now, the one typed with a number after it (nguyen.van.an2, nguyen.van.an3 …), cut to fit
    the 64 characters; None in the unlikely case that 2 to 99 are all taken."""
    candidates = [typed[:64 - len(str(n))] + str(n) for n in range(2, 100)]
    taken = set(db.session.scalars(sa.select(User.username).where(User.username.in_(candidates))))
    return next((c for c in candidates if c not in taken), None)


class UsernameFree:
    """A new account's username is no one's yet. Usernames are unique everywhere, but whose one is, and where, is told
    only to an officer who manages that account (it may be the same person's, to open rather than duplicate); anyone
    is offered a free one. Each refusal says whether a username exists: its form is limited per officer
    (app/extensions.py, account_form_limit)."""

    def __call__(self, form, field):
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


class LoginForm(AppForm):
    username = StringField(_l("Username"), filters=[normalise_username],
                           validators=[DataRequired(_l("Enter your username.")), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                          Length(max=200)])


class ChangePasswordForm(AppForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Enter your current password.")), Length(max=200)])
    new = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")),
                                                         Length(max=200)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(_l("Enter the new password again.")),
                                        EqualTo("new", _l("The two new passwords differ."))])

    def validate_new(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


def lower(value):
    return value.lower() if isinstance(value, str) else value


def new_username_field() -> StringField:
    """A new account's username field, a staff account's (/users/new) or a team member's (the member's page): its
    rules, and no one's yet."""
    return StringField(_l("Username"), filters=[strip_clean, lower], validators=[
        DataRequired(_l("Enter a username.")), Length(min=3, max=64, message=_l("Use 3 to 64 characters.")),
        Regexp(r"^[a-z0-9][a-z0-9._-]*$", message=_l("Use letters a–z, digits, dots, dashes or underscores.")),
        UsernameFree()])
