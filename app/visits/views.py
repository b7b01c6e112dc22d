"""The visit form (the field users' home screen), a visit's page, edit, delete and recent lists."""
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from app.catalogue import operations as catalogue
from app.dates import today_vn
from app.extensions import db
from app.forms import record_id, strip_clean
from app.households import services as registry
from app.households.models import Household
from app.reports import closing
from app.scope import (
    can_edit_visit,
    can_log_visits,
    get_visit_or_404,
    household_among,
    households_query,
    teams_query,
    visits_query,
)
from app.teams.models import Member, Membership, Team, team_hamlets
from app.templating import locale_date
from app.text import clean
from app.units.models import AdminUnit
from app.visits.forms import VisitForm, new_key
from app.visits.models import RESULTS, Visit, visit_members
from app.visits.services import (
    VisitData,
    begin_visit_write,
    create_visit,
    delete_visit,
    find_by_key,
    find_by_key_and_recent,
    find_deleted_key,
    find_replay,
    same_content,
    update_visit,
)

bp = Blueprint("visits", __name__, url_prefix="/visits")


@bp.before_request
@login_required
def _signed_in():
    return None


# --- what a form needs to know about the team ---------------------------------------------------

def _hamlets(team: Team | None):
    if team is None:
        return []
    return [h for h in team.hamlets if h.retired_on is None]


def _team_ids(team: Team) -> tuple[list[int], set[int]]:
    """The ids of the team's hamlets in service and of its current members, in one query: all that
    checking a posted visit needs (loading them as objects cost a visit POST more than the query)."""
    cache = g.setdefault("team_ids", {})
    if team.id not in cache:
        hamlet_ids, member_ids = [], set()
        for kind, record in db.session.connection().execute(_TEAM_IDS, {"team_id": team.id}):
            if kind == 0:
                hamlet_ids.append(record)
            else:
                member_ids.add(record)
        cache[team.id] = hamlet_ids, member_ids
    return cache[team.id]


_UNITS = AdminUnit.__table__
_MEMBERSHIPS = Membership.__table__
_TEAM_IDS = sa.union_all(
    sa.select(sa.literal_column("0"), team_hamlets.c.hamlet_id)
    .join(_UNITS, _UNITS.c.id == team_hamlets.c.hamlet_id)
    .where(team_hamlets.c.team_id == sa.bindparam("team_id"), _UNITS.c.retired_on.is_(None)),
    sa.select(sa.literal_column("1"), _MEMBERSHIPS.c.member_id)
    .where(_MEMBERSHIPS.c.team_id == sa.bindparam("team_id"), _MEMBERSHIPS.c.left_on.is_(None)))


def _hamlet_ids(team: Team | None) -> list[int]:
    """The team's hamlets in service: from its hamlets when the page has loaded them, else by id."""
    if team is None:
        return []
    if "hamlets" not in sa.inspect(team).unloaded:
        return [h.id for h in _hamlets(team)]
    return list(_team_ids(team)[0])


def _member_ids(team: Team | None) -> set[int]:
    """The team's current members: from the members when the page has loaded them, else by id."""
    if team is None:
        return set()
    loaded = g.get("team_members", {}).get(team.id)
    if loaded is not None:
        return {m.id for m in loaded}
    return set(_team_ids(team)[1])


def _members(team: Team | None) -> list[Member]:
    if team is None:
        return []
    # The choices, the check of the ticked members and the form page all ask: one query per request.
    cache = g.setdefault("team_members", {})
    if team.id not in cache:
        cache[team.id] = list(db.session.scalars(
            sa.select(Member).join(Membership, Membership.member_id == Member.id)
            .where(Membership.team_id == team.id, Membership.left_on.is_(None))
            .order_by(Member.name_folded)))
    return list(cache[team.id])


def _earliest(team: Team | None):
    """A visit cannot predate its team: the day it was founded (see Team.visits_from)."""
    return team.visits_from if team is not None else None


def _form_services(visit: Visit | None = None):
    """Active services, plus any a visit being edited already records."""
    services = catalogue.active_services()
    if visit is not None:
        have = {s.id for s in services}
        services += [vs.service for vs in visit.services if vs.service_id not in have]
    return services


