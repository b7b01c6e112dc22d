"""Forms of the reports pages: choosing a month or a quarter, closing a month."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.dates import MONTH_MESSAGE, month_as_written, parse_month
from app.forms import AppForm, FollowsRule, strip_clean
from app.reports.periods import Period, PeriodError, check_quarter, recent_quarters
from app.reports.summary import MonthError, check_month
from app.rules import reason as reason_rule


class MonthField(StringField):
    """YYYY-MM (or MM/YYYY, read as YYYY-MM); `.parsed` holds (year, month) once validated."""

    parsed: tuple[int, int] | None = None

    def pre_validate(self, form):
        self.parsed = None
        if self.data:
            if parse_month(self.data) is None:  # as the page's hint writes a month, not as the API's YYYY-MM
                raise ValidationError(MONTH_MESSAGE)
            try:
                self.parsed = check_month(self.data)
            except MonthError as exc:
                raise ValidationError(self.not_begun or str(exc)) from exc

    not_begun = None  # what a month to come is told, when this form says it otherwise


class MonthToCloseField(MonthField):
    # A month to come cannot be closed, nor can this month: the summary pages' "choose the current month" would
    # send the user to a month refused in its turn.
    not_begun = _l("A month can be closed only after it has ended.")


class MonthForm(AppForm):
    """A GET form: no CSRF token, its values sit in the address."""

    class Meta:
        csrf = False

    month = MonthField(_l("Month"), filters=[strip_clean, month_as_written],
                       validators=[DataRequired(MONTH_MESSAGE)])


class QuarterField(SelectField):
    """A quarter chosen from a list (YYYY-Qn; one the list does not offer, typed in the address, is
    shown too); `.parsed` holds (year, quarter) once validated."""

    parsed: tuple[int, int] | None = None

    def pre_validate(self, form):  # in place of SelectField's "one of the choices"
        self.parsed = None
        if self.data:
            try:
                self.parsed = check_quarter(self.data)
            except PeriodError as exc:
                if self.data not in dict(self.choices):  # shown as asked, beside its message
                    self.choices.append((self.data, self.data))
                raise ValidationError(str(exc)) from exc
            quarter = Period.quarter(*self.parsed)
            self.data = quarter.label
            if quarter.label not in dict(self.choices):
                self.choices.append((quarter.label, quarter.shown))


class QuarterForm(AppForm):
    """A GET form, as MonthForm."""

    class Meta:
        csrf = False

    quarter = QuarterField(_l("Reporting quarter"), filters=[strip_clean],
                           validators=[DataRequired(_l("Enter the quarter as YYYY-Qn, for example 2026-Q3."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quarter.choices = recent_quarters()


class CloseMonthForm(AppForm):
    month = MonthToCloseField(_l("Month to close"), filters=[strip_clean, month_as_written],
                       validators=[DataRequired(MONTH_MESSAGE)])
    # The month the page asked to confirm: closing takes a second tap, on a button naming the month.
    confirm = HiddenField(filters=[strip_clean, month_as_written])  # read as the month is


class ReopenMonthForm(AppForm):
    reason = TextAreaField(_l("Reason for reopening"), filters=[strip_clean],
                           validators=[DataRequired(_l("Give the reason for reopening the month.")),
                                       Length(max=500), FollowsRule(reason_rule)])
