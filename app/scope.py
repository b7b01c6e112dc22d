"""Access in one place: which administrative units the signed-in user may see and change.

Every view that lists or loads records asks this module; no view filters by unit on its own.
Records outside the user's subtree answer 404, so their existence is not revealed; a loader given
`need=` (a predicate of the record and the user) answers 403 when the user may see but not do.
"""
from collections.abc import Callable
from functools import lru_cache, wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.extensions import db
from app.units.models import AdminUnit, UnitSuccession

STAFF_ROLES = ("admin", "province", "district", "commune")
FIELD_ROLES = ("team_leader", "team_member")


def _user(user=None):
    return user if user is not None else current_user


def root_unit(user=None) -> AdminUnit | None:
    """The top of what the user sees: None for an admin, who sees the whole tree."""
    user = _user(user)
    if user.role == "admin":
        return None
    return user.unit


def unit_ids_in_scope(user=None) -> sa.Select:
    """A subquery of the ids of every unit the user may see (their unit and all below it)."""
    root = root_unit(user)
    return sa.select(AdminUnit.id) if root is None else AdminUnit.subtree_ids(root)


def in_scope(unit_id_column, user=None):
    """A WHERE clause keeping rows whose unit column lies within the user's scope."""
    root = root_unit(user)
    if root is None:
        return sa.true()
    return unit_id_column.in_(unit_ids_in_scope(user))


def units_query(user=None) -> sa.Select:
    """Select AdminUnit rows in scope; callers add their own filters and order."""
    root = root_unit(user)
    q = sa.select(AdminUnit)
    if root is not None:
        q = q.where(AdminUnit.within(root))
    return q


def can_see(unit: AdminUnit | None, user=None) -> bool:
    if unit is None:
        return False
    root = root_unit(user)
    return root is None or unit.is_within(root)


def visible_ancestors(unit: AdminUnit, user=None) -> list[AdminUnit]:
    """The units above this one that the user sees, root first (breadcrumbs)."""
    return [a for a in unit.ancestors() if can_see(a, user)]


# --- Loaders -------------------------------------------------------------------------------------
# A route's rule is its first line: `get_team_or_404(team_id, need=can_manage_team)` loads the record
# through the user's scope (404 outside it, or when there is no such record) and then asks the
# predicate, `need(record, user)`, answering 403 when it is false.

Need = Callable[..., bool]


def found_or_abort(record, need: Need | None = None, user=None, *, status: int = 404):
    """404 (or `status`) for a record not found in scope; 403 when `need(record, user)` is false; else
    the record."""
    if record is None:
        abort(status)
    if need is not None and not need(record, _user(user)):
        abort(403)
    return record


def get_unit_or_404(unit_id: int, user=None, *, need: Need | None = None) -> AdminUnit:
    return found_or_abort(db.session.scalar(units_query(user).where(AdminUnit.id == unit_id)), need, user)


def can_edit_structure(unit: AdminUnit, user=None) -> bool:
    """Add, rename or retire the hamlets of a commune: its commune officers, and admins."""
    user = _user(user)
    if not can_see(unit, user):
        return False
    if user.role == "admin":
        return True
    return user.role == "commune" and unit.level == "commune" and unit.id == user.unit_id


def can_set_households(unit: AdminUnit, user=None) -> bool:
    """Staff set the household counts of units in their own subtree."""
    user = _user(user)
    return user.role in STAFF_ROLES and can_see(unit, user)


def can_edit_hamlets_of(commune: AdminUnit, user=None) -> bool:
    """Add or import the hamlets of a commune."""
    return commune.level == "commune" and can_edit_structure(commune, user)


def can_edit_hamlet(hamlet: AdminUnit, user=None) -> bool:
    """Rename, retire, restore or delete a hamlet: whoever edits its commune's structure."""
    return hamlet.level == "hamlet" and hamlet.parent is not None and can_edit_structure(hamlet.parent, user)


