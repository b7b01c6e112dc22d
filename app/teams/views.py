"""Team pages: lists with counts, a team's members and history, inline member editing, imports, accounts."""
from datetime import date

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import orm

from app import versions
from app.auth.guard import require_sign_in
from app.dates import today_vn
from app.downloads import file_name, send_download, unit_slug
from app.extensions import account_form_limit, db
from app.forms import record_id
from app.fragments import render_page, wants_fragment
from app.imports import SheetImport
from app.scope import (
    FIELD_ROLES,
    can_edit_current_member,
    can_edit_member,
    can_edit_members,
    can_manage_commune_teams,
    can_manage_member,
    can_manage_team,
    found_or_abort,
    get_member_or_404,
    get_team_or_404,
    get_unit_or_404,
    team_ids_in_scope,
    teams_query,
    units_query,
    visible_ancestors,
)
from app.teams import operations as team_ops
from app.teams.forms import (
    DissolveForm,
    LeaveForm,
    MemberAccountForm,
    MemberForm,
    MoveForm,
    TeamForm,
    choices,
)
from app.teams.importer import (
    apply_members,
    check_members,
    parse_members,
    rows_from_payload,
)
from app.teams.models import (
    AFFILIATIONS,
    GENDERS,
    MEMBER_ROLES,
    TEAM_STATUSES,
    Member,
    Membership,
    Team,
    team_hamlets,
)
from app.teams.sheet_template import member_template
from app.templating import locale_date
from app.text import fold, sort_key
from app.units import hamlet_changes
from app.units import operations as unit_ops
from app.units.models import AdminUnit

bp = Blueprint("teams", __name__, url_prefix="/teams")
LIST_LIMIT = 200

AUDIT_FIELDS = {
    "name": _l("Name"), "decision_number": _l("Decision number"), "decision_date": _l("Decision date"),
    "founded_on": _l("Founded on"),
    "status": _l("Status"), "dissolved_on": _l("Dissolved on"), "dissolved_reason": _l("Reason"),
    "hamlets": _l("Hamlets served"), "full_name": _l("Full name"), "gender": _l("Gender"),
    "birth_year": _l("Year of birth"), "phone": _l("Mobile number"), "affiliation": _l("Affiliation"),
    "role": _l("Role in the team"), "joined_on": _l("Joined on"), "left_on": _l("Left on"), "team": _l("Team"),
    "username": _l("Username"), "is_enabled": _l("Account enabled"), "member_id": _l("Member"),
}
AUDIT_ACTIONS = {
    "create": _l("created"), "update": _l("changed"), "dissolve": _l("dissolved"),
    "reactivate": _l("made active again"), "leave": _l("left the team"), "move": _l("moved"),
    "role": _l("role changed"), "disable": _l("account disabled"),
    "reset_password": _l("new one-time password given"), "rename": _l("name on the account changed"),
}
require_sign_in(bp)


@bp.errorhandler(sa.exc.IntegrityError)
def _conflict(exc):
    """Two people saving at once can trip the database's own rules (one team per member, one
    leader per team); the second one is told to look again rather than shown a server error."""
    db.session.rollback()
    from app.main.conflicts import conflict_page
    return conflict_page(_("Changed at the same time"),
                         _("Someone else changed this team at the same moment. Reload the page and check before "
                           "saving again."))


@bp.app_template_filter("phone")
def _phone_filter(value):
    return team_ops.format_phone(value)


@bp.app_template_global("audit_changes")
def audit_changes(events) -> dict:
    """Each event's changed fields (by its id) as the audit trail page reads them: labels for codes, names
    for ids, dates and numbers in the locale; under this page's labels (a member's role is their role in the
    team)."""
    from app.audit.words import changed_fields
    return changed_fields(events, AUDIT_FIELDS)


@bp.context_processor
def _labels():
    return {"today_iso": today_vn().isoformat(), "AUDIT_FIELDS": AUDIT_FIELDS, "AUDIT_ACTIONS": AUDIT_ACTIONS,
            "TEAM_STATUSES": TEAM_STATUSES, "MEMBER_ROLES": MEMBER_ROLES, "GENDERS": GENDERS,
            "AFFILIATIONS": AFFILIATIONS}


