"""The visit form (the field users' home screen), a visit's page, edit, delete and recent lists."""
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from app import versions
from app.auth.guard import require_sign_in
from app.catalogue import operations as catalogue
from app.dates import month_label, today_vn
from app.extensions import db
from app.forms import record_id, strip_clean, summary_line
from app.households import operations as registry
from app.households.models import Household
from app.reports import closing
from app.scope import (
    WIDE_ROLES,
    can_add_visits,
    can_edit_visit,
    can_log_visits,
    get_team_or_404,
    get_visit_or_404,
    households_query,
    requires,
    teams_query,
    visits_query,
    wide_visits_query,
)
from app.teams.models import Team, team_hamlets
from app.teams.names import member_choices
from app.text import clean
from app.visits.blank_services import blank_household, blank_services
from app.visits.forms import VisitForm, new_key
from app.visits.models import RESULTS, DeletedVisitKey, Visit, visit_members
from app.visits.operations import (
    VisitData,
    begin_visit_write,
    create_visit,
    delete_visit,
    find_by_key,
    find_by_key_and_recent,
    find_deleted_key,
    find_replay,
    lock_households,
    same_content,
    update_visit,
)
from app.visits.roster import TeamRoster
from app.visits.shown import get_shown_visit_or_404, listed_with

bp = Blueprint("visits", __name__, url_prefix="/visits")
require_sign_in(bp)


# --- the form's page ----------------------------------------------------------------------------

def _form_services(visit: Visit | None = None):
    """Active services, plus any a visit being edited already records."""
    services = catalogue.form_services()
    if visit is not None:
        have = {s.id for s in services}
        services += [vs.service for vs in visit.services if vs.service_id not in have]
    return services


def _label(form: VisitForm, field) -> str:
    # The household's id has no label of its own: the household's box is named on the page.
    return _("Household") if field is form.household_id else field.label.text


def _error_summary(form: VisitForm) -> list[tuple[str, str]]:
    """(anchor, message) for each field with an error, in the order of the page: the summary at the
    top of a refused form links to each (the messages stay beside the fields too)."""
    choices = form.members.choices or []
    first_member = f"m-{choices[0].value}" if choices else "q"
    anchors = [(form.visited_on, "visited_on"), (form.reason, "reason"), (form.household_id, "q"),
               (form.new_name, "new_name"), (form.new_address, "new_address"), (form.new_phone, "new_phone"),
               (form.new_size, "new_size"), (form.new_hamlet, "new_hamlet"), (form.members, first_member)]
    out = [(anchor, summary_line(_label(form, f), f.errors)) for f, anchor in anchors if f.errors]
    if form.service_errors:
        out.append(("services", summary_line(_("Services"), form.service_errors)))
    if form.note.errors:
        out.append(("note", summary_line(form.note.label.text, form.note.errors)))
    return out


def _correcting(form: VisitForm, team: Team | None, visit: Visit | None) -> bool:
    """Province staff at work on a closed month: the form asks for the reason."""
    unit = visit.hamlet if visit is not None else (team.commune if team is not None else None)
    if unit is None or not closing.may_override(unit, current_user):
        return False
    if visit is None and not can_log_visits():
        return True  # province staff add visits only to closed months
    return (closing.is_closed(unit, visit.visited_on if visit else None)
            or closing.is_closed(unit, form.visited_on.data))


def _set_choices(form: VisitForm, roster: TeamRoster, visit: Visit | None = None) -> None:
    """The choices only serve the page: the team's members and hamlets are checked by id."""
    form.new_hamlet.choices = [SelectChoice(h.id, h.name) for h in roster.hamlets]
    members = roster.members
    if visit is not None:
        current = {m.id for m in members}
        members += [m for m in visit.members if m.id not in current]
    form.members.choices = member_choices(members)