def _error_summary(form: VisitForm, service_errors) -> list[tuple[str, str]]:
    """(anchor, message) for each field with an error, in the order of the page: the summary at the
    top of a refused form links to each (the messages stay beside the fields too)."""
    choices = form.members.choices or []
    first_member = f"m-{choices[0].value}" if choices else "q"
    anchors = [(form.visited_on, "visited_on"), (form.reason, "reason"), (form.household_id, "q"),
               (form.new_name, "new_name"), (form.new_address, "new_address"), (form.new_phone, "new_phone"),
               (form.new_size, "new_size"), (form.new_hamlet, "new_hamlet"), (form.members, first_member)]
    out = [(anchor, " ".join(str(e) for e in f.errors)) for f, anchor in anchors if f.errors]
    if service_errors:
        out.append(("services", " ".join(service_errors)))
    if form.note.errors:
        out.append(("note", " ".join(str(e) for e in form.note.errors)))
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


def _render(form, team, services, chosen, service_errors=(), status=200, visit=None, options=None,
            selected=None, key_notice=None, q=None):
    _set_choices(form, team, visit)
    hamlets = _hamlets(team)
    if options is None:
        options = []
        if selected is not None:
            options = [selected]
    return render_template(
        "visits/form.html", form=form, team=team, visit=visit,
        services=catalogue.by_team_use(services, team.id if team is not None else None, today_vn()),
        chosen=chosen, errors=_error_summary(form, service_errors) if status >= 400 else [],
        service_errors=list(service_errors), hamlets=hamlets, members=_members(team),
        options=options, q=q, selected_id=str(selected.id) if selected is not None else form.household_id.data,
        correcting=_correcting(form, team, visit), key_notice=key_notice,
        action_team=team.id if team is not None and not can_log_visits() else None,
        duplicates=registry.duplicate_ids(options), earliest=_earliest(team), today=today_vn(),
        open_new=bool(form.new_name.data or form.household_id.data == "new" or form.new_name.errors
                      or form.new_phone.errors or form.new_size.errors),
    ), status


def _start_new_household(form: VisitForm) -> None:
    """"A new household" chosen after a search: the name searched for becomes the head's name, so it
    is not typed twice (the page's script does the same without a round trip)."""
    if not form.new_name.data:
        form.new_name.data = (form.q.data or "")[:200]
    form.household_id.data = "new"


def _team_households(team: Team | None):
    ids = _hamlet_ids(team)
    return households_query().where(Household.hamlet_id.in_(ids)), ids


def _validate(form: VisitForm, team: Team | None, services, visit: Visit | None = None):
    """Everything the form says, checked against the team; (data, new household fields, errors)."""
    ok = form.validate()
    results, chosen, service_errors = form.read_results(request.form, services)
    if not service_errors and not results:
        service_errors.append(_("Mark at least one service as guided or adopted."))
    earliest = _earliest(team)
    if form.visited_on.data and earliest and form.visited_on.data < earliest:
        form.visited_on.errors = list(form.visited_on.errors) + [
            _("The team was founded on %(date)s: a visit cannot be dated earlier. If the team worked before "
              "that day, the commune officer can change its founding date on the team's page.",
              date=locale_date(earliest))]
    member_ids = form.members.data or []
    allowed = _member_ids(team)
    if visit is not None:
        allowed |= {m.id for m in visit.members}
    if not member_ids:
        form.members.errors = list(form.members.errors) + [_("Tick at least one member who was there.")]
    elif not set(member_ids) <= allowed:
        form.members.errors = list(form.members.errors) + [_("Tick only members of the team.")]

    hamlet_ids = _hamlet_ids(team)
    household, new = None, None
    raw = (form.household_id.data or "").strip()
    if raw and raw != "new":
        if record_id(raw) is not None:
            household = household_among(record_id(raw), hamlet_ids, lock=visit is None)
        if household is None:
            form.household_id.errors = [_("This household is not in your team's hamlets. Choose it again.")]
        elif household.merged_into_id is not None:
            household = db.session.get(Household, household.merged_into_id)
        if household is not None and household.erased_at is not None:
            # Its data was erased on request: a new session means registering the household again.
            form.household_id.errors = [
                _("This household's personal data was erased. Add it again as a new household.")]
            household = None
    elif raw == "new" or form.new_name.data:
        if not form.new_name.data:
            form.new_name.errors = list(form.new_name.errors) + [_("Enter the name of the head of the household.")]
        hamlet_id = form.new_hamlet.data if len(hamlet_ids) > 1 else (hamlet_ids[0] if hamlet_ids else None)
        if hamlet_id not in hamlet_ids:
            form.new_hamlet.errors = [_("Choose one of your team's hamlets.")]
        new = {"hamlet_id": hamlet_id, "head_name": form.new_name.data, "address": form.new_address.data or "",
               "phone": form.new_phone.data or "", "size": form.new_size.data}
    else:
        form.household_id.errors = [_("Choose the household, or add a new one.")]

    has_errors = (not ok or service_errors or form.visited_on.errors or form.members.errors
                  or form.household_id.errors or form.new_name.errors or form.new_hamlet.errors)
    data = None
    if not has_errors:
        data = VisitData(household=household, visited_on=form.visited_on.data, results=results,
                         member_ids=sorted(set(member_ids)), note=form.note.data or "")
    return data, new, chosen, service_errors