# --- Lists -------------------------------------------------------------------------------------

@bp.get("/")
def index():
    if current_user.role in FIELD_ROLES:
        if current_user.team_id is None:
            abort(404)
        return redirect(url_for("teams.show", team_id=current_user.team_id))
    return redirect(url_for("teams.listing", unit_id=current_user.unit_id))


def _filtered_teams(unit: AdminUnit, q: str, status: str, hamlet_id: int | None):
    communes = AdminUnit.subtree_ids(unit)
    query = teams_query().where(Team.commune_id.in_(communes))
    if status in TEAM_STATUSES:
        query = query.where(Team.status == status)
    if hamlet_id:
        query = query.where(Team.id.in_(sa.select(team_hamlets.c.team_id)
                                        .where(team_hamlets.c.hamlet_id == hamlet_id)))
    if q:
        key = fold(q)
        # A team is found by its own name or by the name of someone in it now.
        by_member = (sa.select(Membership.team_id).join(Member, Member.id == Membership.member_id)
                     .where(Membership.left_on.is_(None), Member.name_folded.contains(key, autoescape=True)))
        query = query.where(sa.or_(Team.name_folded.contains(key, autoescape=True), Team.id.in_(by_member)))
    query = query.options(orm.selectinload(Team.hamlets), orm.joinedload(Team.commune))
    return list(db.session.scalars(query.order_by(Team.status, Team.name_folded).limit(LIST_LIMIT + 1)))


@bp.get("/unit/<int:unit_id>")
def listing(unit_id: int):
    unit = get_unit_or_404(unit_id)
    if unit.level == "hamlet":
        return redirect(url_for("teams.listing", unit_id=unit.parent_id, hamlet=unit.id))
    q = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    status = status if status in TEAM_STATUSES else ""
    hamlets = []
    if unit.level == "commune":
        # Today's hamlets first; an ended one stays for its teams' history, marked, after them.
        today = today_vn()
        hamlets = sorted(db.session.scalars(units_query().where(AdminUnit.parent_id == unit.id)),
                         key=lambda h: (h.retired_on is not None and h.retired_on <= today, sort_key(h.name)))
    hamlet_id = request.args.get("hamlet", type=int)
    if hamlet_id not in {h.id for h in hamlets}:
        hamlet_id = None
    teams = _filtered_teams(unit, q, status, hamlet_id)
    more = len(teams) > LIST_LIMIT
    teams = sorted(teams[:LIST_LIMIT], key=lambda t: (t.status, sort_key(t.name)))
    ids = [t.id for t in teams]
    # How each ended hamlet ended (merged, split or retired), in the hamlet filter and beside the teams that served it.
    ended = {h.id: h for h in hamlets} | {h.id: h for t in teams for h in t.hamlets}
    ctx = dict(unit=unit, teams=teams, more=more, q=q, status=status, hamlet_id=hamlet_id, hamlets=hamlets,
               today=today_vn(), endings=hamlet_changes.endings(ended.values()),
               counts=team_ops.member_counts(ids), leaders=team_ops.leaders(ids))
    if wants_fragment("team-rows"):
        return render_template("teams/_rows.html", **ctx)
    children = []
    if unit.level != "commune":
        children = sorted(db.session.scalars(units_query().where(AdminUnit.parent_id == unit.id)),
                          key=lambda c: sort_key(c.name))
    stats = team_ops.rollup([unit] + children, team_ids_in_scope())
    return render_template("teams/list.html", **ctx, children=children, stats=stats,
                           ancestors=visible_ancestors(unit),
                           may_register=can_manage_commune_teams(unit))


# --- Teams -------------------------------------------------------------------------------------

def _hamlet_choices(commune: AdminUnit, team: Team | None = None) -> list:
    hamlets = sorted(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id)),
                     key=lambda h: sort_key(h.name))
    chosen = {h.id for h in team.hamlets} if team else set()
    return choices((h.id, h.name) for h in hamlets if h.retired_on is None or h.id in chosen)


