"""Classes and one-stop-centre shifts (log, show, correct, delete), the commune's monthly dossier
total, and the team's work on one list: classes, shifts and visits together, newest first."""
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from app import rules, versions
from app.activities import operations as ops
from app.activities.forms import (
    DOSSIER_PREFIX,
    LEARNER_ROWS,
    RESULT_PREFIX,
    ClassForm,
    DossierTotalForm,
    ShiftForm,
    TopicForm,
    new_key,
)
from app.activities.models import LEARNERS_MAX, CentreShift, Class, CommuneDossierTotal, ShiftDossier, Topic
from app.activities.topics import add_topic, set_topic_active, topics_for
from app.audit.models import done_by
from app.auth.guard import require_sign_in
from app.catalogue import operations as catalogue
from app.dates import month_end, month_label, parse_month, today_vn
from app.extensions import db
from app.forms import record_id, summary_line
from app.paging import RowPage
from app.reports import closing
from app.scope import (
    FIELD_ROLES,
    can_edit_activity,
    can_edit_visit,
    can_keep_topics,
    can_log_activities,
    can_record_dossiers,
    classes_query,
    found_or_abort,
    get_class_or_404,
    get_shift_or_404,
    get_unit_or_404,
    requires,
    shifts_query,
    teams_query,
    visits_query,
    wide_visits_query,
)
from app.teams.models import Member, Membership, Team, TeamPlacement
from app.teams.names import member_choices, telling_apart
from app.text import sort_key
from app.units import operations as unit_ops
from app.units.history import commune_figures_note
from app.units.models import AdminUnit
from app.visits.models import Visit, visit_members

bp = Blueprint("activities", __name__, url_prefix="/activities")


require_sign_in(bp)


# --- what the forms need to know --------------------------------------------------------------

def _own_team() -> Team:
    """Classes and shifts are logged by the team that held them: the user's own."""
    return current_user.team


def _hamlets(commune: AdminUnit) -> list[AdminUnit]:
    return list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.level == "hamlet", AdminUnit.retired_on.is_(None))
        .order_by(AdminUnit.name_folded)))


def _teams(commune: AdminUnit, keep=()) -> list[Team]:
    """The commune's teams the user may read (a team sees only itself), and those the class names."""
    visible = teams_query().where(Team.commune_id == commune.id, Team.status == "active")
    return list(db.session.scalars(sa.select(Team).where(sa.or_(
        Team.id.in_(visible.with_only_columns(Team.id)), Team.id.in_(list(keep)))).order_by(Team.name_folded)))


def _members(team_ids, keep=()) -> list[Member]:
    """The current members of these teams, and any an entry being corrected already names."""
    return list(db.session.scalars(
        sa.select(Member).where(sa.or_(
            Member.id.in_(sa.select(Membership.member_id).where(Membership.team_id.in_(list(team_ids)),
                                                                Membership.left_on.is_(None))),
            Member.id.in_(list(keep))))
        .order_by(Member.name_folded)))


def _services(have=(), offered=None) -> list:
    """The services a form offers (`offered`, by default the active ones), and those the entry already names."""
    services = catalogue.active_services() if offered is None else offered
    ids = {s.id for s in services}
    return services + [s for s in have if s.id not in ids]


def _closed_message(commune: AdminUnit, day: date | None) -> str | None:
    """Closed months stay as reported (app.reports.closing), for classes and shifts as for visits."""
    if day is not None and closing.is_closed(commune, day):
        return _("Month %(month)s is closed: classes and shifts dated in it can no longer be added, changed or "
                 "deleted. Ask province staff if a correction is needed.", month=month_label(day.year, day.month))
    return None


def _already(endpoint: str, **args):
    flash(_("This was already recorded; here it is."), "info")
    return redirect(url_for(endpoint, **args), 303)


@dataclass(frozen=True)
class _Logged:
    """What differs between recording a class and a shift exactly once by the form's key."""
    model: type
    find_by_key: Callable
    matches: Callable
    create: Callable
    show: str
    id_arg: str
    recorded: Callable


def _record_once(kind: _Logged, form, read: Callable, render: Callable, ask: Callable | None = None):
    """Record the form's entry once per key, as a visit is: a key seen before shows its record if the content is
    the same, else a 409 with the input kept and a fresh key; a deleted record's key is never reused; two taps that
    race commit one record and show it to both. `read()` gives (data or None, raw counts, errors);
    `render(raw, errors, status, notice=None)` the form page; `ask(data)`, when given, puts a question beside a
    figure that looks like a slip and says whether it did (the form comes back, 409, its key kept). A closed month
    is the one of the commune it was held in (the team's then: ActivityForm.validate_held_on)."""
    ops.begin_write()  # from here to the commit, no other post of this form runs its checks
    existing = kind.find_by_key(form.key.data)
    deleted = ops.find_deleted_key(form.key.data) if existing is None else None
    data, raw, errors = read()

    def same_key(existing_id: int):
        if data is not None and kind.matches(db.session.get(kind.model, existing_id), data):
            return _already(kind.show, **{kind.id_arg: existing_id})
        form.key.data = new_key()
        return render(raw, errors, 409, notice={"kind": "other", kind.id_arg: existing_id})

    if existing is not None:
        return same_key(existing)
    if deleted is not None:
        form.key.data = new_key()
        return render(raw, errors, 409, notice={"kind": "deleted"})
    if data is None:
        return render(raw, errors, 400)
    closed = _closed_message(db.session.get(AdminUnit, data.commune_id), data.held_on)
    if closed:
        form.held_on.errors.append(closed)
        return render(raw, errors, 409)
    if ask is not None and ask(data):
        return render(raw, errors, 409)
    try:
        record = kind.create(data, form.key.data, user=current_user)
        db.session.commit()
    except IntegrityError:
        # Two taps raced: the other request recorded it first; show that one.
        db.session.rollback()
        existing = kind.find_by_key(form.key.data)
        if existing is None:
            raise
        return same_key(existing)
    flash(kind.recorded(), "success")
    return redirect(url_for(kind.show, **{kind.id_arg: record.id}), 303)