def visit_page_context(form: VisitForm, roster: TeamRoster, *, refused: bool, options=None,
                       selected: Household | None = None, key_notice: dict | None = None, q=None) -> dict:
    """What visits/form.html shows: the form (with its errors when `refused`), the team's hamlets,
    members and services, the households found (`options`) or the one chosen (`selected`)."""
    visit, team = form.visit, roster.team
    _set_choices(form, roster, visit)
    if options is None:
        options = [selected] if selected is not None else []
    services = catalogue.by_team_use(form.services, team.id if team is not None else None, today_vn())
    open_new = bool(form.new_name.data or form.household_id.data == "new" or form.new_name.errors
                    or form.new_phone.errors or form.new_size.errors)
    return dict(
        form=form, team=team, visit=visit, services=services,
        blank_services=None if form.chosen or form.service_errors else blank_services(services),
        chosen=form.chosen, errors=_error_summary(form) if refused else [],
        service_errors=list(form.service_errors), hamlets=roster.hamlets, members=roster.members,
        options=options, q=q, selected_id=str(selected.id) if selected is not None else form.household_id.data,
        correcting=_correcting(form, team, visit), key_notice=key_notice,
        action_team=team.id if team is not None and not can_log_visits() else None,
        duplicates=registry.duplicate_ids(options), earliest=roster.earliest, today=today_vn(),
        open_new=open_new,
        blank_household=blank_household(form, roster.hamlets) if _household_fields_blank(form, open_new) else None,
    )


def _household_fields_blank(form: VisitForm, open_new: bool) -> bool:
    """A new visit's form, opened (not posted) with its fields for a new household empty and folded."""
    return (request.method == "GET" and form.visit is None and not open_new
            and not any(f.data or f.errors for f in (form.new_name, form.new_address, form.new_phone,
                                                     form.new_size, form.new_hamlet)))


def _page(form: VisitForm, roster: TeamRoster, status: int = 200, **context):
    return render_template("visits/form.html", **visit_page_context(form, roster, refused=status >= 400,
                                                                     **context)), status


def _refused(form: VisitForm, roster: TeamRoster, status: int, **context):
    """The form again with its errors and the input, the household chosen still chosen."""
    return _page(form, roster, status, selected=_selected(form, roster), **context)


def _selected(form: VisitForm, roster: TeamRoster):
    if record_id(form.household_id.data) is not None:
        query, _ids = roster.households()
        return db.session.scalar(query.where(Household.id == record_id(form.household_id.data)))
    return None


def _without_javascript(form: VisitForm, roster: TeamRoster):
    """The form's own buttons for phones without JavaScript: the search (`find`) lists the households
    found; "add as a new household" (`add_new`) opens its fields. Nothing is saved."""
    form.read_services()
    if request.form.get("find") is not None:
        query, ids = roster.households()
        options = registry.search(query, form.q.data or "", ids, limit=20)
        return _page(form, roster, options=options, q=form.q.data)
    form.start_new_household()
    return _page(form, roster)


def _pressed_search_button() -> bool:
    return request.form.get("find") is not None or request.form.get("add_new") is not None


# --- a new visit, exactly once -------------------------------------------------------------------

def _already(visit_id: int):
    flash(_("This visit was already recorded; here it is."), "info")
    return redirect(url_for("visits.show", visit_id=visit_id), 303)


def _key_used(form: VisitForm, roster: TeamRoster, notice: dict):
    """This form's key already made a visit, and what was posted now is not that visit (or the visit
    was deleted since): nothing is saved; the form comes back with the input and a fresh key, so the
    user decides whether it is a new visit."""
    form.key.data = new_key()
    return _refused(form, roster, 409, key_notice=notice)


def _same_as(visit_id: int, data: VisitData, new: dict | None) -> bool:
    """Whether the visit this key made records what the form says now (a new household: by its
    head's name and hamlet, since the first post created it)."""
    if data.household is None and new is not None:
        from app.text import fold
        household = db.session.scalar(sa.select(Household).join(Visit, Visit.household_id == Household.id)
                                      .where(Visit.id == visit_id))
        if household is None or (household.hamlet_id, household.head_name_folded) != (
                new["hamlet_id"], fold(new["head_name"])):
            return False
        data = VisitData(household=household, visited_on=data.visited_on, results=data.results,
                         member_ids=data.member_ids, note=data.note)
    return same_content(visit_id, data)