def _chosen_hamlets(commune: AdminUnit, ids: list[int]) -> list[AdminUnit]:
    return list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id,
                                                              AdminUnit.id.in_(ids or [-1]))))


@bp.route("/new/<int:commune_id>", methods=["GET", "POST"])
def new_team(commune_id: int):
    commune = get_unit_or_404(commune_id, need=can_manage_commune_teams)
    form = TeamForm()
    form.hamlets.choices = _hamlet_choices(commune)
    status = 200
    valid = form.validate_on_submit()
    if _name_is_free(form, commune, None) and valid:
        team = team_ops.create_team(commune, form.name.data, form.decision_number.data, form.decision_date.data,
                                    _chosen_hamlets(commune, form.hamlets.data), user=current_user,
                                    founded_on=form.founded_on.data)
        db.session.commit()
        flash(_("Team %(name)s registered. Now add its members.", name=team.name), "success")
        return redirect(url_for("teams.show", team_id=team.id))
    if form.is_submitted():
        status = 400
    return render_template("teams/team_form.html", form=form, commune=commune, team=None), status


def _name_is_free(form: TeamForm, commune: AdminUnit, team: Team | None) -> bool:
    """Two active teams of one name in a commune could not be told apart in any list: the new-team form sent
    twice (a double tap, or again after an answer that never came) would register the team twice. The name
    goes beside the field with a link to the team that has it."""
    if not form.is_submitted() or form.name.errors or not form.name.data or (team is not None and not team.active):
        return True
    unit_ops.lock_unit(commune.id)
    same = db.session.scalar(sa.select(Team).where(
        Team.commune_id == commune.id, Team.status == "active", Team.name_folded == fold(form.name.data)[:200],
        Team.id != (team.id if team is not None else -1)).limit(1))
    if same is None:
        return True
    link = Markup('<a href="{}">{}</a>').format(url_for("teams.show", team_id=same.id), same.name)
    form.name.errors = list(form.name.errors) + [Markup(_(
        "%(team)s is already an active team of %(commune)s.")) % {"commune": commune.name, "team": link}]
    return False


@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
def edit_team(team_id: int):
    team = get_team_or_404(team_id, need=can_manage_team)
    form = TeamForm(data=_team_values(team))
    form.hamlets.choices = _hamlet_choices(team.commune, team)
    status = 200
    if not form.is_submitted():
        form.version.data = versions.version_of(_team_values(team), "team", team.id, TEAM_EDITS)
    valid = form.validate_on_submit()
    if _name_is_free(form, team.commune, team) and valid:
        if versions.overtaken(form, team, lambda: _team_values(team), "team", TEAM_EDITS):
            return render_template("teams/team_form.html", form=form, commune=team.commune, team=team), 409
        team_ops.update_team(team, form.name.data, form.decision_number.data, form.decision_date.data,
                             _chosen_hamlets(team.commune, form.hamlets.data), user=current_user,
                             founded_on=form.founded_on.data)
        db.session.commit()
        flash(_("Team saved."), "success")
        return redirect(url_for("teams.show", team_id=team.id))
    if form.is_submitted():
        status = 400
    return render_template("teams/team_form.html", form=form, commune=team.commune, team=team), status


# The audit events of a change to what the team's edit form holds.
TEAM_EDITS = ("create", "update")


def _team_values(team: Team) -> dict:
    """What the team's edit form holds, by its fields' names (also its version, app/versions.py)."""
    return {"name": team.name, "decision_number": team.decision_number, "decision_date": team.decision_date,
            "founded_on": team.founded_on, "hamlets": sorted(h.id for h in team.hamlets)}


@bp.route("/<int:team_id>/dissolve", methods=["GET", "POST"])
def dissolve(team_id: int):
    team = get_team_or_404(team_id, need=can_manage_team)
    if not team.active:
        flash(_("This team is already dissolved."), "info")
        return redirect(url_for("teams.show", team_id=team.id))
    form = DissolveForm()
    form.decision_date = team.decision_date
    status = 200
    if form.validate_on_submit():
        team_ops.dissolve_team(team, form.dissolved_on.data, form.reason.data, user=current_user)
        db.session.commit()
        flash(_("Team %(name)s is dissolved. Its members have left and their accounts are disabled.",
                name=team.name), "success")
        return redirect(url_for("teams.show", team_id=team.id))
    if form.is_submitted():
        status = 400
    return render_template("teams/dissolve.html", form=form, team=team), status


