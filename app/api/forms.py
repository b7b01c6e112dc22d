"""Forms of the API token page."""
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms import AppForm, strip_clean


class TokenForm(AppForm):
    label = StringField(_l("What the token is for"), filters=[strip_clean],
                        validators=[DataRequired(_l("Say what the token is for, e.g. the operations centre.")),
                                    Length(max=100, message=_l("At most %(max)d characters."))])
