"""Sign-in and password forms."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth.passwords import password_problem
from app.auth.usernames import normalise_username
from app.forms import AppForm


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