@bp.post("/<int:team_id>/reactivate")
def reactivate(team_id: int):
    team = get_team_or_404(team_id, need=can_manage_team)
    if not team.active:
        team_ops.reactivate_team(team, user=current_user)
        db.session.commit()
        flash(_("Team %(name)s is active again.", name=team.name), "success")
    return redirect(url_for("teams.show", team_id=team.id))


def _member_form(member: Member | None = None, prefix: str = "member", submitted: bool = True) -> MemberForm:
    """The member form, read from the request when `submitted`, else filled from the member (or blank)."""
    data = _member_values(member) if member is not None else None
    kwargs = {} if submitted else {"formdata": None}
    form = MemberForm(data=data, prefix=prefix, **kwargs)
    if member is not None and not submitted:
        form.version.data = versions.version_of(data, "member", member.id)
    return form


def _member_values(member: Member) -> dict:
    """What the member's edit form holds, by its fields' names (also its version, app/versions.py)."""
    membership = member.current
    return {"full_name": member.full_name, "phone": team_ops.format_phone(member.phone),
            "gender": member.gender, "birth_year": member.birth_year, "affiliation": member.affiliation,
            "role": membership.role if membership else "member",
            "joined_on": membership.joined_on if membership else None}


def _check_duplicate(form: MemberForm, team: Team, member: Member | None) -> bool:
    """Add the duplicate-phone message beside the field; True when the number is free."""
    if form.phone.errors or not form.normalised_phone:
        return not form.phone.errors
    dup = team_ops.find_duplicate(form.normalised_phone, team.commune.province_id,
                                  member.id if member else None, user=current_user)
    if dup is None:
        return True
    form.phone.errors = list(form.phone.errors) + [duplicate_message(dup)]
    return False


def _check_same_name(form: MemberForm, team: Team) -> bool:
    """A member of the same name already in the team (the form sent again after an answer that never came,
    or the same person registered twice) is asked about first, beside the name; the same name sent again
    adds them (two people may share a name). True when there is nothing to ask."""
    if form.full_name.errors or not form.full_name.data:
        return True
    folded = fold(form.full_name.data)[:200]
    if form.confirm_name.data == folded:
        return True
    same = db.session.scalar(
        sa.select(Membership).join(Member, Member.id == Membership.member_id)
        .where(Membership.team_id == team.id, Membership.left_on.is_(None), Member.name_folded == folded)
        .order_by(Membership.joined_on).limit(1))
    if same is None:
        return True
    link = Markup('<a href="{}">{}</a>').format(url_for("teams.member", member_id=same.member_id),
                                                same.member.full_name)
    form.full_name.errors = list(form.full_name.errors) + [Markup(_(
        "%(name)s is already in this team, since %(day)s. If this is another person of the same name, "
        "add them again.")) % {"name": link, "day": locale_date(same.joined_on)}]
    form.confirm_name.data = folded
    return False


def _phone_taken_meanwhile(form: MemberForm, team: Team, member: Member | None) -> bool:
    """After the database refused a save: was it another officer giving the number away at the same
    moment (the unique index on active members' phones)? Then the message goes beside the field."""
    db.session.rollback()
    return not _check_duplicate(form, team, member)


def duplicate_message(dup: team_ops.Duplicate):
    if dup.member is None:
        return _("This number is already used by an active member elsewhere in the province.")
    link = Markup('<a href="{}">{}</a>').format(url_for("teams.member", member_id=dup.member.id),
                                                dup.member.full_name)
    current = dup.member.current
    return Markup(_("This number is already used by %(name)s (%(team)s), an active member.")) % {
        "name": link, "team": current.team.name if current else ""}


