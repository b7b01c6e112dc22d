"""Access in one place: which administrative units the signed-in user may see and change.

Every view that lists or loads records asks this module; no view filters by unit on its own.
Records outside the user's subtree answer 404, so their existence is not revealed.
"""
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.extensions import db
from app.units.models import AdminUnit

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
    q = sa.select(AdminUnit.id)
    if root is not None:
        q = q.where(AdminUnit.path.startswith(root.path, autoescape=True))
    return q


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
        q = q.where(AdminUnit.path.startswith(root.path, autoescape=True))
    return q


def can_see(unit: AdminUnit | None, user=None) -> bool:
    if unit is None:
        return False
    root = root_unit(user)
    return root is None or unit.path.startswith(root.path)


def get_unit_or_404(unit_id: int, user=None) -> AdminUnit:
    unit = db.session.scalar(units_query(user).where(AdminUnit.id == unit_id))
    if unit is None:
        abort(404)
    return unit


def get_unit_and_ancestors_or_404(unit_id: int, user=None) -> tuple[AdminUnit, list[AdminUnit]]:
    """The unit and, root first, the units above it that the user sees (for breadcrumbs): one query."""
    from app.coverage.models import UnitAncestor
    found = list(db.session.scalars(
        sa.select(AdminUnit).join(UnitAncestor, UnitAncestor.ancestor_id == AdminUnit.id)
        .where(UnitAncestor.unit_id == unit_id)))
    unit = next((u for u in found if u.id == unit_id), None)
    if unit is None or not can_see(unit, user):
        abort(404)
    above = sorted((u for u in found if u.id != unit_id and can_see(u, user)), key=lambda u: len(u.path))
    return unit, above


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


def roles_required(*roles):
    """403 unless the signed-in user holds one of the roles (login is checked first)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


# --- Teams and members -------------------------------------------------------------------------
# Staff see the teams of their subtree; a team leader or member sees only their own team, since a
# member list holds personal data (names, phone numbers) that other teams do not need.

def teams_query(user=None) -> sa.Select:
    """Select Team rows the user may read; callers add their own filters and order."""
    from app.teams.models import Team
    user = _user(user)
    q = sa.select(Team).where(in_scope(Team.commune_id, user))
    if user.role in FIELD_ROLES:
        q = q.where(Team.id == (user.team_id or -1))
    return q


def team_ids_in_scope(user=None) -> sa.Select:
    from app.teams.models import Team
    return teams_query(user).with_only_columns(Team.id)


def get_team_or_404(team_id: int, user=None):
    from app.teams.models import Team
    team = db.session.scalar(teams_query(user).where(Team.id == team_id))
    if team is None:
        abort(404)
    return team


def members_query(user=None) -> sa.Select:
    """Members who were ever in a team the user may read (their history goes with them)."""
    from app.teams.models import Member, Membership
    return sa.select(Member).where(Member.id.in_(
        sa.select(Membership.member_id).where(Membership.team_id.in_(team_ids_in_scope(user)))))


def get_member_or_404(member_id: int, user=None):
    from app.teams.models import Member
    member = db.session.scalar(members_query(user).where(Member.id == member_id))
    if member is None:
        abort(404)
    return member


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
# --- Households and visits (issue 4) -------------------------------------------------------------
# Team leaders and members see the hamlets their team serves; staff see their subtree as above.

def team_hamlet_ids(user=None) -> sa.Select:
    """The hamlets of the user's team (none when the account has no team)."""
    from app.teams.models import team_hamlets
    user = _user(user)
    return sa.select(team_hamlets.c.hamlet_id).where(team_hamlets.c.team_id == user.team_id)


def team_hamlets_query(user=None) -> sa.Select:
    """Select the hamlets of the user's team that lie in their area (what a team's progress covers)."""
    return units_query(user).where(AdminUnit.level == "hamlet", AdminUnit.id.in_(team_hamlet_ids(user)))


def in_hamlet_scope(hamlet_id_column, user=None):
    """WHERE clause for records that live in a hamlet: the unit subtree, narrowed to the team's hamlets."""
    user = _user(user)
    clause = in_scope(hamlet_id_column, user)
    if user.role in FIELD_ROLES:
        clause = sa.and_(clause, hamlet_id_column.in_(team_hamlet_ids(user)))
    return clause


def households_query(user=None) -> sa.Select:
    from app.households.models import Household
    return sa.select(Household).where(in_hamlet_scope(Household.hamlet_id, user))


def visits_query(user=None) -> sa.Select:
    from app.visits.models import Visit
    return sa.select(Visit).where(in_hamlet_scope(Visit.hamlet_id, user))


def _household_among(lock: bool) -> tuple[sa.Select, sa.Select]:
    """households_query()'s rules as two statements built once (staff; field users), for the
    lookup every visit POST makes: the id, the hamlets asked about, the user's subtree by path
    prefix and, for field users, their team's hamlets. With `lock` (PostgreSQL), the household's
    visit lock is taken in the same round trip (unless it was merged: its visits go elsewhere)."""
    from app.households.models import Household
    from app.teams.models import team_hamlets
    units = AdminUnit.__table__.c
    staff = sa.select(Household).where(
        Household.id == sa.bindparam("household_id"),
        Household.hamlet_id.in_(sa.bindparam("hamlet_ids", expanding=True)),
        Household.hamlet_id.in_(sa.select(units.id).where(units.path.like(sa.bindparam("subtree")))))
    if lock:
        from app.visits.services import HOUSEHOLD_LOCK
        staff = staff.add_columns(sa.case((Household.merged_into_id.is_(None),
                                           sa.func.pg_advisory_xact_lock(HOUSEHOLD_LOCK, Household.id))))
    field = staff.where(Household.hamlet_id.in_(
        sa.select(team_hamlets.c.hamlet_id).where(team_hamlets.c.team_id == sa.bindparam("team_id"))))
    return staff, field


