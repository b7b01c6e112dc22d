"""The province's targets for the adult indicators (each a share by a date, or none)."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import Optional

from app.catalogue.forms import PercentField
from app.forms import AppForm, LocalDateField


class AdultTargetForm(AppForm):
    # Each date's label names its indicator: the two dates are told apart wherever a field is named by its label
    # alone (the notice of a change made meanwhile, the entries kept after a conflict, a screen reader).
    named_share = PercentField(_l("Named learners, share of adults (%)"))
    named_due_on = LocalDateField(_l("Named learners: target date"), validators=[Optional()])
    online_share = PercentField(_l("Online dossiers filed with help, share of the commune's dossiers (%)"))
    online_due_on = LocalDateField(_l("Online dossiers: target date"), validators=[Optional()])
    # The milestone each pair of fields changes: its id, "new" to add one (app/catalogue/milestones.py). Left out
    # (a form of before), the date names the milestone: another date adds one.
    named_milestone = HiddenField()
    online_milestone = HiddenField()
    # A past date the staff were asked about and save all the same.
    named_confirm_date = HiddenField()
    online_confirm_date = HiddenField()
    # The milestones as they were when the form was opened (app/versions.py).
    version = HiddenField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # A share needs its date; Optional() stops the empty date's own checks, so the pair is checked here.
        for share, due_on in ((self.named_share, self.named_due_on), (self.online_share, self.online_due_on)):
            if ok is not None and share.data is not None and due_on.data is None and not due_on.errors:
                due_on.errors = list(due_on.errors) + [_l("Enter the date by which the target should be reached.")]
                ok = False
        return ok

    def indicators(self):
        """Each indicator's fields: (indicator, share, date, milestone, confirm_date)."""
        return (("named_share", self.named_share, self.named_due_on, self.named_milestone, self.named_confirm_date),
                ("online_share", self.online_share, self.online_due_on, self.online_milestone,
                 self.online_confirm_date))