def _team_context(team: Team, add_form: MemberForm | None = None, note: str | None = None):
    memberships = sorted(team.memberships, key=lambda m: (m.left_on is not None, m.role != "leader",
                                                         m.role != "deputy", sort_key(m.member.full_name)))
    may_edit = can_edit_members(team)
    if add_form is None and may_edit and team.active:
        add_form = _member_form(submitted=False)
    current = [m for m in memberships if m.left_on is None]
    return dict(team=team, current=current, leader=next((m for m in current if m.role == "leader"), None),
                past=sorted([m for m in memberships if m.left_on is not None], key=lambda m: m.left_on,
                            reverse=True),
                history=_history(team),
                events=team_ops.team_events(team), may_edit=may_edit, may_manage=can_manage_team(team),
                add_form=add_form, note=note, today=today_vn(), endings=hamlet_changes.endings(team.hamlets),
                subjects={m.member_id: m.member.full_name for m in team.memberships})


def _history(team: Team) -> list[tuple[date, str, Membership | None]]:
    """The team's dated events, newest first: founded, moved to another commune by a
    reorganization (from which to which), members joining and leaving, dissolved."""
    entries = []  # (date, order within a day, tie-break, kind, membership or (old commune, new commune))
    if team.decision_date:
        entries.append((team.decision_date, 0, 0, "founded", None))
    placed = team_ops.placements(team)
    communes = [p.commune.name for p in placed] + [team.commune.name]
    for day, old, new in zip([p.valid_to for p in placed], communes, communes[1:]):
        entries.append((day, 1, 0, "moved", (old, new)))
    for m in team.memberships:
        entries.append((m.joined_on, 2, m.id, "joined", m))
        if m.left_on:
            entries.append((m.left_on, 3, m.id, "left", m))
    if team.dissolved_on:
        entries.append((team.dissolved_on, 4, 0, "dissolved", None))
    entries.sort(key=lambda e: e[:3], reverse=True)
    return [(d, kind, m) for d, _order, _tie, kind, m in entries]


@bp.get("/<int:team_id>")
def show(team_id: int):
    team = get_team_or_404(team_id)
    return render_template("teams/show.html", **_team_context(team))


@bp.post("/<int:team_id>/members")
def add_member(team_id: int):
    team = get_team_or_404(team_id, need=can_edit_members)
    form = _member_form()
    if not team.active:
        form.full_name.errors = [_("This team is dissolved; members can no longer join it.")]
        return _render_members(team, form, status=409)
    valid = form.validate_on_submit()
    valid = _check_leader_choice(form, team, None) and valid
    unit_ops.lock_unit(team.commune_id)
    valid = _check_same_name(form, team) and valid
    if _check_duplicate(form, team, None) and valid:
        try:
            member = team_ops.add_member(team, full_name=form.full_name.data, gender=form.gender.data,
                                         birth_year=form.birth_year.data, phone=form.normalised_phone,
                                         affiliation=form.affiliation.data, role=form.role.data,
                                         joined_on=form.joined_on.data, user=current_user)
            db.session.commit()
        except sa.exc.IntegrityError:
            if not _phone_taken_meanwhile(form, team, None):
                raise
            return _render_members(team, form, status=409)
        note = _("%(name)s added to the team.", name=member.full_name)
        if wants_fragment():
            db.session.refresh(team)
            return render_template("teams/_members.html", **_team_context(team, note=note))
        flash(note, "success")
        return redirect(url_for("teams.show", team_id=team.id) + "#members")
    return _render_members(team, form, status=400)


def _check_leader_choice(form: MemberForm, team: Team, membership: Membership | None) -> bool:
    """Only the commune's officers choose the leader; a leader keeps the member list, not the leadership."""
    if can_manage_team(team):
        return True
    was_leader = membership is not None and membership.role == "leader"
    if (form.role.data == "leader") != was_leader:
        form.role.errors = list(form.role.errors) + [_("Only the commune officer chooses the team leader.")]
        return False
    return True


def _render_members(team: Team, form: MemberForm, status: int):
    return render_page("teams/show.html", "teams/_members.html", **_team_context(team, add_form=form)), status