def _earlier_posts(form: VisitForm):
    """Lock the household named (from here to the commit, no other post of it runs its checks), then
    look up what this form's key did before: (visit it made, recent visits of the household, deletion)."""
    named = record_id(form.household_id.data)
    begin_visit_write(named)
    if named is None:
        existing, recent = find_by_key(form.key.data), None
        return existing, recent, find_deleted_key(form.key.data) if existing is None else None
    return find_by_key_and_recent(form.key.data, named)


def _repeat(form: VisitForm, roster: TeamRoster, valid: bool, existing: int | None, deleted):
    """A form whose key was used: the visit it made if it says the same, else the key-used notice."""
    if existing is not None:
        posted = form.visit_data() if valid else form.as_posted()
        if posted is not None and _same_as(existing, posted, form.new_household()):
            return _already(existing)
        return _key_used(form, roster, {"kind": "other", "visit_id": existing})
    return _key_used(form, roster, {"kind": "deleted", "visit_id": deleted.visit_id,
                                    "household_id": deleted.household_id})


def _month_refusal(team: Team, visited_on, reason: str | None) -> str | None:
    """Why a new visit may not be dated in this month, if it may not: a closed month, or for province
    staff an open one (the team logs its own visits)."""
    closed = _closed_month_message(team.commune, visited_on, reason)
    if closed is None and not can_log_visits() and not closing.is_closed(team.commune, visited_on):
        closed = _("Month %(month)s is open: the team logs its own visits. Province staff add visits only "
                   "to closed months.", month=month_label(visited_on.year, visited_on.month))
    return closed


def _replayed_new_household(new: dict, data: VisitData) -> int | None:
    """A repost that would add the same new household again finds the visit it made the first time."""
    from app.models_base import utcnow
    from app.text import fold
    from app.visits.operations import REPLAY_WINDOW
    recent = db.session.scalars(sa.select(Household).where(
        Household.hamlet_id == new["hamlet_id"], Household.head_name_folded == fold(new["head_name"]),
        Household.created_by_id == current_user.id, Household.created_at >= utcnow() - REPLAY_WINDOW))
    for household in recent:
        data.household = household
        found = find_replay(data, current_user.id)
        if found is not None:
            return found
    data.household = None
    return None


def _replay(form: VisitForm, data: VisitData, recent) -> int | None:
    """The visit this content already made within the replay window (another key, same visit)."""
    if data.household is not None:
        return find_replay(data, current_user.id, recent)
    begin_visit_write(new_in_hamlet=form.new_hamlet_id)
    return _replayed_new_household(form.new_household(), data)


