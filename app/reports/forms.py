"""Forms of the reports pages: choosing a month, closing one."""
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import AppForm, strip_clean
from app.reports.summary import MonthError, check_month


class MonthField(StringField):
    """YYYY-MM; `.parsed` holds (year, month) once validated."""

    parsed: tuple[int, int] | None = None

    def pre_validate(self, form):
        self.parsed = None
        if self.data:
            try:
                self.parsed = check_month(self.data)
            except MonthError as exc:
                raise ValidationError(str(exc)) from exc


class MonthForm(AppForm):
    """A GET form: no CSRF token, its values sit in the address."""

    class Meta:
        csrf = False

    month = MonthField(_l("Month"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter the month as YYYY-MM, for example 2024-10."))])


class CloseMonthForm(AppForm):
    month = MonthField(_l("Month to close"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter the month as YYYY-MM, for example 2024-10."))])


class ReopenMonthForm(AppForm):
    reason = TextAreaField(_l("Reason for reopening"), filters=[strip_clean],
                           validators=[DataRequired(_l("Give the reason for reopening the month.")),
                                       Length(max=500)])