def requires(allowed: Callable[..., bool]):
    """Decorator for a rule about the user alone: 403 unless `allowed(user)` (sign-in is checked first)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager
                return login_manager.unauthorized()
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def roles_required(*roles):
    """403 unless the signed-in user holds one of the roles (sign-in is checked first)."""
    return requires(lambda user: user.role in roles)


def is_staff(user=None) -> bool:
    """Officers of a unit (admin, province, district, commune), as against team leaders and members."""
    return _user(user).role in STAFF_ROLES


# --- Teams and members -------------------------------------------------------------------------
# Staff see the teams of their subtree; a team leader or member sees only their own team, since a
# member list holds personal data (names, phone numbers) that other teams do not need.

def teams_query(user=None) -> sa.Select:
    """Select Team rows the user may read; callers add their own filters and order."""
    from app.teams.models import Team
    return _commune_rows(Team, user, lambda team_id: Team.id == team_id)


def _commune_rows(model, user, of_team, former: bool = False) -> sa.Select:
    """Select the model's rows in the communes of the user's area (`former`: and in the communes a reorganization
    ended into it, former_communes_in_scope); a team leader or member gets only their own team's, `of_team(team_id)`
    saying which those are, and (`former`) those in any commune a reorganization ended: the team held them, wherever
    the commune's parts went."""
    user = _user(user)
    place = in_scope(model.commune_id, user)
    if former and root_unit(user) is not None:
        ended = (sa.select(UnitSuccession.old_unit_id) if user.role in FIELD_ROLES
                 else former_communes_in_scope(user))
        place = sa.or_(place, model.commune_id.in_(ended))
    q = sa.select(model).where(place)
    if user.role in FIELD_ROLES:
        q = q.where(of_team(user.team_id or -1))
    return q


def team_ids_in_scope(user=None) -> sa.Select:
    from app.teams.models import Team
    return teams_query(user).with_only_columns(Team.id)


def get_team_or_404(team_id: int | None, user=None, *, need: Need | None = None):
    from app.teams.models import Team
    return found_or_abort(db.session.scalar(teams_query(user).where(Team.id == team_id)), need, user)


def members_query(user=None) -> sa.Select:
    """Members who were ever in a team the user may read (their history goes with them)."""
    from app.teams.models import Member, Membership
    return sa.select(Member).where(Member.id.in_(
        sa.select(Membership.member_id).where(Membership.team_id.in_(team_ids_in_scope(user)))))


def get_member_or_404(member_id: int, user=None, *, need: Need | None = None):
    from app.teams.models import Member
    return found_or_abort(db.session.scalar(members_query(user).where(Member.id == member_id)), need, user)


def can_manage_team(team, user=None) -> bool:
    """Register, edit, dissolve a team and create accounts: the officers of its own commune, and admins.

    District and province staff read their subtree but do not change it.
    """
    user = _user(user)
    if not user.is_authenticated or team is None or not can_see(team.commune, user):
        return False
    if user.role == "admin":
        return True
    return user.role == "commune" and team.commune_id == user.unit_id


def can_manage_commune_teams(commune: AdminUnit, user=None) -> bool:
    """Register new teams or import members in a commune."""
    user = _user(user)
    if commune is None or commune.level != "commune" or not can_see(commune, user):
        return False
    return user.role == "admin" or (user.role == "commune" and commune.id == user.unit_id)


def can_edit_members(team, user=None) -> bool:
    """Add, edit and record the leaving of members: the commune's officers, and the team's own leader."""
    user = _user(user)
    if can_manage_team(team, user):
        return True
    return (user.is_authenticated and user.role == "team_leader" and team is not None
            and user.team_id == team.id and team.commune_id == user.unit_id)


def can_edit_current_member(member, user=None) -> bool:
    """Record a current member's leaving: whoever edits the members of their team."""
    return member.current is not None and can_edit_members(member.current.team, user)


def can_edit_member(member, user=None) -> bool:
    """Edit a member's details: whoever edits their team's members; for a former member (say, a
    changed number before rejoining), the officers of their last team."""
    if member.current is not None:
        return can_edit_members(member.current.team, user)
    return member.latest is not None and can_manage_team(member.latest.team, user)


def can_manage_member(member, user=None) -> bool:
    """Move a member, make them leader, give them an account: the officers of their current (or last) team."""
    return member.latest is not None and can_manage_team(member.latest.team, user)


# --- Households and visits -----------------------------------------------------------------------
# Team leaders and members see the hamlets their team serves; staff see their subtree as above.

def _hamlets_of_team(team_id: int | None) -> sa.Select:
    from app.teams.models import team_hamlets
    return sa.select(team_hamlets.c.hamlet_id).where(team_hamlets.c.team_id == team_id)


def team_hamlet_ids(user=None) -> sa.Select:
    """The hamlets of the user's team (none when the account has no team)."""
    return _hamlets_of_team(_user(user).team_id)


def team_hamlets_query(user=None) -> sa.Select:
    """Select the hamlets of the user's team that lie in their area (what a team's progress covers)."""
    return units_query(user).where(AdminUnit.level == "hamlet", AdminUnit.id.in_(team_hamlet_ids(user)))


