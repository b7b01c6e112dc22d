"""The visit form: date, household (found or new), members present, a result per service, a note,
checked against the team's roster."""
import re
import uuid

from flask import request
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.extensions import db
from app.forms import (
    AppForm,
    CountField,
    FollowsRule,
    HasLetterOrDigit,
    LocalDateField,
    NoControlCharacters,
    NotInFuture,
    record_id,
    strip_clean,
)
from app.households.forms import VnMobile
from app.households.models import Household
from app.rules import reason as reason_rule
from app.templating import locale_date
from app.text import clean_lines
from app.visits.operations import HouseholdRef, VisitData, household_among
from app.visits.roster import TeamRoster

NOTE_MAX = 2000
KEY_RE = re.compile(r"[0-9a-f]{32}")
SERVICE_PREFIX = "svc-"
RESULT_CHOICES = ("none", "guided", "adopted")


class NoteLength:
    def __call__(self, form, field):
        if field.data and len(field.data) > NOTE_MAX:
            raise ValidationError(gettext(
                "The note is too long: %(n)s characters, at most %(max)s. Shorten it and save again.",
                n=format_decimal(len(field.data)), max=format_decimal(NOTE_MAX)))


def new_key() -> str:
    return uuid.uuid4().hex


class VisitForm(AppForm):
    key = HiddenField()
    # The visit as it was when its edit form was opened (app/versions.py); empty on a new visit's form.
    version = HiddenField()
    visited_on = LocalDateField(_l("Date of the visit"),
                                validators=[InputRequired(_l("Enter the date of the visit.")), NotInFuture()])
    q = StringField(_l("Find the household"), filters=[strip_clean], validators=[Optional(), Length(max=100)])
    household_id = StringField()
    # No Optional(): it would end the checks before validate_new_name asks for a new household's name.
    new_name = StringField(_l("Head of household"), filters=[strip_clean],
                           validators=[Length(max=200), NoControlCharacters(), HasLetterOrDigit()])
    new_address = StringField(_l("House number or landmark"), filters=[strip_clean],
                              validators=[Optional(), Length(max=200)])
    new_phone = StringField(_l("Phone (optional)"), filters=[strip_clean], validators=[VnMobile()])
    new_size = CountField(_l("People (optional)"), max_value=50,
                          validators=[Optional(), NumberRange(min=1, message=_l("Enter a number from 1 to 50."))])
    new_hamlet = SelectField(_l("Hamlet"), coerce=int, validate_choice=False)
    members = SelectMultipleField(_l("Members present"), coerce=int, validate_choice=False)
    # NUL and bidi marks go like in names (PostgreSQL refuses NUL in text); line breaks stay.
    note = TextAreaField(_l("Note (optional)"), filters=[lambda v: clean_lines(v) if isinstance(v, str) else v],
                         validators=[NoteLength()])

    # Only shown to province staff correcting a closed month; see app.reports.closing.
    reason = TextAreaField(_l("Reason for the correction"), filters=[strip_clean],
                           validators=[Optional(), Length(max=500), FollowsRule(reason_rule)])

    def __init__(self, *args, roster: TeamRoster | None = None, services=(), visit=None, **kwargs):
        """`roster`: the team the visit is checked against; `services`: those the form offers;
        `visit`: the visit being edited (its members count as the team's even if they left since)."""
        super().__init__(*args, **kwargs)
        self.roster = roster if roster is not None else TeamRoster(None)
        self.services = list(services)
        self.visit = visit
        self.household: Household | HouseholdRef | None = None
        self.results: dict[int, str] = {}
        self.chosen: dict[str, str] = {}  # the posted choice per service code, to show it again
        self.service_errors: list[str] = []

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        errors = self.read_services()
        if not errors and not self.results:
            errors.append(gettext("Mark at least one service as guided or adopted."))
        self.service_errors = errors
        return ok and not errors

    def read_services(self) -> list[str]:
        """Read the posted result per service (kept to show the form again); returns their errors."""
        self.results, self.chosen, errors = self.read_results(request.form, self.services)
        return errors

    def validate_visited_on(self, field):
        earliest = self.roster.earliest
        if field.data and earliest and field.data < earliest:
            raise ValidationError(gettext(
                "The team was founded on %(date)s: a visit cannot be dated earlier. If the team worked before "
                "that day, the commune officer can change its founding date on the team's page.",
                date=locale_date(earliest)))

    def validate_household_id(self, field):
        """A household of the team's hamlets (a merged one's survivor), or a new one's fields filled."""
        raw = (field.data or "").strip()
        if raw and raw != "new":
            household = None
            if record_id(raw) is not None:
                household = household_among(record_id(raw), self.roster.hamlet_ids, lock=self.visit is None)
            if household is None:
                raise ValidationError(gettext("This household is not in your team's hamlets. Choose it again."))
            if household.merged_into_id is not None:
                household = db.session.get(Household, household.merged_into_id)
            if household is not None and household.erased_at is not None:
                # Its data was erased on request: a new session means registering the household again.
                raise ValidationError(
                    gettext("This household's personal data was erased. Add it again as a new household."))
            self.household = household
        elif not self.adds_household:
            raise ValidationError(gettext("Choose the household, or add a new one."))

    def validate_new_name(self, field):
        if self.adds_household and not field.data:
            raise ValidationError(gettext("Enter the name of the head of the household."))

    def validate_new_hamlet(self, field):
        if self.adds_household and self.new_hamlet_id not in self.roster.hamlet_ids:
            raise ValidationError(gettext("Choose one of your team's hamlets."))

    def validate_members(self, field):
        member_ids = field.data or []
        allowed = self.roster.member_ids
        if self.visit is not None:
            allowed = allowed | {m.id for m in self.visit.members}
        if not member_ids:
            raise ValidationError(gettext("Tick at least one member who was there."))
        if not set(member_ids) <= allowed:
            raise ValidationError(gettext("Tick only members of the team."))

    @property
    def adds_household(self) -> bool:
        """"A new household" chosen, or a head's name typed without choosing one."""
        raw = (self.household_id.data or "").strip()
        return raw == "new" or (not raw and bool(self.new_name.data))

    @property
    def new_hamlet_id(self) -> int | None:
        """The new household's hamlet: the one chosen, or the team's only hamlet."""
        ids = self.roster.hamlet_ids
        return self.new_hamlet.data if len(ids) > 1 else (ids[0] if ids else None)

    def new_household(self) -> dict | None:
        """The fields of the household to add with the visit, if the form adds one."""
        if not self.adds_household:
            return None
        return {"hamlet_id": self.new_hamlet_id, "head_name": self.new_name.data,
                "address": self.new_address.data or "", "phone": self.new_phone.data or "",
                "size": self.new_size.data}

    def visit_data(self) -> VisitData:
        """What a validated form records (household None: the new household, created with the visit)."""
        return VisitData(household=self.household, visited_on=self.visited_on.data, results=self.results,
                         member_ids=sorted(set(self.members.data or [])), note=self.note.data or "")

    def as_posted(self) -> VisitData | None:
        """What the form says, read without the team's rules: a form resent long after its visit was
        saved may no longer pass them (a member ticked on it has left the team) and still is that visit."""
        errors = self.read_services()
        household_id = record_id((self.household_id.data or "").strip())
        household = db.session.get(Household, household_id) if household_id is not None else None
        if errors or household is None or self.visited_on.data is None:
            return None
        return VisitData(household=household, visited_on=self.visited_on.data, results=self.results,
                         member_ids=sorted(set(self.members.data or [])), note=self.note.data or "")

    def require_reason(self, correcting: bool) -> bool:
        """Province staff correcting a closed month give a reason; False (and the message) without one."""
        if correcting and not self.reason.data:
            self.reason.errors = list(self.reason.errors) + [gettext("Give the reason for the correction.")]
            return False
        return True

    def refuse_date(self, message: str) -> None:
        """The month of the visit's date is closed to this user: the message goes beside the date."""
        self.visited_on.errors = list(self.visited_on.errors) + [message]

    def start_new_household(self) -> None:
        """"A new household" chosen after a search: the name searched for becomes the head's name, so it
        is not typed twice (the page's script does the same without a round trip)."""
        if not self.new_name.data:
            self.new_name.data = (self.q.data or "")[:200]
        self.household_id.data = "new"

    def read_results(self, formdata, services) -> tuple[dict[int, str], dict[str, str], list[str]]:
        """The posted result per service: ({service_id: result}, {code: raw choice}, errors)."""
        by_code = {s.code: s for s in services}
        results, raw, errors = {}, {}, []
        for name in formdata:
            if not name.startswith(SERVICE_PREFIX):
                continue
            code, value = name[len(SERVICE_PREFIX):], formdata.get(name, "")
            raw[code] = value
            service = by_code.get(code)
            if service is None:
                errors.append(str(_l("“%(code)s” is not a service of the catalogue.", code=code[:40])))
            elif value not in RESULT_CHOICES:
                errors.append(str(_l("Choose not covered, guided or adopted for %(name)s.", name=service.name)))
            elif value != "none":
                results[service.id] = value
        return results, raw, errors

    def key_is_valid(self) -> bool:
        return bool(self.key.data and KEY_RE.fullmatch(self.key.data))
