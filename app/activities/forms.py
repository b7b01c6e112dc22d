"""The class form, the one-stop-centre shift form and the commune officer's monthly dossier total."""
import re
from datetime import date

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional

from app.activities.models import DOSSIERS_MAX, LEARNERS_MAX, SHIFT_MAX
from app.dates import MONTH_MESSAGE, month_as_written, parse_month
from app.forms import (
    AppForm,
    CountField,
    LocalDateField,
    NoControlCharacters,
    NotInFuture,
    PlainForm,
    record_id,
    strip_clean,
)
from app.households.forms import VnMobile
from app.rules import RuleError, below_zero
from app.rules import birth_year as birth_year_rule
from app.text import clean_lines
from app.visits.forms import KEY_RE, NoteLength, new_key  # noqa: F401  (new_key: the views' one source)

RESULT_PREFIX = "res-"
DOSSIER_PREFIX = "dos-"
# Empty learner rows the form offers (and adds by this many when asked).
LEARNER_ROWS = 5
LEARNER_ROWS_MAX = 200
LEARNER_FIELD_RE = re.compile(r"learners-(\d+)-")


def _note_filter(value):
    return clean_lines(value) if isinstance(value, str) else value


class BirthYear:
    def __call__(self, form, field):
        if field.data in (None, ""):
            field.data = None
            return
        try:
            field.data = birth_year_rule(field.data)
        except RuleError as exc:
            raise ValidationError(exc.message) from None


class LearnerForm(PlainForm):
    """One named learner (all optional: an empty row is skipped)."""

    # No Optional(): it would end the checks on an empty name, validate_name's among them, and a row
    # with only a phone typed would be dropped without a word.
    name = StringField(_l("Name"), filters=[strip_clean], validators=[Length(max=200), NoControlCharacters()])
    birth_year = StringField(_l("Year of birth"), filters=[strip_clean], validators=[BirthYear()])
    hamlet = SelectField(_l("Hamlet"), coerce=lambda v: int(v) if str(v).isdigit() else None,
                         validate_choice=False)
    phone = StringField(_l("Phone"), filters=[strip_clean], validators=[VnMobile()])

    def validate_name(self, field):
        if not field.data and (self.phone.data or self.birth_year.data):
            raise ValidationError(gettext("Enter the learner's name, or clear the row."))

    @property
    def filled(self) -> bool:
        return bool(self.name.data)