def _already(visit_id: int):
    flash(_("This visit was already recorded; here it is."), "info")
    return redirect(url_for("visits.show", visit_id=visit_id), 303)


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


def _as_posted(form, services) -> VisitData | None:
    """What the form says, read without the team's rules: a form resent long after its visit was saved
    may no longer pass them (a member ticked on it has left the team) and still is that visit."""
    results, _chosen, errors = form.read_results(request.form, services)
    household_id = record_id((form.household_id.data or "").strip())
    household = db.session.get(Household, household_id) if household_id is not None else None
    if errors or household is None or form.visited_on.data is None:
        return None
    return VisitData(household=household, visited_on=form.visited_on.data, results=results,
                     member_ids=sorted(set(form.members.data or [])), note=form.note.data or "")


def _key_used(form, team, services, chosen, service_errors, notice):
    """This form's key already made a visit, and what was posted now is not that visit (or the visit
    was deleted since): nothing is saved; the form comes back with the input and a fresh key, so the
    user decides whether it is a new visit."""
    form.key.data = new_key()
    return _render(form, team, services, chosen, service_errors, status=409, selected=_selected(form, team),
                   key_notice=notice)


def _replayed_new_household(new: dict, data: VisitData) -> int | None:
    """A repost that would add the same new household again finds the visit it made the first time."""
    from app.models_base import utcnow
    from app.text import fold
    from app.visits.services import REPLAY_WINDOW
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


def _team_for_new() -> Team:
    """The user's own team; province staff adding a visit to a closed month name the team."""
    if can_log_visits():
        return current_user.team
    if current_user.role not in ("province", "admin"):
        abort(403)
    raw = request.values.get("team", "")
    team_id = record_id(raw)
    team = db.session.scalar(teams_query().where(Team.id == team_id)) if team_id is not None else None
    if team is None:
        abort(404)
    return team