@bp.get("/<int:team_id>/check-phone")
def check_phone(team_id: int):
    """As the phone is typed: its format, and whether an active member of the province already has it."""
    team = get_team_or_404(team_id, need=can_edit_members)
    raw = next((v for k, v in request.args.items() if k.endswith("phone")), "")[:32]
    exclude = record_id(request.args.get("member"))
    message, ok, phone = None, False, ""
    if raw.strip():
        try:
            phone = team_ops.normalise_phone(raw)
        except team_ops.PhoneError as exc:
            message = str(exc)
        else:
            dup = team_ops.find_duplicate(phone, team.commune.province_id, exclude,
                                          user=current_user)
            if dup is not None:
                message = duplicate_message(dup)
            else:
                ok = True
    return render_template("teams/_phone_check.html", message=message, ok=ok, phone=phone)


# --- Members -----------------------------------------------------------------------------------

@bp.get("/members/<int:member_id>")
def member(member_id: int):
    return _member_page(get_member_or_404(member_id))


def _member_page(m: Member, account_form=None) -> str:
    """The member's page; `account_form`, their account's form refused, with its username field and the reason."""
    current = m.current
    team = m.latest.team if m.latest else None
    return render_template("teams/member.html", member=m, current=current, team=team,
                           events=team_ops.member_events(m), accounts=team_ops.accounts_of(m),
                           may_edit=current is not None and can_edit_members(current.team),
                           may_manage=team is not None and can_manage_team(team), account_form=account_form)


@bp.get("/members/<int:member_id>/row")
def member_row(member_id: int):
    m = get_member_or_404(member_id)
    membership = m.current
    if membership is None:
        abort(404)
    return render_template("teams/_member_row.html", m=membership, team=membership.team,
                           may_edit=can_edit_members(membership.team))


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def edit_member(member_id: int):
    m = get_member_or_404(member_id, need=can_edit_member)
    # A former member's details (say, a changed number before rejoining) are the officers' to fix.
    membership = m.latest
    current = m.current is not None
    team = membership.team
    prefix = f"edit-{m.id}"
    form = _member_form(m, prefix=prefix, submitted=request.method == "POST")
    if not current:
        del form.role
        del form.joined_on
    status = 200
    if request.method == "POST":
        valid = form.validate_on_submit()
        if current:
            valid = _check_leader_choice(form, team, membership) and valid
            # Uniqueness holds among active members only, so a former member's number is not checked.
            valid = _check_duplicate(form, team, m) and valid
        if valid and versions.overtaken(form, m, lambda: _member_values(m), "member"):
            template = "teams/_member_edit.html" if wants_fragment() and current else "teams/member_edit.html"
            return render_template(template, form=form, m=membership, team=team, member=m), 409
        if valid:
            try:
                team_ops.update_member(m, full_name=form.full_name.data, gender=form.gender.data,
                                       birth_year=form.birth_year.data, phone=form.normalised_phone,
                                       affiliation=form.affiliation.data,
                                       role=form.role.data if current else None,
                                       joined_on=form.joined_on.data if current else None, user=current_user)
                db.session.commit()
            except sa.exc.IntegrityError:
                if not _phone_taken_meanwhile(form, team, m):
                    raise
                template = "teams/_member_edit.html" if wants_fragment() and current else "teams/member_edit.html"
                return render_template(template, form=form, m=membership, team=team, member=m), 409
            if wants_fragment() and current:
                # A new leader changes two rows: the whole list is returned.
                db.session.refresh(team)
                html = render_template("teams/_members.html",
                                       **_team_context(team, note=_("%(name)s saved.", name=m.full_name)))
                return html, 200, {"HX-Retarget": "#members", "HX-Reswap": "outerHTML"}
            flash(_("%(name)s saved.", name=m.full_name), "success")
            if not current:
                return redirect(url_for("teams.member", member_id=m.id))
            return redirect(url_for("teams.show", team_id=team.id) + "#members")
        status = 400
    template = "teams/_member_edit.html" if wants_fragment() and current else "teams/member_edit.html"
    return render_template(template, form=form, m=membership, team=team, member=m), status


