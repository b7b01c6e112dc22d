"""Forms for hamlets and household counts."""
import dataclasses
import hashlib
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import rules
from app.dates import today_vn
from app.forms import (
    AppForm,
    CountField,
    HasLetterOrDigit,
    LocalDateField,
    NotInFuture,
    PlainForm,
    record_id,
    strip_clean,
)
from app.households.names import telling_apart
from app.templating import locale_date
from app.text import fold
from app.units import hamlet_changes, reorganize
from app.units.models import AdminUnit
from app.units.operations import ended_by_change, find_child_by_name


class HamletForm(AppForm):
    name = StringField(_l("Hamlet name"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter the hamlet's name.")),
                                   Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters.")),
                                   HasLetterOrDigit()])
    households = CountField(_l("Households"), rule=rules.households, validators=[Optional()])
    effective_on = LocalDateField(_l("Counted on"), default=today_vn,
                                  validators=[Optional(), NotInFuture()])
    # The number the officer was asked to check and saves all the same (app/units/views.py, add_hamlet).
    confirm = HiddenField()


class RenameForm(AppForm):
    """A correction of the name, or (with a date) the commune's official renaming, kept in the history."""
    name = StringField(_l("Name"), filters=[strip_clean],
                       validators=[DataRequired(_l("Enter a name.")),
                                   Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters.")),
                                   HasLetterOrDigit()])
    effective_on = LocalDateField(_l("Renamed by decision from"), validators=[Optional()],
                                  description=_l("Leave empty to correct a spelling mistake."))
    # The name as it was when the form was opened (app/versions.py).
    version = HiddenField()

    def __init__(self, *args, hamlet=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.hamlet = hamlet

    def validate_name(self, field):
        problem = hamlet_name_problem(self.hamlet.parent, field.data or "", own_id=self.hamlet.id)
        if problem:
            raise ValidationError(problem)

    def validate_effective_on(self, field):
        if field.data is not None:
            problem = hamlet_changes.date_problem([self.hamlet], field.data, households=False)
            if problem:
                raise ValidationError(problem)


def _name_field(label, required=True):
    first = DataRequired(_l("Enter the hamlet's name.")) if required else Optional()
    return StringField(label, filters=[strip_clean],
                       validators=[first, Length(max=rules.NAME_MAX, message=_l("At most %(max)d characters.")),
                                   HasLetterOrDigit()])


def hamlet_name_problem(commune, name: str, own_id: int | None = None) -> str | None:
    """Why a hamlet added or renamed by hand may not take the name: an active hamlet of the commune bears
    it, or one retired by hand does (made active again, that one keeps its history). A hamlet that ended
    by a merge or a split leaves its name free, as a split's parts may take it."""
    clash = find_child_by_name(commune, name)
    if clash is None or clash.id == own_id:
        return None
    if clash.retired_on is None:
        return _("This commune already has a hamlet with this name.")
    if ended_by_change(clash):
        return None
    return _("%(name)s, retired on %(day)s, bears this name: make it active again on its page, or choose "
             "another name.", name=clash.name, day=locale_date(clash.retired_on))


def _name_taken(hamlet, name: str, allowed_ids=()) -> bool:
    """Another active hamlet of the commune bears the name (the changed hamlets themselves may keep it)."""
    clash = find_child_by_name(hamlet.parent, name)
    return clash is not None and clash.retired_on is None and clash.id not in (hamlet.id, *allowed_ids)


class ConfirmedChange(AppForm):
    """A hamlet change asked before it is done: the form's choices first come back as a summary, and only the
    summary's confirmation, carrying the key of the choices it showed, does the change."""
    confirm = HiddenField()

    def kept(self) -> list[tuple[str, str]]:
        """The choices as the summary carries them in hidden fields: a text as cleaned, a number or a date as typed
        (sent back, each reads as it did)."""
        return [(f.name, f._value() if hasattr(f, "_value") else ("" if f.data is None else str(f.data)))
                for f in self if f.type not in ("CSRFTokenField", "HiddenField")]

    def confirmation_key(self, summary) -> str:
        """The choices and what the summary says they will do, in one short string ("choices.effects"): a
        confirmation does the change only when both are still what its summary showed. A choice left empty counts
        as one not sent (the choice of a household registered since the summary)."""
        choices = [(name, value) for name, value in self.kept() if value]
        return f"{_digest(choices)}.{_digest(dataclasses.asdict(summary))}"

    def overtaken(self, key: str) -> bool:
        """The confirmation sent is of these very choices, but they would now do something else than its summary
        said: another officer changed the hamlets or their households meanwhile."""
        sent = self.confirm.data or ""
        return sent != key and sent.partition(".")[0] == key.partition(".")[0]


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


class MergeForm(ConfirmedChange):
    """Merge the hamlet the page is about into another hamlet of its commune, from a date."""
    target = SelectField(_l("Merge into"), validate_choice=False,
                         validators=[InputRequired(_l("Choose the hamlet it joins."))])
    effective_on = LocalDateField(_l("From"), validators=[InputRequired(_l("Enter the date."))])
    households = CountField(_l("Households of the merged hamlet from that date"), rule=rules.households,
                            validators=[Optional()],
                            description=_l("Leave empty to add up the two hamlets' counts."))
    new_name = _name_field(_l("New name of the merged hamlet (optional)"), required=False)

    def __init__(self, *args, hamlet, **kwargs):
        super().__init__(*args, **kwargs)
        self.hamlet = hamlet
        self.siblings = hamlet_changes.sibling_hamlets(hamlet)
        self.target.choices = ([SelectChoice(value="", label=_l("Choose a hamlet"))]
                               + [SelectChoice(value=str(h.id), label=h.name) for h in self.siblings])
        self.target_unit = None

    def validate_target(self, field):
        chosen = record_id(field.data)
        if chosen == self.hamlet.id:
            raise ValidationError(_l("A hamlet cannot be merged into itself."))
        self.target_unit = next((h for h in self.siblings if h.id == chosen), None)
        if self.target_unit is None:
            raise ValidationError(_l("Choose another active hamlet of this commune."))

    def validate_effective_on(self, field):
        if field.data is not None:
            problem = hamlet_changes.date_problem([self.hamlet, *filter(None, [self.target_unit])], field.data)
            if problem:
                raise ValidationError(problem)

    def validate_new_name(self, field):
        if field.data and _name_taken(self.hamlet, field.data, [self.target_unit.id] if self.target_unit else []):
            raise ValidationError(_l("This commune already has a hamlet with this name."))

    def merged_count(self) -> int | None:
        """The count typed, or the two counts added up."""
        if self.households.data is not None:
            return self.households.data
        return hamlet_changes.suggested_merge_count(self.hamlet, self.target_unit, self.effective_on.data)


PARTS = 3


def _part_choices(names=()):
    """A choice per new hamlet, under the name typed for it if any, else its number."""
    names = list(names) + [None] * PARTS
    return [SelectChoice(value=str(i + 1), label=names[i] or _l("New hamlet %(n)d", n=i + 1)) for i in range(PARTS)]


def split_form(hamlet, households):
    """The split form of this hamlet: up to three new hamlets, and a choice per household."""

    class SplitForm(ConfirmedChange):
        effective_on = LocalDateField(_l("From"), validators=[InputRequired(_l("Enter the date."))])
        rest = SelectField(_l("Every household not chosen below goes to"), validate_choice=False,
                           choices=[SelectChoice(value="", label=_l("— choose each one below —"))] + _part_choices())

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.hamlet = hamlet
            self.households = households
            self.assignment: dict[int, int] = {}
            # The choices say the names typed above them (a form sent back keeps them; split-names.js follows typing).
            parts = _part_choices(name.data for name, _count in self.part_fields())
            self.rest.choices = [self.rest.choices[0], *parts]
            for _household, field in self.household_fields():
                field.choices = [field.choices[0], *parts]

        def part_fields(self):
            return [(getattr(self, f"name_{i}"), getattr(self, f"count_{i}")) for i in range(1, PARTS + 1)]

        def household_fields(self):
            return [(h, getattr(self, f"h{h.id}")) for h in self.households]

        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            named = [i for i, (name, _c) in enumerate(self.part_fields()) if name.data]
            # Folded, as the commune's hamlets are told apart: "Ấp Mới" and "ấp mới" are one name.
            names = [fold(self.part_fields()[i][0].data) for i in named]
            for i, (name, count) in enumerate(self.part_fields()):
                if not name.data and count.data is not None:
                    # Else the count would be dropped with the unnamed hamlet, without a word.
                    name.errors.append(_l("Name new hamlet %(n)d, or clear its households.", n=i + 1))
                    ok = False
                elif name.data and _name_taken(self.hamlet, name.data):
                    name.errors.append(_l("This commune already has a hamlet with this name."))
                    ok = False
                elif name.data and names.count(fold(name.data)) > 1:
                    name.errors.append(_l("Give each new hamlet its own name."))
                    ok = False
            if len(named) < 2:
                self.name_2.errors.append(_l("A split makes at least two hamlets: name the second one."))
                ok = False
            rest = int(self.rest.data) - 1 if self.rest.data in ("1", "2", "3") else None
            unassigned = 0
            for household, field in self.household_fields():
                part = int(field.data) - 1 if field.data in ("1", "2", "3") else rest
                if part is None:
                    unassigned += 1
                elif part not in named:
                    field.errors.append(_l("Name new hamlet %(n)d first.", n=part + 1))
                    ok = False
                else:
                    self.assignment[household.id] = part
            if rest is not None and rest not in named:
                self.rest.errors.append(_l("Name new hamlet %(n)d first.", n=rest + 1))
                ok = False
            if unassigned:
                self.rest.errors.append(_l("%(n)d households are not assigned: choose a new hamlet for each, "
                                           "or one for all the others.", n=unassigned))
                ok = False
            return ok

        def validate_effective_on(self, field):
            if field.data is not None:
                problem = hamlet_changes.date_problem([self.hamlet], field.data)
                if problem:
                    raise ValidationError(problem)

        def parts(self) -> tuple[list[hamlet_changes.Part], dict[int, int]]:
            """The named parts with their counts (typed, or the old count shared by households
            assigned), and the assignment renumbered to them."""
            named = [i for i, (name, _c) in enumerate(self.part_fields()) if name.data]
            index = {old: new for new, old in enumerate(named)}
            assignment = {h: index[p] for h, p in self.assignment.items()}
            assigned = [sum(1 for p in assignment.values() if p == k) for k in range(len(named))]
            shares = hamlet_changes.suggested_split_counts(self.hamlet, self.effective_on.data, assigned)
            parts = []
            for k, i in enumerate(named):
                name, count = self.part_fields()[i]
                households = count.data if count.data is not None else (shares[k] if shares else 0)
                parts.append(hamlet_changes.Part(name.data, households))
            return parts, assignment

    for i in range(1, PARTS + 1):
        setattr(SplitForm, f"name_{i}", _name_field(_l("Name of new hamlet %(n)d", n=i), required=False))
        setattr(SplitForm, f"count_{i}", CountField(_l("Its households from that date"), rule=rules.households,
                                                    validators=[Optional()]))
    choices = [SelectChoice(value="", label=_l("—"))] + _part_choices()
    labels = telling_apart(households)  # two heads of the same name, told apart by address or phone
    for h in households:
        setattr(SplitForm, f"h{h.id}", SelectField(labels.get(h.id, h.display_name), choices=choices,
                                                   validate_choice=False))
    return SplitForm


class HouseholdCountForm(AppForm):
    households = CountField(_l("Households"), rule=rules.households,
                            validators=[InputRequired(_l("Enter the number of households."))])
    effective_on = LocalDateField(_l("In effect from"), default=today_vn,
                                  validators=[InputRequired(_l("Enter the date.")), NotInFuture()])
    # The number the officer was asked to check and saves all the same (app/units/views.py, _save_count).
    confirm = HiddenField()
    # The count in effect when the page was opened (app/versions.py).
    version = HiddenField()


class AdultCountForm(AppForm):
    adults = CountField(_l("Adults (aged 15 and over)"), rule=rules.adults,
                        validators=[InputRequired(_l("Enter the number of adults."))])
    effective_on = LocalDateField(_l("In effect from"), default=today_vn,
                                  validators=[InputRequired(_l("Enter the date.")), NotInFuture()])
    confirm = HiddenField()
    version = HiddenField()



class DraftPlanForm(PlainForm):
    """The day of the draft plan the reorganization page offers its province's staff (a GET form)."""
    on = LocalDateField(_l("Effective date of the plan"), validators=[InputRequired(_l("Enter the date."))])

    def __init__(self, province: AdminUnit, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.province = province

    def validate_on(self, field):
        if field.data is None:
            return
        try:
            reorganize.draft_province_code(self.province, field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class PlanUploadForm(AppForm):
    file = FileField(_l("Reorganization plan (Excel or CSV)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], _l("Upload an Excel file (.xlsx) or a CSV file (.csv)."))])