@bp.route("/new", methods=["GET", "POST"])
def new():
    team = _team_for_new()
    services = _form_services()
    if request.method == "GET":
        form = VisitForm(formdata=None, key=new_key(), visited_on=today_vn(),
                         members=[current_user.member_id] if current_user.member_id else [])
        selected = None
        if record_id(request.args.get("household")) is not None:
            query, _ids = _team_households(team)
            selected = db.session.scalar(query.where(Household.id == record_id(request.args["household"]),
                                                     Household.merged_into_id.is_(None),
                                                     Household.erased_at.is_(None)))
        elif request.args.get("new_name"):
            form.q.data = strip_clean(request.args["new_name"])[:100]
            _start_new_household(form)
        return _render(form, team, services, {}, selected=selected)

    form = VisitForm()
    if not form.key_is_valid():
        abort(400)
    if request.form.get("find") is not None:  # the search button, for phones without JavaScript
        query, ids = _team_households(team)
        options = registry.search(query, form.q.data or "", ids, limit=20)
        _results, chosen, _errors = form.read_results(request.form, services)
        return _render(form, team, services, chosen, options=options, q=form.q.data)
    if request.form.get("add_new") is not None:  # "add as a new household", without JavaScript
        _start_new_household(form)
        _results, chosen, _errors = form.read_results(request.form, services)
        return _render(form, team, services, chosen)

    named = record_id(form.household_id.data)
    begin_visit_write(named)  # from here to the commit, no other post of this household runs its checks
    if named is None:
        existing, recent = find_by_key(form.key.data), None
    else:
        existing, recent = find_by_key_and_recent(form.key.data, named)
    deleted = find_deleted_key(form.key.data) if existing is None else None

    data, new_household, chosen, service_errors = _validate(form, team, services)
    if existing is not None:
        posted = data or _as_posted(form, services)
        if posted is not None and _same_as(existing, posted, new_household):
            return _already(existing)
        return _key_used(form, team, services, chosen, service_errors, {"kind": "other", "visit_id": existing})
    if deleted is not None:
        return _key_used(form, team, services, chosen, service_errors,
                         {"kind": "deleted", "visit_id": deleted.visit_id, "household_id": deleted.household_id})
    if data is None:
        return _render(form, team, services, chosen, service_errors, status=400, selected=_selected(form, team))
    if _reason_missing(form, team, None):
        return _render(form, team, services, chosen, status=400, selected=_selected(form, team))
    closed = _closed_month_message(team.commune, data.visited_on, form.reason.data)
    if closed is None and not can_log_visits() and not closing.is_closed(team.commune, data.visited_on):
        closed = _("Month %(month)s is open: the team logs its own visits. Province staff add visits only "
                   "to closed months.", month=f"{data.visited_on.month:02d}/{data.visited_on.year}")
    if closed:
        form.visited_on.errors.append(closed)
        return _render(form, team, services, chosen, status=409, selected=_selected(form, team))
    if data.household is None:
        begin_visit_write(new_in_hamlet=new_household["hamlet_id"])
    replay = (find_replay(data, current_user.id, recent) if data.household is not None
              else _replayed_new_household(new_household, data))
    if replay is not None:
        return _already(replay)
    try:
        if data.household is None:
            data.household = registry.create_household(user=current_user, **new_household)
        visit_id = create_visit(data, form.key.data, team.id, user=current_user)
        db.session.commit()
    except IntegrityError:
        # Two taps raced: the other request recorded the visit first; show that one.
        db.session.rollback()
        existing = find_by_key(form.key.data)
        if existing is None:
            raise
        if same_content(existing, data):
            return _already(existing)
        return _key_used(form, team, services, chosen, service_errors, {"kind": "other", "visit_id": existing})
    flash(_("Visit recorded."), "success")
    return redirect(url_for("visits.show", visit_id=visit_id), 303)


def _set_choices(form: VisitForm, team: Team | None, visit: Visit | None = None) -> None:
    """The choices only serve the page: the team's members and hamlets are checked by id."""
    form.new_hamlet.choices = [SelectChoice(h.id, h.name) for h in _hamlets(team)]
    members = _members(team)
    if visit is not None:
        members += [m for m in visit.members if m not in members]
    form.members.choices = [SelectChoice(m.id, m.full_name) for m in members]


def _selected(form: VisitForm, team: Team | None):
    if record_id(form.household_id.data) is not None:
        query, _ids = _team_households(team)
        return db.session.scalar(query.where(Household.id == record_id(form.household_id.data)))
    return None


@bp.get("/households")
def household_options():
    """Search-as-you-type for the visit form: households of the team's hamlets, without diacritics."""
    team = current_user.team
    visit_id = record_id(request.args.get("visit"))
    if visit_id is not None:
        team = get_visit_or_404(visit_id).team
    text = (request.args.get("q") or request.args.get("new_name") or "")[:100]
    similar = request.args.get("mode") == "similar"
    hamlets = _hamlets(team)  # first: the households' query then takes their ids from them
    query, ids = _team_households(team)
    options = registry.search(query, text, ids, limit=8) if (text.strip() or not similar) else []
    return render_template("visits/_household_options.html", options=options,
                           duplicates=registry.duplicate_ids(options), selected_id=None,
                           similar=similar, q=text, hamlets=hamlets)


@bp.get("/team.json")
def team_data():
    """What the visit form needs without signal, kept on the phone by app/static/js/offline.js: the
    team's members and hamlets, and its households for the search (names and hamlets only)."""
    if not can_log_visits():
        abort(403)
    team = current_user.team
    hamlets = _hamlets(team)
    names = {h.id: h.name for h in hamlets}
    query, ids = _team_households(team)
    rows = db.session.execute(
        query.with_only_columns(Household.id, Household.head_name, Household.head_name_folded, Household.hamlet_id)
        .where(Household.merged_into_id.is_(None), Household.erased_at.is_(None))
        .order_by(Household.head_name_folded, Household.id))
    return {
        "csrf_token": generate_csrf(),
        "members": [{"id": m.id, "name": m.full_name} for m in _members(team)],
        "hamlets": [{"id": h.id, "name": h.name} for h in hamlets],
        "households": [{"id": i, "name": name, "folded": folded, "hamlet": names.get(hamlet_id, "")}
                       for i, name, folded, hamlet_id in rows],
    }


