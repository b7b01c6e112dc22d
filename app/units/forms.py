"""Forms for hamlets and household counts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import rules
from app.dates import today_vn
from app.forms import CountField, LocalDateField, NotInFuture, strip_clean


class HamletForm(FlaskForm):
    name = StringField(_l("Hamlet name"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter the hamlet's name.")),
                                   Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters."))])
    households = CountField(_l("Households"), rule=rules.households, validators=[Optional()])
    effective_on = LocalDateField(_l("Counted on"), default=today_vn,
                                  validators=[Optional(), NotInFuture()])


class RenameForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter a name.")),
                                   Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters."))])


class HouseholdCountForm(FlaskForm):
    households = CountField(_l("Households"), rule=rules.households,
                            validators=[InputRequired(_l("Enter the number of households."))])
    effective_on = LocalDateField(_l("In effect from"), default=today_vn,
                                  validators=[InputRequired(_l("Enter the date.")), NotInFuture()])


class UploadForm(FlaskForm):
    file = FileField(_l("Excel or CSV file"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], _l("Upload an Excel file (.xlsx) or a CSV file (.csv)."))])


class ConfirmImportForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired()])


class PlanUploadForm(FlaskForm):
    file = FileField(_l("Reorganization plan (Excel or CSV)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], _l("Upload an Excel file (.xlsx) or a CSV file (.csv)."))])