@bp.route("/members/<int:member_id>/leave", methods=["GET", "POST"])
def leave(member_id: int):
    m = get_member_or_404(member_id)
    if m.current is None and m.latest is not None and can_edit_members(m.latest.team):
        # Already left (the form sent twice, or from a page opened before): say so, as a dissolved team does.
        flash(_("%(name)s already left the team on %(day)s.", name=m.full_name,
                day=locale_date(m.latest.left_on)), "info")
        return redirect(url_for("teams.member", member_id=m.id))
    found_or_abort(m, need=can_edit_current_member)
    membership = m.current
    form = LeaveForm()
    form.joined_on = membership.joined_on
    status = 200
    if form.validate_on_submit():
        team_ops.leave(m, form.left_on.data, user=current_user)
        db.session.commit()
        flash(_("%(name)s has left the team. Their account, if any, is disabled.", name=m.full_name), "success")
        return redirect(url_for("teams.show", team_id=membership.team_id))
    if form.is_submitted():
        status = 400
    return render_template("teams/leave.html", form=form, member=m, membership=membership), status


@bp.route("/members/<int:member_id>/move", methods=["GET", "POST"])
def move(member_id: int):
    m = get_member_or_404(member_id, need=can_manage_member)
    team = m.latest.team
    current = m.current
    form = MoveForm()
    targets = db.session.scalars(teams_query().where(Team.commune_id == team.commune_id, Team.status == "active")
                                 .order_by(Team.name_folded)).all()
    form.team.choices = choices((t.id, t.name) for t in targets if current is None or t.id != current.team_id)
    last = m.memberships[-1] if m.memberships else None
    form.joined_on = current.joined_on if current else (last.left_on if last else None)
    status = 200
    if current is not None and form.is_submitted() and request.form.get("team") == str(current.team_id):
        # Already in the team asked for (the form sent twice, or from a page opened before): say so.
        flash(_("%(name)s is already in %(team)s, since %(day)s.", name=m.full_name, team=current.team.name,
                day=locale_date(current.joined_on)), "info")
        return redirect(url_for("teams.member", member_id=m.id))
    if form.validate_on_submit():
        target = db.session.get(Team, form.team.data)
        if current is None and team_ops.active_member_with_phone(m.phone, m.province_id, m.id) is not None:
            # Rejoining: someone else may have been given this number since the member left.
            form.team.errors = [_("Another active member now has this member's phone number. Change it first.")]
        else:
            team_ops.move(m, target, form.moved_on.data, role=form.role.data, user=current_user)
            db.session.commit()
            flash(_("%(name)s now belongs to %(team)s.", name=m.full_name, team=target.name), "success")
            return redirect(url_for("teams.show", team_id=target.id))
    if form.is_submitted():
        status = 400
    return render_template("teams/move.html", form=form, member=m, current=current, team=team), status


@bp.post("/members/<int:member_id>/leader")
def make_leader(member_id: int):
    m = get_member_or_404(member_id, need=can_manage_member)
    team = m.latest.team
    if m.current is None:
        flash(_("%(name)s is no longer in a team.", name=m.full_name), "error")
        return redirect(url_for("teams.member", member_id=m.id)), 303
    team_ops.make_leader(m, user=current_user)
    db.session.commit()
    flash(_("%(name)s is now the team leader.", name=m.full_name), "success")
    return redirect(url_for("teams.show", team_id=team.id))


@bp.post("/members/<int:member_id>/account")
@account_form_limit
def account(member_id: int):
    """Create the member's sign-in account, its username their mobile number (or another asked for when the number
    is someone's already), or give a new one-time password; shown once, never stored."""
    m = get_member_or_404(member_id, need=can_manage_member)
    if m.current is None:
        flash(_("%(name)s has left the team; an account cannot be given.", name=m.full_name), "error")
        return redirect(url_for("teams.member", member_id=m.id)), 303
    if not m.phone:
        flash(_("Enter %(name)s's mobile number first: it is the username.", name=m.full_name), "error")
        return redirect(url_for("teams.member", member_id=m.id)), 303
    existing = team_ops.accounts_of(m)
    if existing:  # made meanwhile (the button tapped twice, or a page opened before): a new password, as below
        user, password = existing[0], team_ops.reset_account_password(existing[0], user=current_user)
    else:
        form = MemberAccountForm(username=m.phone)  # what the button sends: no username, the number is it
        if not form.validate_on_submit():
            return _member_page(m, account_form=form), 400
        user, password = team_ops.create_account(m, form.username.data, user=current_user)
    db.session.commit()
    return render_template("teams/account.html", member=m, account=user, password=password,
                           created=not existing)


