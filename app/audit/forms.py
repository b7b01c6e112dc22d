"""Filters of the audit trail page (GET form: no CSRF, nothing changes)."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from app.forms import LocalDateField, PlainForm, strip_clean

RECORD_TYPES = {
    "": _l("All records"),
    "unit": _l("Administrative units"),
    "team": _l("Teams"),
    "member": _l("Members"),
    "household": _l("Households"),
    "visit": _l("Guidance sessions"),
    "class": _l("Classes"),
    "shift": _l("One-stop-centre shifts"),
    "dossier_total": _l("Commune dossiers"),
    "service": _l("Services"),
    "user": _l("Accounts"),
    "api_token": _l("API tokens"),
    "month_closure": _l("Month closing"),
}


class AuditFilterForm(PlainForm):
    user = StringField(_l("Username"), filters=[strip_clean], validators=[Optional(), Length(max=64)])
    record_type = SelectField(_l("Record"), choices=[SelectChoice(value=k, label=v) for k, v in RECORD_TYPES.items()],
                              default="",
                              validate_choice=True)
    date_from = LocalDateField(_l("From"), validators=[Optional()])
    date_to = LocalDateField(_l("To"), validators=[Optional()])
