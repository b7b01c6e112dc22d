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