_HOUSEHOLD_AMONG: dict[bool, tuple[sa.Select, sa.Select]] = {}


def household_among(household_id: int, hamlet_ids, user=None, lock: bool = False):
    """The household with this id if it lives in one of these hamlets and in the user's scope.

    `lock`: about to log a visit to it, so on PostgreSQL take its lock (`lock_households`) now,
    which saves that statement a round trip."""
    from app.visits.services import held_household_locks
    lock = lock and db.session.get_bind().dialect.name == "postgresql"
    if lock not in _HOUSEHOLD_AMONG:
        _HOUSEHOLD_AMONG[lock] = _household_among(lock)
    user = _user(user)
    root = root_unit(user)
    # Paths are ids and slashes ("/1/7/42/"), so a prefix needs no LIKE escaping.
    params = {"household_id": household_id, "hamlet_ids": list(hamlet_ids),
              "subtree": (root.path if root is not None else "") + "%"}
    if user.role in FIELD_ROLES:
        household = db.session.scalar(_HOUSEHOLD_AMONG[lock][1], params | {"team_id": user.team_id})
    else:
        household = db.session.scalar(_HOUSEHOLD_AMONG[lock][0], params)
    if lock and household is not None and household.merged_into_id is None:
        held_household_locks().add(household.id)
    return household


def get_household_or_404(household_id: int, user=None):
    from app.households.models import Household
    household = db.session.scalar(households_query(user).where(Household.id == household_id))
    if household is None:
        abort(404)
    return household


def get_visit_or_404(visit_id: int, user=None):
    from app.visits.models import Visit
    visit = db.session.scalar(visits_query(user).where(Visit.id == visit_id))
    if visit is None:
        abort(404)
    return visit


def can_log_visits(user=None) -> bool:
    user = _user(user)
    return user.role in FIELD_ROLES and user.team_id is not None


def can_edit_visit(visit, user=None) -> bool:
    """The author, the leader of the visit's team, the commune officer (and admins); above: read-only."""
    user = _user(user)
    if not can_see(visit.hamlet, user):
        return False
    if user.role == "admin" or visit.author_id == user.id:
        return True
    if user.role == "team_leader":
        return visit.team_id is not None and visit.team_id == user.team_id
    return user.role == "commune"


def can_edit_household(household, user=None) -> bool:
    user = _user(user)
    if user.role in FIELD_ROLES:
        from app.teams.models import team_hamlets
        return db.session.scalar(team_hamlet_ids(user).where(
            team_hamlets.c.hamlet_id == household.hamlet_id)) is not None
    return user.role in ("admin", "commune") and can_see(household.hamlet, user)


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


def get_account_or_404(account_id: int, user=None):
    """An account the user manages; 404 outside their area, 403 for their own (no locking oneself out)."""
    from app.auth.models import User
    user = _user(user)
    if not can_manage_accounts(user):
        abort(403)
    account = db.session.scalar(accounts_query(user).where(User.id == account_id))
    if account is None:
        abort(404)
    if account.id == user.id:
        abort(403)
    return account


def assignable_units(role: str, user=None) -> sa.Select:
    """Units in the user's area at the level an account of `role` is bound to (admins: a province)."""
    from app.auth.models import ROLE_LEVELS
    return units_query(user).where(AdminUnit.level.in_(ROLE_LEVELS.get(role, ("province",))),
                                   AdminUnit.retired_on.is_(None))


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
    from datetime import timedelta

    from app.units.history import map_on
    root = root_unit(user)
    last = map_on(unit, unit.retired_on - timedelta(days=1))
    held = [last.units[u] for u in last.leaves_below(unit.id) if u != unit.id]
    return bool(held) and all(h.path.startswith(root.path) for h in held)


def get_unit_in_time_or_404(unit_id: int, user=None, with_ancestors: bool = False):
    """A unit of today's area, or of the map as it was (can_see_in_time); with its ancestors that
    the user may read, root first, for breadcrumbs."""
    if with_ancestors:
        from app.coverage.models import UnitAncestor
        found = list(db.session.scalars(
            sa.select(AdminUnit).join(UnitAncestor, UnitAncestor.ancestor_id == AdminUnit.id)
            .where(UnitAncestor.unit_id == unit_id, UnitAncestor.until.is_(None))))
        unit = next((u for u in found if u.id == unit_id), None)
    else:
        unit = db.session.get(AdminUnit, unit_id)
    if unit is None or not can_see_in_time(unit, user):
        abort(404)
    if not with_ancestors:
        return unit
    # Today's ancestors in one query; an old unit's are old units too, each checked in time.
    seen = can_see if can_see(unit, user) else can_see_in_time
    above = sorted((u for u in found if u.id != unit_id and seen(u, user)), key=lambda u: len(u.path))
    return unit, above