class ActivityForm(AppForm):
    """What classes and shifts share: the form key, the date, the members, a note, per-service counts."""

    key = HiddenField()
    # The class or shift as it was when its edit form was opened (app/versions.py); empty on a new one's form.
    version = HiddenField()
    held_on = LocalDateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), NotInFuture()])
    members = SelectMultipleField(_l("Members"), coerce=int, validate_choice=False)
    note = TextAreaField(_l("Note (optional)"), filters=[_note_filter], validators=[NoteLength()])

    def __init__(self, *args, earliest: date | None = None, member_ids=(), place_on=None, place=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The day the team began work (Team.visits_from) and the members who may be ticked.
        self.earliest = earliest
        self.member_ids = set(member_ids)
        # Where it was held: for a new one, the commune the team was in on its date (`place_on`, Team.commune_on);
        # for one corrected, its own commune (`place`). `held_in` once the date is checked.
        self.place_on, self.place = place_on, place
        self.held_in = place

    def key_is_valid(self) -> bool:
        return bool(self.key.data and KEY_RE.fullmatch(self.key.data))

    def validate_held_on(self, field):
        from app.templating import locale_date
        if field.data and self.earliest and field.data < self.earliest:
            raise ValidationError(gettext(
                "The team was founded on %(date)s: a class or shift cannot be dated earlier.",
                date=locale_date(self.earliest)))
        if not field.data:
            return
        # A commune a reorganization made held nothing before it existed: the team's classes and shifts of those
        # days were its old commune's (on today's map they count on its heir: app.units.history.commune_heirs).
        place = self.place_on(field.data) if self.place_on is not None else self.place
        if place is not None and place.valid_from is not None and field.data < place.valid_from:
            if self.place_on is not None:
                raise ValidationError(gettext(
                    "%(name)s exists from %(date)s and the team was in no other commune before it: a class or shift "
                    "cannot be dated earlier.", name=place.name, date=locale_date(place.valid_from)))
            raise ValidationError(gettext(
                "%(name)s exists from %(date)s: a class or shift held before that day belongs to the commune the team "
                "was in then. Delete this one and log it again with its date.", name=place.name,
                date=locale_date(place.valid_from)))
        self.held_in = place

    def validate_members(self, field):
        if not field.data:
            raise ValidationError(gettext("Tick at least one member who was there."))
        if not set(field.data) <= self.member_ids:
            raise ValidationError(gettext("Tick only members of the team."))

    @staticmethod
    def raw_counts(formdata, prefix: str) -> dict[str, str]:
        """The per-service counts as typed ({code: text}), to show them again."""
        return {name[len(prefix):]: (formdata.get(name) or "").strip() for name in formdata if name.startswith(prefix)}

    def read_counts(self, formdata, services, prefix: str, most: int, too_many) -> tuple[dict, dict, dict]:
        """Per-service counts posted as prefix+code: ({service_id: n>0}, {code: raw}, {code: error}); a count
        above `most` gets `too_many` (a lazy message with %(n)s for the most)."""
        by_code = {s.code: s for s in services}
        counts, raw, errors = {}, self.raw_counts(formdata, prefix), {}
        for code, value in raw.items():
            service = by_code.get(code)
            if service is None:
                errors[code] = gettext("“%(code)s” is not a service of the catalogue.", code=code[:40])
                continue
            if value == "":
                continue
            digits = value.replace(".", "").replace(" ", "")
            # isascii: '²' and '٣' pass isdigit, then int() refuses or misreads them.
            if below_zero(value):
                errors[code] = gettext("The number cannot be below 0.")
            elif not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
                errors[code] = gettext("Enter a whole number, e.g. 12.")
            elif int(digits) > most:
                errors[code] = str(too_many) % {"n": format_decimal(most)}
            elif int(digits) > 0:
                counts[service.id] = int(digits)
        return counts, raw, errors


class ClassForm(ActivityForm):
    place_hamlet = SelectField(_l("Hamlet"), coerce=lambda v: int(v) if str(v).isdigit() else None,
                               validate_choice=False)
    # No Optional(): validate_place_name must see an empty place (no hamlet chosen either).
    place_name = StringField(_l("Place (school, cultural house…)"), filters=[strip_clean],
                             validators=[Length(max=200), NoControlCharacters()])
    topics = SelectMultipleField(_l("Topics"), coerce=int, validate_choice=False)
    teams = SelectMultipleField(_l("Teams"), coerce=int, validate_choice=False)
    learners_total = CountField(_l("Learners"), max_value=LEARNERS_MAX,
                                validators=[InputRequired(_l("Enter how many learners came."))])
    age_15_17 = CountField(_l("Aged 15–17"), max_value=LEARNERS_MAX)
    age_18_59 = CountField(_l("Aged 18–59"), max_value=LEARNERS_MAX)
    age_60_plus = CountField(_l("Aged 60 and over"), max_value=LEARNERS_MAX)
    learners_female = CountField(_l("Women"), max_value=LEARNERS_MAX)
    learners_male = CountField(_l("Men"), max_value=LEARNERS_MAX)
    # No Optional() on the bands and sexes: it would stop the cross-checks below on an empty field.
    learners = FieldList(FormField(LearnerForm), min_entries=0, max_entries=LEARNER_ROWS_MAX)

    def __init__(self, *args, hamlet_ids=(), topic_ids=(), team_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.hamlet_ids, self.topic_ids, self.team_ids = set(hamlet_ids), set(topic_ids), set(team_ids)
        self.age_errors: list[str] = []  # the bands' sum against the total (check_age_bands)

    def process(self, formdata=None, *args, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        # FieldList reads the first max_entries rows posted and drops the others without a word; a
        # dropped row that holds something is refused in validate_learners instead.
        self.rows_dropped = False
        if formdata:
            rows: dict[int, bool] = {}
            for key in formdata:
                found = LEARNER_FIELD_RE.match(key)
                if found:
                    index = int(found.group(1))
                    rows[index] = rows.get(index, False) or any(v.strip() for v in formdata.getlist(key))
            beyond = sorted(rows)[LEARNER_ROWS_MAX:]
            self.rows_dropped = any(rows[i] for i in beyond)
        super().process(formdata, *args, **kwargs)

    def validate_place_hamlet(self, field):
        if field.data is not None and field.data not in self.hamlet_ids:
            raise ValidationError(gettext("Choose one of the commune's hamlets."))

    def validate_place_name(self, field):
        if self.place_hamlet.data is None and not field.data:
            raise ValidationError(gettext("Choose the hamlet, or write where the class was held."))

    def validate_topics(self, field):
        if not field.data:
            raise ValidationError(gettext("Tap at least one topic."))
        if not set(field.data) <= self.topic_ids:
            raise ValidationError(gettext("Choose topics from the list."))

    def validate_teams(self, field):
        if not field.data:
            raise ValidationError(gettext("Tick the team that taught."))
        if not set(field.data) <= self.team_ids:
            raise ValidationError(gettext("Choose teams of the commune."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.age_errors = self.check_age_bands()
        return ok and not self.age_errors

    def check_age_bands(self) -> list[str]:
        """The bands must add up to the learners counted (a band left empty counts as 0). The slip may be in any
        of the three, so the message belongs to the bands together (`age_errors`), not to the last box."""
        bands = (self.age_15_17, self.age_18_59, self.age_60_plus)
        total = self.learners_total.data
        if total is None or self.learners_total.errors or any(f.errors for f in bands):
            return []
        added = sum(f.data or 0 for f in bands)
        if added == total:
            return []
        return [gettext("The age bands add up to %(sum)s, but %(total)s learners came: they must add up to the total.",
                        sum=format_decimal(added), total=format_decimal(total))]

    def validate_learners_male(self, field):
        """Women and men: both empty (not recorded) or both given, adding up to the total."""
        total, female = self.learners_total.data, self.learners_female.data
        if total is None or self.learners_female.errors:
            return
        if female is None and field.data is None:
            return
        if female is None or field.data is None:
            raise ValidationError(gettext("Give both women and men, or leave both empty if not counted."))
        if female + field.data != total:
            raise ValidationError(gettext(
                "Women and men add up to %(sum)s, but %(total)s learners came.",
                sum=format_decimal(female + field.data), total=format_decimal(total)))

    def validate_learners(self, field):
        if self.rows_dropped:
            raise ValidationError(gettext("At most %(n)s named learners in one class.",
                                          n=format_decimal(LEARNER_ROWS_MAX)))
        named = sum(1 for row in field.entries if row.form.filled)
        if self.learners_total.data is not None and named > self.learners_total.data:
            raise ValidationError(gettext(
                "%(named)s learners are named but only %(total)s came.",
                named=format_decimal(named), total=format_decimal(self.learners_total.data)))
        for row in field.entries:
            hamlet = row.form.hamlet.data
            if hamlet is not None and hamlet not in self.hamlet_ids:
                row.form.hamlet.errors = list(row.form.hamlet.errors) + [
                    gettext("Choose one of the commune's hamlets.")]
                raise ValidationError(gettext("Correct the rows marked below."))


class ShiftForm(ActivityForm):
    commune = HiddenField()
    people_helped = CountField(_l("People helped"), max_value=SHIFT_MAX,
                               validators=[InputRequired(_l("Enter how many people the team helped."))])
    # The number of people the leader was asked to check and saves all the same (views.new_shift).
    confirm = HiddenField()

    def __init__(self, *args, commune_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.commune_ids = set(commune_ids)

    def read_dossiers(self, formdata, offered, catalogue) -> tuple[dict, dict, dict]:
        """The online dossiers per service, as read_counts reads them, for the services the form offers (those
        people file dossiers through, and any the shift already names). A count for another service of the
        catalogue is refused by its name; an empty box of it (a form kept on a phone from before) names nothing."""
        counts, raw, errors = self.read_counts(formdata, offered, DOSSIER_PREFIX, SHIFT_MAX,
                                               _l("At most %(n)s in one shift."))
        offered_codes = {s.code for s in offered}
        others = {s.code: s for s in catalogue if s.code not in offered_codes}
        for code in [c for c in errors if c in others]:
            if raw[code] == "":
                del errors[code]
            else:
                errors[code] = gettext("“%(name)s” is not a service people file dossiers through: a shift counts "
                                       "only the online dossiers of the services listed here.", name=others[code].name)
        return counts, raw, errors

    def validate_commune(self, field):
        # record_id, not str.isdigit: '²' passes isdigit and then breaks int().
        if record_id(field.data) not in self.commune_ids:
            raise ValidationError(gettext(
                "You can record shifts only at your own commune's one-stop centre."))


class DossierTotalForm(AppForm):
    month = StringField(_l("Month"), filters=[strip_clean, month_as_written],
                        validators=[InputRequired(_l("Choose the month."))])
    dossiers = CountField(_l("Dossiers the commune received"), max_value=DOSSIERS_MAX,
                          validators=[InputRequired(_l("Enter the number of dossiers."))])
    # The number the officer was asked to check and saves all the same (views.dossiers).
    confirm = HiddenField()
    # The month and its total as they were when the form was opened (app/versions.py).
    version = HiddenField()

    def __init__(self, *args, commune=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune = commune

    def validate_month(self, field):
        from app.dates import today_vn
        found = parse_month(field.data)
        if found is None or not 2000 <= found[0] <= 2100:
            raise ValidationError(str(MONTH_MESSAGE))
        today = today_vn()
        if found > (today.year, today.month):
            raise ValidationError(gettext("The month cannot be in the future."))
        # A commune a reorganization made has no total of its own before it existed: the old communes' totals of
        # those months count for it on today's map (app.units.history.commune_heirs), and would count twice.
        from app.templating import locale_date
        begun = self.commune.valid_from if self.commune is not None else None
        if begun is not None and found < (begun.year, begun.month):
            raise ValidationError(gettext(
                "%(name)s exists from %(date)s: the dossiers of earlier months are those of the old communes it was "
                "formed from, counted already.", name=self.commune.name, date=locale_date(begun)))
        # Nor an ended one from the month it ended: its totals of those months count for its heir on today's map.
        ended = self.commune.retired_on if self.commune is not None else None
        if ended is not None and found >= (ended.year, ended.month):
            raise ValidationError(gettext(
                "%(name)s no longer exists from %(date)s: the dossiers of that month and later are those of the new "
                "communes it went into.", name=self.commune.name, date=locale_date(ended)))

    @property
    def month_number(self) -> int:
        year, month = self.month.data.split("-")
        return int(year) * 100 + int(month)


class TopicForm(AppForm):
    name = StringField(_l("Topic"), filters=[strip_clean], validators=[
        InputRequired(_l("Enter the topic's name.")), Length(max=200), NoControlCharacters()])
    name_en = StringField(_l("Name in English (optional)"), filters=[strip_clean],
                          validators=[Optional(), Length(max=200), NoControlCharacters()])

    def __init__(self, *args, taken=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.taken = set(taken)  # folded names of the topics the province's classes already choose from

    def validate_name(self, field):
        from app.text import fold
        if fold(field.data) in self.taken:
            raise ValidationError(gettext("This topic is already in the list."))