@bp.get("/<int:visit_id>")
def show(visit_id: int):
    visit = get_visit_or_404(visit_id)
    return render_template("visits/show.html", visit=visit, results=RESULTS, may_edit=_may_change(visit),
                           may_log=can_log_visits(), closed=closing.is_closed(visit.hamlet, visit.visited_on))


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
def edit(visit_id: int):
    visit = get_visit_or_404(visit_id)
    if not _may_change(visit):
        abort(403)
    team = visit.team
    services = _form_services(visit)
    if request.method == "GET":
        form = VisitForm(formdata=None, key=visit.idempotency_key, visited_on=visit.visited_on,
                         household_id=str(visit.household_id), members=[m.id for m in visit.members],
                         note=visit.note)
        chosen = {vs.service.code: vs.result for vs in visit.services}
        return _render(form, team, services, chosen, visit=visit, selected=visit.household)
    form = VisitForm()
    if request.form.get("find") is not None:
        query, ids = _team_households(team)
        options = registry.search(query, form.q.data or "", ids, limit=20)
        _results, chosen, _errors = form.read_results(request.form, services)
        return _render(form, team, services, chosen, visit=visit, options=options, q=form.q.data)
    if request.form.get("add_new") is not None:
        _start_new_household(form)
        _results, chosen, _errors = form.read_results(request.form, services)
        return _render(form, team, services, chosen, visit=visit)
    data, new_household, chosen, service_errors = _validate(form, team, services, visit=visit)
    if data is None:
        return _render(form, team, services, chosen, service_errors, status=400, visit=visit,
                       selected=_selected(form, team))
    if _reason_missing(form, team, visit):
        return _render(form, team, services, chosen, status=400, visit=visit, selected=_selected(form, team))
    closed = _closed_month_message(visit.hamlet, visit.visited_on, form.reason.data)
    if closed is None and data.visited_on != visit.visited_on:
        closed = _closed_month_message(visit.hamlet, data.visited_on, form.reason.data)
    if closed:
        form.visited_on.errors.append(closed)
        return _render(form, team, services, chosen, status=409, visit=visit, selected=_selected(form, team))
    if data.household is None:
        data.household = registry.create_household(user=current_user, **new_household)
    update_visit(visit, data, user=current_user)
    db.session.commit()
    flash(_("Visit updated."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id), 303)


@bp.route("/<int:visit_id>/delete", methods=["GET", "POST"])
def delete(visit_id: int):
    visit = get_visit_or_404(visit_id)
    if not _may_change(visit):
        abort(403)
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
    return render_template("visits/delete.html", visit=visit, correcting=correcting, reason="")


@bp.app_template_global()
def closed_month_teams(household) -> list[Team]:
    """For province staff: the teams of the household's hamlet, to add a visit to a closed month."""
    from app.reports.models import MonthClosure
    from app.reports.summary import province_of
    if can_log_visits() or household.merged_into_id is not None \
            or not closing.may_override(household.hamlet, current_user):
        return []
    if db.session.scalar(sa.select(MonthClosure.id).where(
            MonthClosure.province_id == province_of(household.hamlet)).limit(1)) is None:
        return []
    # Dissolved teams too: the late visit may predate the dissolution.
    return list(db.session.scalars(
        teams_query().join(team_hamlets, team_hamlets.c.team_id == Team.id)
        .where(team_hamlets.c.hamlet_id == household.hamlet_id).order_by(Team.name_folded)))


def _reason_missing(form: VisitForm, team: Team | None, visit: Visit | None) -> bool:
    if _correcting(form, team, visit) and not form.reason.data:
        form.reason.errors = list(form.reason.errors) + [_("Give the reason for the correction.")]
        return True
    return False


def _may_change(visit: Visit) -> bool:
    return can_edit_visit(visit) or closing.can_correct_visit(visit, current_user)


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
    query = visits_query()
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