@bp.post("/members/<int:member_id>/password")
def reset_password(member_id: int):
    """A new one-time password for the member's account, shown once. Not limited as the account form is (its refusals
    say whether a username exists; this says nothing of any account but the member's), as a staff account's new
    password (/users/N/password) is not."""
    m = get_member_or_404(member_id, need=can_manage_member)
    back = url_for("teams.member", member_id=m.id, _anchor="account")
    if m.current is None:
        flash(_("%(name)s has left the team; no new password can be given.", name=m.full_name), "error")
        return redirect(back, 303)
    existing = team_ops.accounts_of(m)
    if not existing:
        flash(_("%(name)s has no sign-in account yet.", name=m.full_name), "error")
        return redirect(back, 303)
    password = team_ops.reset_account_password(existing[0], user=current_user)
    db.session.commit()
    return render_template("teams/account.html", member=m, account=existing[0], password=password, created=False)


# --- Import ------------------------------------------------------------------------------------

def _recheck_members(rows: list[dict], commune: AdminUnit):
    """The rows again, under the commune's names lock: one preview confirmed twice at once adds its rows once.
    A name borne by more members of its team than at the preview (this list confirmed already: a double tap, the
    back button) is a question the preview did not ask, which its box does not answer."""
    unit_ops.lock_unit(commune.id)
    checked = check_members(rows_from_payload(rows), commune, today_vn(), user=current_user)
    for row, sent in zip(checked, rows, strict=True):
        row.flag_is_new = bool(row.flag) and row.same_names > (sent.get("same_names") or 0)
    return checked


def _added_message(added: int, skipped: int) -> str:
    if not skipped:
        return _("%(n)d members added.", n=added)
    return _("%(n)d members added; %(skipped)d lines added nobody (members registered already, or the template's "
             "example).", n=added, skipped=skipped)


# Checked again at confirmation against the database as it is then: a number may have been taken since the preview.
MEMBER_SHEET = SheetImport(
    salt="member-import", template="teams/import.html",
    parse=lambda name, data, commune: parse_members(name, data, commune, today_vn(), user=current_user),
    to_payload=lambda rows: [r.payload() for r in rows],
    recheck=_recheck_members,
    apply=lambda rows, commune: _added_message(apply_members(rows, user=current_user),
                                               sum(1 for r in rows if r.skipped)),
    left_out=lambda n: _("%(n)d rows were left out: their names are already in their teams.", n=n))


def _commune_teams(commune: AdminUnit) -> dict:
    return {t.id: t for t in db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id))}


@bp.route("/import/<int:commune_id>", methods=["GET", "POST"])
def import_members(commune_id: int):
    commune = get_unit_or_404(commune_id, need=can_manage_commune_teams)
    return MEMBER_SHEET.preview(commune, commune=commune, teams=_commune_teams(commune))


@bp.get("/import/<int:commune_id>/template.xlsx")
def import_template(commune_id: int):
    """The blank member list to fill: the headers the upload reads, an example line it skips, the commune's
    hamlets and their teams."""
    commune = get_unit_or_404(commune_id, need=can_manage_commune_teams)
    hamlets = list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id,
                                                                 AdminUnit.retired_on.is_(None))))
    teams = list(db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id, Team.status == "active")))
    body = member_template(commune, hamlets, teams, team_ops.hamlet_ids_of(teams))
    return send_download(body, file_name("mau-danh-sach-thanh-vien", unit_slug(commune), ext="xlsx"),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/import/<int:commune_id>/confirm")
def confirm_import(commune_id: int):
    commune = get_unit_or_404(commune_id, need=can_manage_commune_teams)
    return MEMBER_SHEET.confirm(commune, url_for("teams.listing", unit_id=commune.id),
                                commune=commune, teams=_commune_teams(commune))