def _hamlet_scope(user) -> tuple[str | None, bool, int | None]:
    """All that the hamlet scope reads of the user: their root unit's path (None: the whole tree),
    whether they work in the field and, if so, their team."""
    root = root_unit(user)
    field = user.role in FIELD_ROLES
    return (root.path if root is not None else None), field, (user.team_id if field else None)


def _in_hamlets(hamlet_id_column, root_path: str | None, field: bool, team_id: int | None):
    clause = sa.true() if root_path is None else hamlet_id_column.in_(AdminUnit.subtree_ids(root_path))
    if field:
        clause = sa.and_(clause, hamlet_id_column.in_(_hamlets_of_team(team_id)))
    return clause


def hamlet_scope(user=None) -> tuple:
    """All that the hamlet scope reads of the user, as a key: a statement built once per scope takes its
    WHERE clause from `in_hamlets(column, scope)`."""
    return _hamlet_scope(_user(user))


def in_hamlets(hamlet_id_column, scope: tuple):
    """WHERE clause for records that live in a hamlet, for the scope `hamlet_scope` gave: the user's
    subtree, narrowed for field users to their team's hamlets."""
    return _in_hamlets(hamlet_id_column, *scope)


@lru_cache(maxsize=1024)
def _records_in_hamlets(model, scope: tuple) -> sa.Select:
    # One statement per kind of record and scope, built once: every visit and household page asks, and
    # building it (with its cache key) cost more than the rest of the lookup's Python.
    return sa.select(model).where(_in_hamlets(model.hamlet_id, *scope))


def households_query(user=None) -> sa.Select:
    from app.households.models import Household
    return _records_in_hamlets(Household, _hamlet_scope(_user(user)))


def visits_query(user=None) -> sa.Select:
    from app.visits.models import Visit
    return _records_in_hamlets(Visit, _hamlet_scope(_user(user)))


# Roles whose area is a province or a group of communes (or everything): their visits are many.
WIDE_ROLES = ("admin", "province", "district")


def wide_visits_query(user=None) -> sa.Select:
    """visits_query for reading a wide area's visits newest first (a list's page). On SQLite the area's
    hamlets are matched row by row (`+visits.hamlet_id`, which no index serves), so SQLite walks the
    visit-date index backwards and stops at the page's end, where it read every visit of the area by
    hamlet and sorted them: a province of 3 M visits, 1.3 s → 5 ms. Only for an area holding many
    visits: walking the dates through an area holding none reads the whole table (16 s)."""
    from app.visits.models import Visit
    root_path, field, team_id = _hamlet_scope(_user(user))
    column = Visit.hamlet_id
    if db.session.get_bind().dialect.name == "sqlite":
        column = sa.literal_column("+visits.hamlet_id")  # the same rows; the plan walks the dates
    return sa.select(Visit).where(_in_hamlets(column, root_path, field, team_id))


def get_household_or_404(household_id: int, user=None, *, need: Need | None = None):
    from app.households.models import Household
    return found_or_abort(db.session.scalar(households_query(user).where(Household.id == household_id)),
                          need, user)


@lru_cache(maxsize=1024)
def _visit_by_id(scope: tuple) -> sa.Select:
    # Built once per scope, the visit's id a parameter: finding a visit (its edit and delete pages; its own
    # page reads plain columns, app/visits/shown.py) spent a tenth of its Python building this statement anew.
    from app.visits.models import Visit
    return _records_in_hamlets(Visit, scope).where(Visit.id == sa.bindparam("visit_id"))


def get_visit_or_404(visit_id: int, user=None, *, need: Need | None = None):
    statement = _visit_by_id(_hamlet_scope(_user(user)))
    return found_or_abort(db.session.scalar(statement, {"visit_id": visit_id}), need, user)


def can_log_visits(user=None) -> bool:
    user = _user(user)
    return user.role in FIELD_ROLES and user.team_id is not None


def can_add_visits(user=None) -> bool:
    """Open the visit form: a team's leader and members for their team; province staff (and admins)
    for a team they name, to add a visit to a closed month."""
    return can_log_visits(user) or _user(user).role in ("province", "admin")


def can_edit_visit(visit, user=None) -> bool:
    """The author, the leader of the visit's team, the commune officer (and admins); above: read-only."""
    return _may_correct(visit.hamlet, visit.author_id, {visit.team_id} - {None}, user)


def _may_correct(place: AdminUnit, author_id: int | None, team_ids, user) -> bool:
    """A visit, class or shift seen by the user: its author, the leader of one of its teams, the commune officer
    (and admins)."""
    user = _user(user)
    if not can_see(place, user):
        return False
    if user.role == "admin" or author_id == user.id:
        return True
    if user.role == "team_leader":
        return user.team_id is not None and user.team_id in team_ids
    return user.role == "commune"