_CLASS = _Logged(Class, ops.find_class_by_key, ops.class_matches, ops.create_class, "activities.show_class",
                 "class_id", lambda: _("Class recorded."))
_SHIFT = _Logged(CentreShift, ops.find_shift_by_key, ops.shift_matches, ops.create_shift, "activities.show_shift",
                 "shift_id", lambda: _("Shift recorded."))


# --- classes ----------------------------------------------------------------------------------

@dataclass
class ClassPage:
    """What the class form is checked against and shows."""
    commune: AdminUnit
    team: Team | None
    hamlets: list
    teams: list
    members: list
    topics: list
    services: list

    @classmethod
    def of(cls, commune: AdminUnit, team: Team | None, klass: Class | None = None) -> "ClassPage":
        teams = _teams(commune, keep=[t.id for t in klass.teams] if klass else ())
        team_ids = [t.id for t in (klass.teams if klass else [team])]
        keep = [m.id for m in klass.members] if klass else []
        topics = topics_for(commune.province_id)
        if klass is not None:
            topics += [t for t in klass.topics if t not in topics]
        return cls(commune, team, _hamlets(commune), teams, _members(team_ids + ([team.id] if team else []), keep),
                   topics, _services([r.service for r in klass.results] if klass else ()))

    def form(self, earliest, **kwargs) -> ClassForm:
        # A new class was held where the team was on its date; one corrected stays in its own commune.
        where = dict(place_on=self.team.commune_on) if self.team is not None else dict(place=self.commune)
        form = ClassForm(earliest=earliest, member_ids=[m.id for m in self.members], **where,
                         hamlet_ids=[h.id for h in self.hamlets], topic_ids=[t.id for t in self.topics],
                         team_ids=[t.id for t in self.teams], **kwargs)
        self.set_choices(form)
        return form

    def set_choices(self, form: ClassForm) -> None:
        hamlets = [SelectChoice("", _("— the commune, or a place named below —"))] + [
            SelectChoice(h.id, h.name) for h in self.hamlets]
        form.place_hamlet.choices = hamlets
        form.topics.choices = [SelectChoice(t.id, t.label) for t in self.topics]
        form.teams.choices = [SelectChoice(t.id, t.name) for t in self.teams]
        form.members.choices = member_choices(self.members)
        for row in form.learners.entries:
            row.form.hamlet.choices = [SelectChoice("", "—")] + [SelectChoice(h.id, h.name) for h in self.hamlets]


def _class_data(form: ClassForm, commune: AdminUnit, results: dict) -> ops.ClassData:
    learners = [ops.Learner(name=row.form.name.data, birth_year=row.form.birth_year.data,
                            hamlet_id=row.form.hamlet.data, phone=row.form.phone.data or "")
                for row in form.learners.entries if row.form.filled]
    return ops.ClassData(
        commune_id=(form.held_in or commune).id, held_on=form.held_on.data, place_hamlet_id=form.place_hamlet.data,
        place_name=form.place_name.data or "", learners_total=form.learners_total.data,
        age_15_17=form.age_15_17.data or 0, age_18_59=form.age_18_59.data or 0,
        age_60_plus=form.age_60_plus.data or 0, learners_female=form.learners_female.data,
        learners_male=form.learners_male.data, topic_ids=sorted(set(form.topics.data)),
        team_ids=sorted(set(form.teams.data)), member_ids=sorted(set(form.members.data)), results=results,
        learners=learners, note=form.note.data or "")


def _count_errors(errors: dict, services, prefix: str, group: str) -> list[tuple[str, str]]:
    """The error summary's lines for per-service counts: each names its service and leads to its box (a code
    that is no service of the catalogue, to the group)."""
    names = {s.code: s.name for s in services}
    return [(f"{prefix}{code}", summary_line(names[code], [message])) if code in names else (group, message)
            for code, message in errors.items()]


def _render_class(page: ClassPage, form: ClassForm, raw: dict, errors: dict, status=200, klass=None,
                  notice=None):
    page.set_choices(form)
    summary = [(f.id, summary_line(f.label.text, f.errors)) for f in form if f.errors and f.name != "learners"]
    if form.age_errors:
        # The sum of the three bands: the line leads to the first of them, the message shows below all three.
        summary.append((form.age_15_17.id, summary_line(_("Age bands"), form.age_errors)))
    if form.learners.errors:
        summary.append(("learners", summary_line(_("Named learners"), [e for e in form.learners.errors
                                                                       if isinstance(e, str)]
                                                 or [_("Correct the rows marked below.")])))
    summary += _count_errors(errors, page.services, RESULT_PREFIX, "results")
    team = page.team or (klass.teams[0] if klass is not None and klass.teams else None)
    return render_template(
        "activities/class_form.html", form=form, page=page, klass=klass, raw=raw, errors=errors,
        summary=summary if status >= 400 else [], notice=notice, today=today_vn(),
        earliest=team.visits_from if team else None,
        held_before=_held_before(page.team) if klass is None else None), status


def _read_class(form: ClassForm, page: ClassPage):
    """(data or None, raw results, result errors) for a posted class form."""
    ok = form.validate()
    total = form.learners_total.data if not form.learners_total.errors else None
    results, raw, errors = form.read_counts(
        request.form, page.services, RESULT_PREFIX, LEARNERS_MAX if total is None else total,
        _l("At most %(n)s: no more than the learners who came."))
    data = _class_data(form, page.commune, results) if ok and not errors else None
    return data, raw, errors


def _more_rows(form: ClassForm) -> None:
    """Five more empty rows, up to the form's most (WTForms refuses an entry beyond it with an error)."""
    room = form.learners.max_entries - len(form.learners.entries)
    for _i in range(min(LEARNER_ROWS, room)):
        form.learners.append_entry()


