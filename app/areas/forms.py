"""Forms for a province's areas: a name, and the communes an area groups."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app import rules
from app.forms import AppForm, HasLetterOrDigit, strip_clean
from app.teams.forms import CheckboxesField


class CommuneCheckboxes(CheckboxesField):
    """Ticked commune ids; a value that is not a number (an edited form) gets this page's message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Choose communes of this province only.")) from exc


class AreaForm(AppForm):
    """A new area's name; `taken` (names of the province's other areas, folded) is set by the view."""
    name = StringField(_l("Area name"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter the area's name.")),
                                   Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters.")),
                                   HasLetterOrDigit()])

    def __init__(self, *args, taken: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.taken = taken

    def validate_name(self, field):
        from app.text import fold
        if fold(field.data or "") in self.taken:
            raise ValidationError(_l("The province already has an area with this name."))


class AreaCommunesForm(AreaForm):
    """The area's name and its communes, ticked among the province's (`choices` set by the view)."""
    communes = CommuneCheckboxes(_l("Communes of the area"), coerce=int, validate_choice=False)
    # The area as it was when its form was opened (app/versions.py).
    version = HiddenField()

    def validate_communes(self, field):
        offered = {value for value, _label in field.choices}
        if any(c not in offered for c in field.data or []):
            raise ValidationError(_l("Choose communes of this province only."))