def can_edit_household(household, user=None) -> bool:
    user = _user(user)
    if user.role in FIELD_ROLES:
        from app.teams.models import team_hamlets
        return db.session.scalar(team_hamlet_ids(user).where(
            team_hamlets.c.hamlet_id == household.hamlet_id)) is not None
    return user.role in ("admin", "commune") and can_see(household.hamlet, user)


def can_edit_household_details(household, user=None) -> bool:
    """Edit a live household: not merged into another, not erased (an erased household that wants to
    be registered again is a new record)."""
    return (household.merged_into_id is None and household.erased_at is None
            and can_edit_household(household, user))


def can_move_household(household, user=None) -> bool:
    """Moving a household to another hamlet changes the hamlets' counts: the commune officer's call, for a live
    household."""
    return (household.merged_into_id is None and household.erased_at is None
            and can_merge_households(household, user))


def can_merge_households(household, user=None) -> bool:
    """Merging duplicates changes counts: the commune officer's call."""
    user = _user(user)
    return user.role in ("admin", "commune") and can_see(household.hamlet, user)


def can_manage_services(user=None) -> bool:
    return _user(user).role in ("admin", "province")


def can_manage_household_data(household, user=None) -> bool:
    """Export or erase a household's personal data (Decree 13/2023): its commune's officer, and admins.

    Team members, leaders and district or province staff may see the household but not do this.
    """
    user = _user(user)
    if household is None or not can_see(household.hamlet, user):
        return False
    if user.role == "admin":
        return True
    return user.role == "commune" and household.hamlet.parent_id == user.unit_id


# --- Accounts ------------------------------------------------------------------------------------
# Admins manage every account; province staff the district, commune and team accounts of their
# province. Commune officers give their teams' accounts from the member pages; nobody else manages any.

_MANAGED_ROLES = {
    "admin": ("admin", "province", "district", "commune", "team_leader", "team_member"),
    "province": ("district", "commune", "team_leader", "team_member"),
}


def manageable_roles(user=None) -> tuple[str, ...]:
    """The roles whose accounts the user may list, create, disable and reset (none for most)."""
    user = _user(user)
    return _MANAGED_ROLES.get(user.role, ()) if user.is_authenticated else ()


def can_manage_accounts(user=None) -> bool:
    return bool(manageable_roles(user))


def accounts_query(user=None) -> sa.Select:
    """Select User rows the user may manage: their area, roles below theirs."""
    from app.auth.models import User
    user = _user(user)
    return sa.select(User).where(in_scope(User.unit_id, user), User.role.in_(manageable_roles(user)))


def can_open_account(account_id: int | None, user=None) -> bool:
    """Whether the user may open the account's page (/users/ID, get_account_or_404 with own_too): one of
    accounts_query's. Asked without a query of those who manage no account, most users."""
    from app.auth.models import User
    user = _user(user)
    if account_id is None or not can_manage_accounts(user):
        return False
    return db.session.scalar(accounts_query(user).with_only_columns(User.id).where(User.id == account_id)) is not None


def get_account_or_404(account_id: int, user=None, *, own_too: bool = False):
    """An account the user manages; 404 outside their area, 403 for their own (no locking oneself out)
    unless `own_too` (its page, which reads and changes nothing)."""
    from app.auth.models import User
    user = _user(user)
    if not can_manage_accounts(user):
        abort(403)
    return found_or_abort(db.session.scalar(accounts_query(user).where(User.id == account_id)),
                          None if own_too else (lambda account, user: account.id != user.id), user)


def assignable_units(role: str, user=None) -> sa.Select:
    """Units in the user's area at the level an account of `role` is bound to (admins: a province)."""
    from app.auth.models import ROLE_LEVELS
    return units_query(user).where(AdminUnit.level.in_(ROLE_LEVELS.get(role, ("province",))),
                                   AdminUnit.retired_on.is_(None))


# --- Classes, one-stop-centre shifts, dossier totals -----------------------------------------------
# Staff read those of their subtree; a team reads its own (a class taught with another team is both
# teams'). The author, the leader of one of its teams and the commune officer correct or delete them.

def classes_query(user=None) -> sa.Select:
    """Those of the user's area, and of the communes a reorganization ended into it, as shifts_query."""
    from app.activities.models import Class, class_teams
    return _commune_rows(Class, user, lambda team_id: Class.id.in_(
        sa.select(class_teams.c.class_id).where(class_teams.c.team_id == team_id)), former=True)


def get_class_or_404(class_id: int, user=None, *, need: Need | None = None):
    from app.activities.models import Class
    return found_or_abort(db.session.scalar(classes_query(user).where(Class.id == class_id)), need, user)