@bp.route("/classes/new", methods=["GET", "POST"])
@requires(can_log_activities)
def new_class():
    team = _own_team()
    page = ClassPage.of(team.commune, team)
    if request.method == "GET":
        hamlets = [h for h in team.hamlets if h.retired_on is None]
        form = page.form(team.visits_from, formdata=None, key=new_key(), held_on=today_vn(), teams=[team.id],
                         members=[current_user.member_id] if current_user.member_id else [],
                         place_hamlet=hamlets[0].id if len(hamlets) == 1 else None)
        _more_rows(form)
        return _render_class(page, form, {}, {})
    form = page.form(team.visits_from)
    if not form.key_is_valid():
        abort(400)
    if request.form.get("more_learners") is not None:  # more rows for named learners, without JavaScript
        _more_rows(form)
        raw = form.raw_counts(request.form, RESULT_PREFIX)
        return _render_class(page, form, raw, {})
    return _record_once(_CLASS, form, lambda: _read_class(form, page),
                        lambda raw, errors, status, notice=None: _render_class(page, form, raw, errors, status,
                                                                              notice=notice))


def _names(members) -> list[str]:
    """The members' names as a page lists them, two of one name told apart."""
    labels = telling_apart(members)
    return [labels.get(m.id, m.full_name) for m in members]


def _may_change_class(klass: Class, user=None) -> bool:
    return can_edit_activity(klass, {t.id for t in klass.teams}, user)


@bp.get("/classes/<int:class_id>")
def show_class(class_id: int):
    klass = get_class_or_404(class_id)
    return render_template("activities/class_show.html", klass=klass, members=_names(klass.members),
                           may_edit=_may_change_class(klass),
                           may_log=can_log_activities(), closed=_closed_message(klass.commune, klass.held_on))


@bp.route("/classes/<int:class_id>/edit", methods=["GET", "POST"])
def edit_class(class_id: int):
    klass = get_class_or_404(class_id, need=_may_change_class)
    page = ClassPage.of(klass.commune, None, klass)
    earliest = min((t.visits_from for t in klass.teams if t.visits_from), default=None)
    if request.method == "GET":
        form = page.form(earliest, formdata=None, key=klass.key, **_class_fields(klass),
                         version=versions.version_of(_class_values(klass, page.services), "class", klass.id))
        _more_rows(form)
        raw = {r.service.code: str(r.learners) for r in klass.results}
        return _render_class(page, form, raw, {}, klass=klass)
    form = page.form(earliest)
    if request.form.get("more_learners") is not None:
        _more_rows(form)
        raw = form.raw_counts(request.form, RESULT_PREFIX)
        return _render_class(page, form, raw, {}, klass=klass)
    data, raw, errors = _read_class(form, page)
    if data is None:
        return _render_class(page, form, raw, errors, 400, klass=klass)
    return _save_edit(klass, form, data, lambda status: _render_class(page, form, raw, errors, status, klass=klass),
                      ops.update_class, _("Class updated."), url_for("activities.show_class", class_id=klass.id),
                      changed=("class", lambda: _class_values(klass, page.services),
                               lambda: _counts_changed(klass.results, "learners", data.results, page.services,
                                                       "result") | _learners_changed(klass, data)))


def _class_values(klass: Class, services) -> dict:
    """What a class's edit form holds, by its fields' names, and the result of each service it offers (`services`),
    `result-<service id>` (its version, app/versions.py)."""
    return _class_fields(klass) | versions.each_of("result", {r.service_id: r.learners for r in klass.results},
                                                   [s.id for s in services])


def _class_fields(klass: Class) -> dict:
    """What a class's edit form's fields hold, by their names."""
    return {"held_on": klass.held_on, "place_hamlet": klass.place_hamlet_id, "place_name": klass.place_name,
            "topics": sorted(t.id for t in klass.topics), "teams": sorted(t.id for t in klass.teams),
            "members": sorted(m.id for m in klass.members), "learners_total": klass.learners_total,
            "age_15_17": klass.age_15_17, "age_18_59": klass.age_18_59, "age_60_plus": klass.age_60_plus,
            "learners_female": klass.learners_female, "learners_male": klass.learners_male, "note": klass.note,
            "learners": [{"name": x.name, "birth_year": x.birth_year or "", "hamlet": x.hamlet_id,
                          "phone": x.phone or ""} for x in klass.learners]}


# At most this many learners are named in the notice of a change made meanwhile, on each side.
NAMED_IN_NOTICE = 5


def _learners_changed(klass: Class, data: ops.ClassData) -> dict:
    """Where the class's named learners differ from those sent: how many each list holds, who is in one and not in the
    other (by name and year of birth), and, once, on the side of the list now, who is in both with another hamlet or
    phone, else None."""
    now = Counter((x.name, x.birth_year, x.hamlet_id, x.phone or "") for x in klass.learners)
    sent = Counter((x.name, x.birth_year, x.hamlet_id, x.phone or "") for x in data.learners)
    if now == sent:
        return {"learners": None}
    only_now, only_sent, changed = _learners_apart(now - sent, sent - now)
    now_side = [_("%(count)s; not in yours: %(names)s", count=_learner_count(now), names=_learner_names(only_now))
                if only_now else _learner_count(now)]
    if changed:
        now_side.append(_changed_learners(changed))
    return {"learners": (
        _("Named learners"), "; ".join(now_side),
        _("%(count)s; not there now: %(names)s", count=_learner_count(sent), names=_learner_names(only_sent))
        if only_sent else _learner_count(sent))}


def _learners_apart(only_now: Counter, only_sent: Counter) -> tuple[Counter, Counter, list[tuple]]:
    """The learners in one list and not the other, less those of one name and year of birth on both sides (a hamlet
    or phone corrected), which are paired: (only now, only sent, [(the learner now, as sent)])."""
    now_left, sent_left, pairs = Counter(only_now), Counter(only_sent), []
    for learner in sorted(only_now.elements(), key=_learner_order):
        same = next((x for x in sorted(sent_left.elements(), key=_learner_order) if x[:2] == learner[:2]), None)
        if same is not None:
            pairs.append((learner, same))
            now_left[learner] -= 1
            sent_left[same] -= 1
    return +now_left, +sent_left, pairs