def _record(form: VisitForm, roster: TeamRoster, data: VisitData):
    """Save the visit (and its new household); if a twin post won the race, answer with its visit."""
    try:
        if data.household is None:
            data.household = registry.create_household(user=current_user, **form.new_household())
        visit_id = create_visit(data, form.key.data, roster.team.id, user=current_user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_by_key(form.key.data)
        if existing is None:
            raise
        if same_content(existing, data):
            return _already(existing)
        return _key_used(form, roster, {"kind": "other", "visit_id": existing})
    flash(_("Visit recorded."), "success")
    return redirect(url_for("visits.show", visit_id=visit_id), 303)


def _team_for_new() -> Team:
    """The user's own team; province staff adding a visit to a closed month name the team."""
    if can_log_visits():
        return current_user.team
    return get_team_or_404(record_id(request.values.get("team", "")))


def _blank_form(roster: TeamRoster, services):
    """Today, the user ticked as present; a household given by the link chosen, or a name to add."""
    form = VisitForm(formdata=None, roster=roster, services=services, key=new_key(), visited_on=today_vn(),
                     members=[current_user.member_id] if current_user.member_id else [])
    selected = None
    if record_id(request.args.get("household")) is not None:
        query, _ids = roster.households()
        selected = db.session.scalar(query.where(Household.id == record_id(request.args["household"]),
                                                 Household.merged_into_id.is_(None),
                                                 Household.erased_at.is_(None)))
    elif request.args.get("new_name"):
        form.q.data = strip_clean(request.args["new_name"])[:100]
        form.start_new_household()
    return _page(form, roster, selected=selected)


@bp.route("/new", methods=["GET", "POST"])
@requires(can_add_visits)
def new():
    team = _team_for_new()
    roster = TeamRoster(team)
    services = _form_services()
    if request.method == "GET":
        return _blank_form(roster, services)
    form = VisitForm(roster=roster, services=services)
    if not form.key_is_valid():
        abort(400)
    if _pressed_search_button():
        return _without_javascript(form, roster)
    existing, recent, deleted = _earlier_posts(form)
    valid = form.validate()
    if existing is not None or deleted is not None:
        return _repeat(form, roster, valid, existing, deleted)
    if not valid or not form.require_reason(_correcting(form, team, None)):
        return _refused(form, roster, 400)
    if (refusal := _month_refusal(team, form.visited_on.data, form.reason.data)) is not None:
        form.refuse_date(refusal)
        return _refused(form, roster, 409)
    data = form.visit_data()
    if (replay := _replay(form, data, recent)) is not None:
        return _already(replay)
    return _record(form, roster, data)


@bp.get("/households")
def household_options():
    """Search-as-you-type for the visit form: households of the team's hamlets, without diacritics."""
    team = current_user.team
    visit_id = record_id(request.args.get("visit"))
    if visit_id is not None:
        team = get_visit_or_404(visit_id).team
    text = (request.args.get("q") or request.args.get("new_name") or "")[:100]
    similar = request.args.get("mode") == "similar"
    roster = TeamRoster(team)
    hamlets = roster.hamlets  # first: the households' query then takes their ids from them
    query, ids = roster.households()
    options = registry.search(query, text, ids, limit=8) if (text.strip() or not similar) else []
    return render_template("visits/_household_options.html", options=options,
                           duplicates=registry.duplicate_ids(options), selected_id=None,
                           similar=similar, q=text, hamlets=hamlets)


@bp.get("/team.json")
@requires(can_log_visits)
def team_data():
    """What the visit form needs without signal, kept on the phone by app/static/js/offline.js: the
    team's members and hamlets, and its households for the search (names and hamlets only)."""
    team = current_user.team
    roster = TeamRoster(team)
    hamlets = roster.hamlets
    names = {h.id: h.name for h in hamlets}
    query, ids = roster.households()
    rows = db.session.execute(
        query.with_only_columns(Household.id, Household.head_name, Household.head_name_folded, Household.hamlet_id)
        .where(Household.merged_into_id.is_(None), Household.erased_at.is_(None))
        .order_by(Household.head_name_folded, Household.id))
    return {
        "csrf_token": generate_csrf(),
        "members": [{"id": c.value, "name": c.label} for c in member_choices(roster.members)],
        "hamlets": [{"id": h.id, "name": h.name} for h in hamlets],
        "households": [{"id": i, "name": name, "folded": folded, "hamlet": names.get(hamlet_id, "")}
                       for i, name, folded, hamlet_id in rows],
    }


@bp.get("/<int:visit_id>")
def show(visit_id: int):
    visit = get_shown_visit_or_404(visit_id)
    services, members = listed_with(visit.id)
    closed = closing.is_closed(visit.hamlet, visit.visited_on)
    # In a closed month only province staff change a visit: the others are not offered buttons that refuse.
    return render_template("visits/show.html", visit=visit, services=services, members=members, results=RESULTS,
                           may_edit=_may_change(visit) and (not closed or closing.may_override(visit.hamlet,
                                                                                               current_user)),
                           may_log=can_log_visits(), closed=closed)


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
def edit(visit_id: int):
    visit = get_visit_or_404(visit_id, need=_may_change)
    roster = TeamRoster(visit.team)
    services = _form_services(visit)
    if request.method == "GET":
        if (locked := _locked_for_the_user(visit)) is not None:
            return locked
        form = VisitForm(formdata=None, roster=roster, services=services, visit=visit,
                         key=visit.idempotency_key, visited_on=visit.visited_on,
                         household_id=str(visit.household_id), members=[m.id for m in visit.members],
                         note=visit.note,
                         version=versions.version_of(_visit_values(visit, services), "visit", visit.id))
        form.chosen = {vs.service.code: vs.result for vs in visit.services}
        return _page(form, roster, selected=visit.household)
    form = VisitForm(roster=roster, services=services, visit=visit)
    if _pressed_search_button():
        return _without_javascript(form, roster)
    if not form.validate() or not form.require_reason(_correcting(form, roster.team, visit)):
        return _refused(form, roster, 400)
    closed = _closed_month_message(visit.hamlet, visit.visited_on, form.reason.data)
    if closed is None and form.visited_on.data != visit.visited_on:
        closed = _closed_month_message(visit.hamlet, form.visited_on.data, form.reason.data)
    if closed:
        form.refuse_date(closed)
        return _refused(form, roster, 409)
    data = form.visit_data()
    lock_households([visit.household_id])  # first, as every visit change takes it: no waiting on each other
    _set_choices(form, roster, visit)  # the members' names, to show them
    if versions.overtaken(form, visit, lambda: _visit_values(visit, services), "visit",
                          more_rows=lambda: _visit_rows_changed(visit, data, form)):
        return _refused(form, roster, 409)
    if data.household is None:
        data.household = registry.create_household(user=current_user, **form.new_household())
    update_visit(visit, data, user=current_user)
    db.session.commit()
    flash(_("Visit updated."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id), 303)


def _visit_values(visit: Visit, services) -> dict:
    """What the visit's edit form holds (its version, app/versions.py): the fields by their names, the household and
    the result of each service the form offers (`services`), which the form holds otherwise, by ids."""
    return {"visited_on": visit.visited_on, "members": sorted(m.id for m in visit.members), "note": visit.note or "",
            "household": visit.household_id, **versions.each_of(
                "service", {vs.service_id: vs.result for vs in visit.services}, [s.id for s in services])}


def _visit_rows_changed(visit: Visit, data: VisitData, form: VisitForm) -> dict[str, tuple[str, str, str] | None]:
    """Where the visit's household and each service's result differ from what was sent, (label, now, sent), else
    None, by the name of the value each is about (as _visit_values names them)."""
    rows = {"household": None}
    if data.household is None or data.household.id != visit.household_id:
        sent = form.new_name.data if data.household is None else db.session.get(Household, data.household.id)
        rows["household"] = (_("Household"), visit.household.display_name, getattr(sent, "display_name", sent))
    now = {vs.service_id: vs.result for vs in visit.services}
    names = {s.id: s.name for s in form.services} | {vs.service_id: vs.service.name for vs in visit.services}
    for service_id, name in names.items():
        result, sent = now.get(service_id), data.results.get(service_id)
        rows[f"service-{service_id}"] = None if result == sent else (
            name, str(RESULTS.get(result) or _("Not covered")), str(RESULTS.get(sent) or _("Not covered")))
    return rows


@bp.route("/<int:visit_id>/delete", methods=["GET", "POST"])
def delete(visit_id: int):
    try:
        visit = get_visit_or_404(visit_id, need=_may_change)
    except NotFound:
        household_id = _household_of_deleted(visit_id) if request.method == "POST" else None
        if household_id is None:
            raise
        # The confirmation sent again (back button, double tap) finds the visit gone: say so.
        flash(_("This visit was already deleted."), "info")
        return redirect(url_for("households.show", household_id=household_id), 303)
    correcting = closing.can_correct_visit(visit, current_user)
    if request.method == "POST":
        household_id = visit.household_id
        reason = clean(request.form.get("reason", ""))[:500]
        closed = _closed_month_message(visit.hamlet, visit.visited_on, reason)
        if closed:
            return render_template("visits/delete.html", visit=visit, closed=closed, correcting=correcting,
                                   reason=reason), 409
        delete_visit(visit, user=current_user)
        db.session.commit()
        flash(_("Visit deleted."), "success")
        return redirect(url_for("households.show", household_id=household_id), 303)
    if (locked := _locked_for_the_user(visit)) is not None:
        return locked
    return render_template("visits/delete.html", visit=visit, correcting=correcting, reason="")


def _locked_for_the_user(visit):
    """A visit of a closed month opened for editing or deleting by someone who may not correct it (an old link,
    a bookmark): said before anything is typed, on the visit's page. None when the user may go on."""
    if not closing.is_closed(visit.hamlet, visit.visited_on) or closing.may_override(visit.hamlet, current_user):
        return None
    flash(_closed_month_message(visit.hamlet, visit.visited_on), "error")
    return redirect(url_for("visits.show", visit_id=visit.id), 303)


def _household_of_deleted(visit_id: int) -> int | None:
    """The household of a visit deleted before, if the user may see it."""
    household_id = db.session.scalar(sa.select(DeletedVisitKey.household_id)
                                     .where(DeletedVisitKey.visit_id == visit_id).limit(1))
    if household_id is None:
        return None
    return db.session.scalar(households_query().with_only_columns(Household.id).where(Household.id == household_id))


@bp.app_template_global()
def closed_month_teams(household) -> list[Team]:
    """For province staff: the teams of the household's hamlet, to add a visit to a closed month."""
    from app.reports.models import MonthClosure
    if can_log_visits() or household.merged_into_id is not None \
            or not closing.may_override(household.hamlet, current_user):
        return []
    if db.session.scalar(sa.select(MonthClosure.id).where(
            MonthClosure.province_id == household.hamlet.province_id).limit(1)) is None:
        return []
    # Dissolved teams too: the late visit may predate the dissolution.
    return list(db.session.scalars(
        teams_query().join(team_hamlets, team_hamlets.c.team_id == Team.id)
        .where(team_hamlets.c.hamlet_id == household.hamlet_id).order_by(Team.name_folded)))


def _may_change(visit, user=None) -> bool:
    """Edit or delete a visit: whoever may edit it, or province staff correcting a closed month."""
    user = user if user is not None else current_user
    return can_edit_visit(visit, user) or closing.can_correct_visit(visit, user)


def _closed_month_message(unit, visited_on, reason: str | None = "") -> str | None:
    """The month-closing rule (app.reports.closing): a closed month's visits stay as reported,
    except for province staff who give a reason (recorded in the audit trail with the change)."""
    try:
        closing.ensure_visit_date_editable(unit, visited_on, current_user, reason=reason or "")
    except closing.MonthClosedError as exc:
        return str(exc)
    return None


PERIODS = ("today", "week", "month")


def _period_start(period: str):
    today = today_vn()
    if period == "today":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


@bp.get("/")
def index():
    period = request.args.get("period", "today")
    if period not in PERIODS:
        period = "today"
    # A province's or an area's visits are many: read by their date (the period), not all by hamlet.
    query = wide_visits_query() if current_user.role in WIDE_ROLES else visits_query()
    if current_user.role == "team_leader":
        query = query.where(Visit.team_id == current_user.team_id)
        heading = _("Your team's visits")
    elif current_user.role == "team_member":
        present = sa.select(visit_members.c.visit_id).where(visit_members.c.member_id == current_user.member_id)
        query = query.where(sa.or_(Visit.author_id == current_user.id, Visit.id.in_(present)))
        heading = _("Your visits")
    else:
        heading = _("Visits in your area")
    counts = {}
    for p in PERIODS:
        counts[p] = db.session.scalar(sa.select(sa.func.count()).select_from(
            query.where(Visit.visited_on >= _period_start(p)).subquery()))
    visits = list(db.session.scalars(
        query.where(Visit.visited_on >= _period_start(period))
        .options(sa.orm.selectinload(Visit.household), sa.orm.selectinload(Visit.services))
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(200)))
    return render_template("visits/index.html", visits=visits, counts=counts, period=period,
                           heading=heading, may_log=can_log_visits())