def shifts_query(user=None) -> sa.Select:
    """Those of the user's area, and of the communes a reorganization ended into it: a shift stays on the commune
    it was held in, which no hamlet carried into the new communes."""
    from app.activities.models import CentreShift
    return _commune_rows(CentreShift, user, lambda team_id: CentreShift.team_id == team_id, former=True)


def former_communes_in_scope(user=None) -> sa.Select:
    """The ids of the communes a reorganization ended whose every successor today (through those a later plan ended
    in turn: app.units.history.successions_now) lies in the user's area: their records are the history of the
    communes that took them in (a split commune's only for those who hold all its parts, as its pages:
    can_see_in_time)."""
    from app.units.history import successions_now
    now = successions_now().subquery()
    inside = sa.case((in_scope(now.c.new_id, user), 1), else_=0)
    return (sa.select(now.c.old_id).join(AdminUnit, AdminUnit.id == now.c.old_id)
            .where(AdminUnit.level == "commune").group_by(now.c.old_id)
            .having(sa.func.min(inside) == 1))


def get_shift_or_404(shift_id: int, user=None, *, need: Need | None = None):
    from app.activities.models import CentreShift
    return found_or_abort(db.session.scalar(shifts_query(user).where(CentreShift.id == shift_id)), need, user)


def can_log_activities(user=None) -> bool:
    """Classes and shifts are logged by the team that held them, as visits are."""
    return can_log_visits(user)


def can_edit_activity(record, team_ids, user=None) -> bool:
    """A class or shift: its author, the leader of one of its teams, its commune's officer, admins; no one once its
    commune has ended. A reorganization's old commune's records are the history of the communes that took it in,
    kept as they were logged, as a closed month's are: its teams log what comes after in their commune now."""
    if record.commune.retired_on is not None:
        return False
    return _may_correct(record.commune, record.created_by_id, team_ids, user)


def can_reorganize(province: AdminUnit, user=None) -> bool:
    """A reorganization plan for the province: its staff (and admins bound to it)."""
    user = _user(user)
    return user.role in ("province", "admin") and province.level == "province" and can_see(province, user)


def plan_bound_to(province: AdminUnit, user=None) -> AdminUnit | None:
    """The one province a reorganization plan of the user may change: province staff their own (a plan whose
    lines name units of another province, or which merges several, is refused by line); None for an
    administrator, who applies any plan, one merging several provinces too."""
    return None if _user(user).role == "admin" else province


def can_keep_topics(user=None) -> bool:
    """The province's own class topics: its staff (and admins with a unit)."""
    user = _user(user)
    return user.role in ("province", "admin") and user.unit is not None


def can_record_dossiers(commune: AdminUnit, user=None) -> bool:
    """The commune's total dossiers of a month: its officer (and admins). Unlike its classes and shifts, an ended
    commune's totals are still an admin's to enter, for the months it stood (the form refuses the others): a month's
    total comes once the month is over, so its last month's comes after the reorganization, and no other commune
    may take it (the new one holds no month from before it existed)."""
    user = _user(user)
    return user.role in ("admin", "commune") and commune.level == "commune" and can_see(commune, user)


# --- Areas ---------------------------------------------------------------------------------------
# A province groups its communes into areas; its staff (and admins) make and change them.

def can_manage_areas(province: AdminUnit, user=None) -> bool:
    user = _user(user)
    if province is None or province.level != "province" or not can_see(province, user):
        return False
    return user.role == "admin" or (user.role == "province" and user.unit_id == province.id)


# --- Units of the map as it was ------------------------------------------------------------------
# A unit that ended in a reorganization lies outside today's tree, yet its months are the past of
# units the user now sees. The user may read it when everything it held on its last day (the
# hamlets, which moved whole) now lies in their area: a province's staff read their old province,
# an area officer the old district the area replaced, a commune officer the old communes merged
# into theirs, but not an old commune split with another commune's area.

def can_see_in_time(unit: AdminUnit | None, user=None) -> bool:
    if unit is None:
        return False
    if can_see(unit, user):
        return True
    if unit.retired_on is None:
        return False
    from app.units.history import held_on_last_day
    root = root_unit(user)
    held = held_on_last_day(unit)
    return bool(held) and all(AdminUnit.path_within(path, root.path) for path in held)


def get_unit_in_time_or_404(unit_id: int, user=None) -> AdminUnit:
    """A unit of today's area, or of the map as it was (can_see_in_time)."""
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None or not can_see_in_time(unit, user):
        abort(404)
    return unit