def _changed_learners(pairs: list[tuple]) -> str:
    """"Trần Văn Bình (1958): phone changed", a few of them (a notice, not the list)."""
    said = []
    for (name, year, hamlet, phone), (_n, _y, hamlet_sent, phone_sent) in pairs[:NAMED_IN_NOTICE]:
        who = _learner_name(name, year)
        if hamlet != hamlet_sent and phone != phone_sent:
            said.append(_("%(name)s: hamlet and phone changed", name=who))
        elif hamlet != hamlet_sent:
            said.append(_("%(name)s: hamlet changed", name=who))
        else:
            said.append(_("%(name)s: phone changed", name=who))
    shown = "; ".join(said)
    if len(pairs) > NAMED_IN_NOTICE:
        return _("%(names)s and %(count)s more", names=shown, count=format_decimal(len(pairs) - NAMED_IN_NOTICE))
    return shown


def _learner_count(learners: Counter) -> str:
    return ngettext("%(count)s learner", "%(count)s learners", learners.total(),
                    count=format_decimal(learners.total()))


def _learner_name(name: str, year: int | None) -> str:
    return f"{name} ({year})" if year else name


def _learner_order(learner: tuple) -> tuple:
    """Learners (name, year of birth, hamlet, phone) by name, then year of birth, as the lists are read."""
    name, year, hamlet, phone = learner
    return sort_key(name), year or 0, hamlet or 0, phone


def _learner_names(learners: Counter) -> str:
    """The learners by name and year of birth, the first few of them (a notice, not the list)."""
    ordered = sorted(learners.elements(), key=_learner_order)
    names = [_learner_name(name, year) for name, year, _hamlet, _phone in ordered]
    shown = ", ".join(names[:NAMED_IN_NOTICE])
    if len(names) > NAMED_IN_NOTICE:
        return _("%(names)s and %(count)s more", names=shown, count=format_decimal(len(names) - NAMED_IN_NOTICE))
    return shown


def _counts_changed(rows, attr: str, sent: dict[int, int], services, name: str) -> dict:
    """Where a class's results or a shift's dossiers (`rows`, their figure in `attr`) differ from those sent, per
    service: (its name, now, sent), else None, by the name of its value in the form's version (`name-<service id>`)."""
    now = {r.service_id: getattr(r, attr) for r in rows}
    names = {s.id: s.name for s in services} | {r.service_id: r.service.name for r in rows}
    return {f"{name}-{i}": (label, format_decimal(now.get(i, 0)), format_decimal(sent.get(i, 0)))
            if now.get(i, 0) != sent.get(i, 0) else None for i, label in names.items()}


def _save_edit(record, form, data, render, update, done: str, show: str, ask: Callable | None = None,
               changed: tuple | None = None):
    """Save an edited class or shift, unless the month it was in or is moved to is closed (then 409), it changed since
    its form was opened (`changed`: its audit record type, its values and the differences of its per-service figures,
    as for app.versions.overtaken; then 409) or `ask(data)` put a question beside a figure (as in _record_once)."""
    closed = _closed_message(record.commune, record.held_on) or _closed_message(record.commune, data.held_on)
    if closed:
        form.held_on.errors.append(closed)
        return render(409)
    if changed is not None:
        record_type, values, more_rows = changed
        if versions.overtaken(form, record, values, record_type, more_rows=more_rows):
            return render(409)
    if ask is not None and ask(data):
        return render(409)
    update(record, data, user=current_user)
    db.session.commit()
    flash(done, "success")
    return redirect(show, 303)


@bp.route("/classes/<int:class_id>/delete", methods=["GET", "POST"])
def delete_class(class_id: int):
    try:
        klass = get_class_or_404(class_id, need=_may_change_class)
    except NotFound:
        return _deleted_before("class", class_id, _("This class was already deleted."))
    what = _("Class on %(date)s, %(n)s learners.", date=_day(klass.held_on), n=klass.learners_total)
    return _delete_page(klass, what, ops.delete_class, _("Class deleted."),
                        url_for("activities.show_class", class_id=klass.id))


def _delete_page(record, what: str, delete, done: str, back: str):
    """Ask, then delete a class or shift, unless its month is closed (then 409 on the POST)."""
    closed = _closed_message(record.commune, record.held_on)
    if request.method == "POST" and not closed:
        delete(record, user=current_user)
        db.session.commit()
        flash(done, "success")
        return redirect(url_for("activities.index"), 303)
    status = 409 if closed and request.method == "POST" else 200
    return render_template("activities/delete.html", what=what, closed=closed, back=back), status


def _deleted_before(kind: str, record_id: int, message: str):
    """The delete confirmation sent again (back button, double tap) by the one who deleted the class or shift:
    back to the list with a word. Anything else not found stays a 404."""
    if request.method != "POST" or done_by(current_user, kind, record_id) is None:
        abort(404)
    flash(message, "info")
    return redirect(url_for("activities.index"), 303)


def _held_before(team: Team | None) -> TeamPlacement | None:
    """Where the team was until a reorganization moved it, if one did: the new class and shift forms say that one
    dated before then is recorded there (ActivityForm.validate_held_on), that commune's, kept as logged."""
    if team is None:
        return None
    from app.teams.operations import placements
    moved = placements(team)
    return moved[-1] if moved else None


def _day(value: date) -> str:
    from app.templating import locale_date
    return locale_date(value)


# --- shifts -----------------------------------------------------------------------------------

def _shift_form(team: Team, shift: CentreShift | None = None, **kwargs) -> tuple[ShiftForm, list, list]:
    keep = [m.id for m in shift.members] if shift else []
    members = _members([team.id] if team else [], keep)
    # Only the services people file dossiers through; a shift of before that named another keeps it on its form.
    services = _services([d.service for d in shift.dossiers] if shift else (), offered=catalogue.dossier_services())
    commune_ids = [shift.commune_id] if shift else [team.commune_id]
    # A new shift was held where the team was on its date; one corrected stays in its own commune.
    where = dict(place=shift.commune) if shift else dict(place_on=team.commune_on)
    form = ShiftForm(earliest=team.visits_from if team else None, member_ids=[m.id for m in members],
                     commune_ids=commune_ids, **where, **kwargs)
    form.members.choices = member_choices(members)
    return form, members, services


def _render_shift(form, team, services, raw, errors, status=200, shift=None, notice=None):
    summary = [(f.id, summary_line(f.label.text, f.errors)) for f in form if f.errors]
    summary += _count_errors(errors, services, DOSSIER_PREFIX, "dossiers")
    commune = shift.commune if shift else team.commune
    offered = {s.code for s in services}
    return render_template("activities/shift_form.html", form=form, team=team, shift=shift, commune=commune,
                           services=services, raw=raw, errors=errors, summary=summary if status >= 400 else [],
                           # a count for a service the form does not offer: said beside the group
                           group_errors=[message for code, message in errors.items() if code not in offered],
                           notice=notice, today=today_vn(), earliest=team.visits_from if team else None,
                           held_before=_held_before(team) if shift is None else None), status


def _read_shift(form: ShiftForm, team: Team | None, services):
    ok = form.validate()
    dossiers, raw, errors = form.read_dossiers(request.form, services, catalogue.all_services())
    data = None
    if ok and not errors:
        data = ops.ShiftData(commune_id=form.held_in.id if form.held_in else int(form.commune.data),
                             team_id=team.id if team else None,
                             held_on=form.held_on.data, people_helped=form.people_helped.data,
                             member_ids=sorted(set(form.members.data)), dossiers=dossiers, note=form.note.data or "")
    return data, raw, errors


def _usual_shift(team: Team | None, shift: CentreShift | None = None) -> int | None:
    """The team's usual shift: the median of the people its other shifts helped (above 0); None without any."""
    if team is None:
        return None
    query = sa.select(CentreShift.people_helped).where(CentreShift.team_id == team.id)
    if shift is not None:
        query = query.where(CentreShift.id != shift.id)
    return rules.usual(db.session.scalars(query))


def _unlikely_people(team: Team | None, data: ops.ShiftData, shift: CentreShift | None = None) -> str | None:
    """Why the people helped look like a slip (a digit typed twice), or None: ten times the team's usual shift or
    more, or with no shift to compare with more than `rules.SHIFT_PEOPLE_UNLIKELY`; or ten times the online
    dossiers counted or more (from `rules.SHIFT_PEOPLE_OVER_DOSSIERS_FROM` people)."""
    typed, usual = data.people_helped, _usual_shift(team, shift)
    again = _("To save it all the same, save it again.")
    if usual is not None and typed >= 10 * usual:
        return " ".join((_("%(typed)s people is far above the team's usual shift, about %(usual)s: check for a digit "
                           "typed twice.", typed=format_decimal(typed), usual=format_decimal(usual)), again))
    dossiers = sum(data.dossiers.values())
    if dossiers and typed >= 10 * dossiers and typed >= rules.SHIFT_PEOPLE_OVER_DOSSIERS_FROM:
        return " ".join((_("%(typed)s people helped, but only %(dossiers)s dossiers filed online: check for a digit "
                           "typed twice.", typed=format_decimal(typed), dossiers=format_decimal(dossiers)), again))
    if usual is None and typed > rules.SHIFT_PEOPLE_UNLIKELY:
        return " ".join((_("%(typed)s people is a lot for one shift, which usually helps a few dozen: check for a "
                           "digit typed twice.", typed=format_decimal(typed)), again))
    return None


def _ask_people(form: ShiftForm, team: Team | None, shift: CentreShift | None = None) -> Callable:
    """`ask` for _record_once and _save_edit: the people helped are asked about once; the same number sent again
    (the hidden `confirm`), or an edit that keeps the number, is saved."""
    def ask(data: ops.ShiftData) -> bool:
        if form.confirm.data == str(data.people_helped) or (shift and shift.people_helped == data.people_helped):
            return False
        question = _unlikely_people(team, data, shift)
        if question:
            form.people_helped.errors = list(form.people_helped.errors) + [question]
            form.confirm.data = str(data.people_helped)
        return bool(question)
    return ask


@bp.route("/shifts/new", methods=["GET", "POST"])
@requires(can_log_activities)
def new_shift():
    team = _own_team()
    if request.method == "GET":
        form, _members_, services = _shift_form(
            team, formdata=None, key=new_key(), held_on=today_vn(), commune=str(team.commune_id),
            members=[current_user.member_id] if current_user.member_id else [])
        return _render_shift(form, team, services, {}, {})
    form, _members_, services = _shift_form(team)
    if not form.key_is_valid():
        abort(400)
    return _record_once(_SHIFT, form, lambda: _read_shift(form, team, services),
                        lambda raw, errors, status, notice=None: _render_shift(form, team, services, raw, errors,
                                                                              status, notice=notice),
                        ask=_ask_people(form, team))


def _may_change_shift(shift: CentreShift, user=None) -> bool:
    return can_edit_activity(shift, {shift.team_id} - {None}, user)


@bp.get("/shifts/<int:shift_id>")
def show_shift(shift_id: int):
    shift = get_shift_or_404(shift_id)
    return render_template("activities/shift_show.html", shift=shift, members=_names(shift.members),
                           may_edit=_may_change_shift(shift),
                           may_log=can_log_activities(), closed=_closed_message(shift.commune, shift.held_on))


@bp.route("/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
def edit_shift(shift_id: int):
    shift = get_shift_or_404(shift_id, need=_may_change_shift)
    team = shift.team
    if request.method == "GET":
        form, _members_, services = _shift_form(team, shift, formdata=None, key=shift.key, **_shift_fields(shift))
        form.version.data = versions.version_of(_shift_values(shift, services), "shift", shift.id)
        raw = {d.service.code: str(d.dossiers) for d in shift.dossiers}
        return _render_shift(form, team, services, raw, {}, shift=shift)
    form, _members_, services = _shift_form(team, shift)
    data, raw, errors = _read_shift(form, team, services)
    if data is None:
        return _render_shift(form, team, services, raw, errors, 400, shift=shift)
    return _save_edit(shift, form, data, lambda status: _render_shift(form, team, services, raw, errors, status,
                                                                      shift=shift),
                      ops.update_shift, _("Shift updated."), url_for("activities.show_shift", shift_id=shift.id),
                      ask=_ask_people(form, team, shift),
                      changed=("shift", lambda: _shift_values(shift, services),
                               lambda: _counts_changed(shift.dossiers, "dossiers", data.dossiers, services,
                                                       "dossiers")))


def _shift_values(shift: CentreShift, services) -> dict:
    """What a shift's edit form holds, by its fields' names, and the dossiers of each service it offers (`services`),
    `dossiers-<service id>` (its version, app/versions.py)."""
    return _shift_fields(shift) | versions.each_of("dossiers", {d.service_id: d.dossiers for d in shift.dossiers},
                                                   [s.id for s in services])


def _shift_fields(shift: CentreShift) -> dict:
    """What a shift's edit form's fields hold, by their names."""
    return {"held_on": shift.held_on, "commune": str(shift.commune_id), "members": sorted(m.id for m in shift.members),
            "people_helped": shift.people_helped, "note": shift.note}


@bp.route("/shifts/<int:shift_id>/delete", methods=["GET", "POST"])
def delete_shift(shift_id: int):
    try:
        shift = get_shift_or_404(shift_id, need=_may_change_shift)
    except NotFound:
        return _deleted_before("shift", shift_id, _("This shift was already deleted."))
    what = _("Shift on %(date)s, %(n)s people helped.", date=_day(shift.held_on), n=shift.people_helped)
    return _delete_page(shift, what, ops.delete_shift, _("Shift deleted."),
                        url_for("activities.show_shift", shift_id=shift.id))


# --- the commune's dossiers of a month ----------------------------------------------------------

def _months_back(today: date, n: int) -> list[int]:
    out, year, month = [], today.year, today.month
    for _i in range(n):
        out.append(year * 100 + month)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _dossier_rows(commune: AdminUnit) -> list[dict]:
    """The last 12 months: the commune's total, the dossiers filed online with the teams' help, the share."""
    months = _months_back(today_vn(), 12)
    totals = dict(db.session.execute(sa.select(CommuneDossierTotal.month, CommuneDossierTotal.dossiers).where(
        CommuneDossierTotal.commune_id == commune.id, CommuneDossierTotal.month.in_(months))).all())
    helped = _helped_by_month(commune, date(months[-1] // 100, months[-1] % 100, 1), today_vn())
    return [{"month": m, "label": month_label(m // 100, m % 100), "total": totals.get(m),
             "helped": helped.get(m, 0),
             "share": (helped.get(m, 0) / totals[m]) if totals.get(m) else None} for m in months]


def _helped_by_month(commune: AdminUnit, first: date, last: date) -> dict[int, int]:
    """The dossiers the teams helped file online at the commune's one-stop centre, by month (yyyymm), from `first`
    to `last`."""
    helped: dict[int, int] = {}
    for held_on, n in db.session.execute(
            sa.select(CentreShift.held_on, sa.func.sum(ShiftDossier.dossiers))
            .join(ShiftDossier, ShiftDossier.shift_id == CentreShift.id)
            .where(CentreShift.commune_id == commune.id, CentreShift.held_on.between(first, last))
            .group_by(CentreShift.held_on)):
        key = held_on.year * 100 + held_on.month
        helped[key] = helped.get(key, 0) + int(n or 0)
    return helped


def _helped_in_month(commune: AdminUnit, month: int) -> int:
    first = date(month // 100, month % 100, 1)
    return _helped_by_month(commune, first, month_end(first.year, first.month)).get(month, 0)


def _total_of(commune: AdminUnit, month: int) -> int | None:
    return db.session.scalar(sa.select(CommuneDossierTotal.dossiers).where(
        CommuneDossierTotal.commune_id == commune.id, CommuneDossierTotal.month == month))


def _total_id(commune: AdminUnit, month: int) -> int | None:
    return db.session.scalar(sa.select(CommuneDossierTotal.id).where(
        CommuneDossierTotal.commune_id == commune.id, CommuneDossierTotal.month == month))


# The audit events of a change to a month's dossier total.
DOSSIER_EDITS = ("create", "update")


def _dossier_values(commune: AdminUnit, month: int) -> dict:
    """What the dossier form holds for a month, by its fields' names (its version, app/versions.py)."""
    return {"month": f"{month // 100:04d}-{month % 100:02d}", "dossiers": _total_of(commune, month)}


def _total_changed_meanwhile(form: DossierTotalForm, commune: AdminUnit, month: int) -> bool:
    """Whether the month's total changed since the form was opened on it (then the form carries the notice, and the
    month's version, so that sending it again saves it). A month typed in the form, not the one it opened on, was
    not seen: saving replaces its total, as the message after it says; nor is anything lost where none is recorded."""
    versions.hold(commune)
    values = _dossier_values(commune, month)
    if values["dossiers"] is None or "month" in (versions.changed_since(form.version.data or "", values) or ()):
        return False
    return versions.changed_meanwhile(form, values, "dossier_total", _total_id(commune, month) or 0,
                                      DOSSIER_EDITS) is not None


def _total_before(commune: AdminUnit, month: int) -> tuple[int, int] | None:
    """The latest month before `month` (yyyymm) with a total recorded, and that total."""
    row = db.session.execute(sa.select(CommuneDossierTotal.month, CommuneDossierTotal.dossiers).where(
        CommuneDossierTotal.commune_id == commune.id, CommuneDossierTotal.month < month)
        .order_by(CommuneDossierTotal.month.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def _unlikely_dossiers(commune: AdminUnit, month: int, typed: int) -> str | None:
    """Why a month's total looks like a slip, or None: fewer than the teams alone helped file online (the share
    would pass 100 %), or ten times the total of the month before or a tenth of it (`rules.slip_of_a_digit`)."""
    label = month_label(month // 100, month % 100)
    helped = _helped_in_month(commune, month)
    if typed < helped:
        return _("In %(month)s the teams helped file %(helped)s dossiers online at the one-stop centre, more "
                 "than %(typed)s: the share filed online would pass 100%%. Check the number; to save it all "
                 "the same, save it again.", month=label, helped=format_decimal(helped),
                 typed=format_decimal(typed))
    before = _total_before(commune, month)
    if before is not None and rules.slip_of_a_digit(typed, before[1]):
        return _("%(typed)s is far from the total of %(month)s, %(before)s: check for a digit typed twice or left "
                 "out. To save it all the same, save it again.", typed=format_decimal(typed),
                 month=month_label(before[0] // 100, before[0] % 100), before=format_decimal(before[1]))
    return None


def _asked_month(today: date) -> int:
    """The month the form opens on: ?month=yyyy-mm (a row of the table) if it is one up to this one, else this one."""
    asked = parse_month(request.args.get("month"))
    if asked is not None and (2000, 1) <= asked <= (today.year, today.month):
        return asked[0] * 100 + asked[1]
    return today.year * 100 + today.month


@bp.route("/dossiers", methods=["GET", "POST"])
def dossiers():
    raw = request.values.get("commune")
    if raw is not None:
        commune = get_unit_or_404(record_id(raw) or 0, need=can_record_dossiers)
    else:
        commune = found_or_abort(current_user.unit or None, need=can_record_dossiers)
    status = 200
    if request.method == "POST":
        form = DossierTotalForm(commune=commune)
        if form.validate():
            month, typed = form.month_number, form.dossiers.data
            label = month_label(month // 100, month % 100)
            question = None if form.confirm.data == str(typed) else _unlikely_dossiers(commune, month, typed)
            if _total_changed_meanwhile(form, commune, month):
                status = 409
            elif question:
                # Asked once; the same number sent again is saved.
                form.dossiers.errors.append(question)
                form.confirm.data = str(typed)
                status = 409
            else:
                before = _total_of(commune, month)
                ops.set_dossier_total(commune, month, typed, user=current_user)
                db.session.commit()
                if before is not None and before != typed:
                    flash(_("Dossiers of %(month)s recorded: %(n)s, replacing %(before)s.", month=label,
                            n=format_decimal(typed), before=format_decimal(before)), "success")
                else:
                    flash(_("Dossiers of %(month)s recorded.", month=label), "success")
                # Back on the month just saved, with its total: what was done is what the form shows.
                return redirect(url_for("activities.dossiers", commune=commune.id if raw else None,
                                        month=form.month.data), 303)
        else:
            status = 400
    else:
        # The form opens on a month with its total as recorded: saving over it is then a choice, not a slip.
        month = _asked_month(today_vn())
        values = _dossier_values(commune, month)
        form = DossierTotalForm(formdata=None, **values, version=versions.version_of(
            values, "dossier_total", _total_id(commune, month) or 0, DOSSIER_EDITS))
    return render_template("activities/dossiers.html", form=form, commune=commune, rows=_dossier_rows(commune),
                           commune_arg=commune.id if raw else None, **_figures_before(commune)), status


def _figures_before(commune: AdminUnit) -> dict:
    """For a commune a reorganization made: where its dossiers before it come from, and its coverage page's trend
    of the twelve months before, where they are shown (this page's months are its own)."""
    note = commune_figures_note(commune)
    if note is None:
        return {"figures_note": None, "figures_link": None}
    last = note.until.replace(day=1) - timedelta(days=1)
    return {"figures_note": note, "figures_link": url_for("coverage.show", unit_id=commune.id,
                                                          month=f"{last.year}-{last.month:02d}", trend=1) + "#trend"}


# --- the province's list of topics -------------------------------------------------------------

@bp.route("/topics", methods=["GET", "POST"])
@requires(can_keep_topics)
def topics():
    """Province staff keep the skills classes choose from: the default list, then their own."""
    province_id = current_user.unit.province_id
    if request.method == "POST":
        unit_ops.lock_unit(province_id)  # a topic sent twice at once is added once (its code is unique)
    listed = list(db.session.scalars(sa.select(Topic).where(
        sa.or_(Topic.province_id.is_(None), Topic.province_id == province_id))
        .order_by(Topic.province_id.is_not(None), Topic.position, Topic.id)))
    from app.text import fold
    form = TopicForm(taken=[fold(t.name) for t in listed])
    status = 200
    if request.method == "POST":
        toggle = record_id(request.form.get("toggle"))
        if toggle is not None:
            topic = next((t for t in listed if t.id == toggle and t.province_id == province_id), None)
            if topic is None:
                abort(404)
            set_topic_active(topic, not topic.active, user=current_user)
            db.session.commit()
            return redirect(url_for("activities.topics"), 303)
        if form.validate():
            add_topic(province_id, form.name.data, form.name_en.data or "", user=current_user)
            db.session.commit()
            flash(_("Topic added."), "success")
            return redirect(url_for("activities.topics"), 303)
        status = 400
    return render_template("activities/topics.html", form=form, topics=listed, province_id=province_id), status


# --- the team's work on one list ----------------------------------------------------------------

@dataclass
class Entry:
    kind: str            # "class", "shift" or "visit"
    day: date
    created_at: object
    title: str
    meta: str
    url: str
    edit_url: str | None
    delete_url: str | None


KINDS = ("class", "shift", "visit")
PAGE_SIZE = 30
# The list goes back this many entries of each kind: a team's years of work, where a province's staff
# would count millions (3 M visits on the province seed: counting them cost 250 ms a page). The monthly
# report counts them all.
LISTED_MAX = 3000


def _work_queries() -> tuple[dict[str, sa.Select], str]:
    """What the user's list holds of each kind (the team's for its leader, one's own for a member and
    what they took part in, the area's for staff), and the list's heading."""
    role = current_user.role
    queries = {"class": classes_query(), "shift": shifts_query(), "visit": visits_query()}
    if role == "team_leader":
        queries["visit"] = queries["visit"].where(Visit.team_id == current_user.team_id)
        return queries, _("Your team's work")
    if role == "team_member":
        from app.activities.models import class_members, shift_members
        me = current_user.member_id or -1
        queries["class"] = queries["class"].where(sa.or_(Class.created_by_id == current_user.id, Class.id.in_(
            sa.select(class_members.c.class_id).where(class_members.c.member_id == me))))
        queries["shift"] = queries["shift"].where(sa.or_(
            CentreShift.created_by_id == current_user.id, CentreShift.id.in_(
                sa.select(shift_members.c.shift_id).where(shift_members.c.member_id == me))))
        queries["visit"] = queries["visit"].where(sa.or_(Visit.author_id == current_user.id, Visit.id.in_(
            sa.select(visit_members.c.visit_id).where(visit_members.c.member_id == me))))
        return queries, _("Your work")
    return queries, _("Work in your area")


# Each kind's day and id, the list's order: newest day first, then the last logged.
_ORDER = {"class": (Class.held_on, Class.created_at, Class.id),
          "shift": (CentreShift.held_on, CentreShift.created_at, CentreShift.id),
          "visit": (Visit.visited_on, Visit.created_at, Visit.id)}


def _page_of_work(queries: dict[str, sa.Select], kinds: tuple[str, ...], page: RowPage) -> list[tuple[str, int]]:
    """The (kind, id) of the page's entries, in the list's order: each kind's first rows up to the page's
    end (day, time and id only), merged, and the page cut from them."""
    keys = []
    for kind in kinds:
        day, created, ident = _ORDER[kind]
        q = queries[kind].with_only_columns(day, created, ident).order_by(
            day.desc(), created.desc().nulls_last(), ident.desc())
        keys += [(d, c, kind, i) for d, c, i in db.session.execute(q.limit(min(page.stop, LISTED_MAX)))]
    # A row written without its time (by hand in SQL) comes after those of its day that have one, as above.
    keys.sort(key=lambda k: (k[0], k[1] is not None, k[1] or 0, -KINDS.index(k[2]), k[3]), reverse=True)
    return [(kind, ident) for _d, _c, kind, ident in keys[page.start:page.stop]]


@bp.get("/")
def index():
    """Classes, shifts and visits together, newest first, a page at a time; one kind alone with `kind`."""
    queries, heading = _work_queries()
    kind = request.args.get("kind")
    kind = kind if kind in KINDS else None
    counts = {k: db.session.scalar(sa.select(sa.func.count()).select_from(
        q.with_only_columns(_ORDER[k][2]).order_by(None).limit(LISTED_MAX + 1).subquery())) for k, q in queries.items()}
    more = {k for k, n in counts.items() if n > LISTED_MAX}  # shown as "3.000+"
    counts = {k: min(n, LISTED_MAX) for k, n in counts.items()}
    if "visit" in more and current_user.role not in FIELD_ROLES:
        queries["visit"] = wide_visits_query()  # the same visits, read newest first by their date
    kinds = (kind,) if kind else KINDS
    page = RowPage.asked(sum(counts[k] for k in kinds), request.args.get("page"), size=PAGE_SIZE)
    chosen = _page_of_work(queries, kinds, page)
    ids = {k: [i for kk, i in chosen if kk == k] for k in KINDS}

    from app.reports.models import MonthClosure
    # Closures are a few rows per province and year: read once, not once per entry.
    closed_months = set(db.session.execute(sa.select(MonthClosure.province_id, MonthClosure.year,
                                                     MonthClosure.month)).all())

    def closed(unit, day):
        return (unit.province_id, day.year, day.month) in closed_months

    entries: dict[tuple[str, int], Entry] = {}
    if ids["class"]:
        for k in db.session.scalars(sa.select(Class).where(Class.id.in_(ids["class"])).options(
                sa.orm.selectinload(Class.teams), sa.orm.selectinload(Class.topics),
                sa.orm.selectinload(Class.commune))):
            may = _may_change_class(k) and not closed(k.commune, k.held_on)
            entries["class", k.id] = Entry(
                "class", k.held_on, k.created_at,
                _("Class: %(n)s learners", n=k.learners_total),
                # One held in a commune since ended (listed to the commune that took it in, or its team) says which.
                " · ".join(filter(None, (", ".join(t.label for t in k.topics),
                                         k.commune.name if k.commune.retired_on else None))),
                url_for("activities.show_class", class_id=k.id),
                url_for("activities.edit_class", class_id=k.id) if may else None,
                url_for("activities.delete_class", class_id=k.id) if may else None)
    if ids["shift"]:
        for s in db.session.scalars(sa.select(CentreShift).where(CentreShift.id.in_(ids["shift"])).options(
                sa.orm.selectinload(CentreShift.dossiers), sa.orm.selectinload(CentreShift.commune))):
            may = _may_change_shift(s) and not closed(s.commune, s.held_on)
            entries["shift", s.id] = Entry(
                "shift", s.held_on, s.created_at,
                _("One-stop-centre shift: %(n)s people helped", n=s.people_helped),
                # One held in a commune since ended (listed to the commune that took it in, or its team) says which.
                _("%(n)s online dossiers", n=s.dossiers_total)
                + (f" · {s.commune.name}" if s.commune.retired_on else ""),
                url_for("activities.show_shift", shift_id=s.id),
                url_for("activities.edit_shift", shift_id=s.id) if may else None,
                url_for("activities.delete_shift", shift_id=s.id) if may else None)
    if ids["visit"]:
        for v in db.session.scalars(sa.select(Visit).where(Visit.id.in_(ids["visit"])).options(
                sa.orm.selectinload(Visit.household), sa.orm.selectinload(Visit.hamlet))):
            may = can_edit_visit(v) and not closed(v.hamlet, v.visited_on)
            entries["visit", v.id] = Entry(
                "visit", v.visited_on, v.created_at,
                _("Visit: %(name)s", name=v.household.display_name), v.hamlet.name,
                url_for("visits.show", visit_id=v.id),
                url_for("visits.edit", visit_id=v.id) if may else None,
                url_for("visits.delete", visit_id=v.id) if may else None)

    def page_url(n: int) -> str:
        return url_for("activities.index", kind=kind, page=n if n > 1 else None)
    shown = [entries[key] for key in chosen if key in entries]  # (one deleted in between is left out)
    return render_template("activities/index.html", entries=shown, heading=heading, may_log=can_log_activities(),
                           kind=kind, counts=counts, more=more, rows=page, page_url=page_url, listed_max=LISTED_MAX)
